package edge

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Object is what an origin answered: a status (200, or the origin's error),
// the headers the edge passes on, and the body.
type Object struct {
	Status int
	Header http.Header // Content-Type, ETag, Last-Modified, Content-Disposition, …
	Body   []byte
}

// An Origin serves objects to the edge. path is the raw request path
// (percent-escapes undecoded); query holds only the query strings the
// behavior forwards (its cache_query_strings). Implementations must be safe
// for concurrent use.
type Origin interface {
	Fetch(ctx context.Context, path, query string) (*Object, error)
}

// MaxObjectSize is the largest object the edge fetches and caches: it is a
// development edge, and holds whole objects in memory.
const MaxObjectSize = 64 << 20

// ErrTooLarge is returned by an origin for an object over MaxObjectSize.
var ErrTooLarge = errors.New("edge: object larger than MaxObjectSize")

//go:embed content
var sampleContent embed.FS

// SampleContent is the content the edge serves when no origin is
// configured: an ebook, an HLS course and an asset matching the example
// behaviors.
func SampleContent() fs.FS {
	sub, _ := fs.Sub(sampleContent, "content")
	return sub
}

// DirOrigin serves objects from a file system (os.DirFS of a directory, or
// SampleContent), as S3 would: the path is percent-decoded into an object
// key, the ETag is the MD5 of the body in quotes, and a
// response-content-disposition query string sets Content-Disposition.
type DirOrigin struct {
	FS fs.FS
}

// Fetch implements Origin.
func (o DirOrigin) Fetch(_ context.Context, rawPath, query string) (*Object, error) {
	key, err := url.PathUnescape(strings.TrimPrefix(rawPath, "/"))
	if err != nil || !fs.ValidPath(key) || key == "." {
		return s3Error(http.StatusBadRequest, "InvalidURI", "Couldn't parse the specified URI."), nil
	}
	f, err := o.FS.Open(key)
	if err != nil {
		return s3Error(http.StatusNotFound, "NoSuchKey", "The specified key does not exist."), nil
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.IsDir() {
		return s3Error(http.StatusNotFound, "NoSuchKey", "The specified key does not exist."), nil
	}
	if st.Size() > MaxObjectSize {
		return nil, fmt.Errorf("%w: %s is %d bytes", ErrTooLarge, key, st.Size())
	}
	body, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("edge: read %s: %w", key, err)
	}
	sum := md5.Sum(body)
	h := http.Header{}
	h.Set("ETag", `"`+hex.EncodeToString(sum[:])+`"`)
	if mt := st.ModTime(); !mt.IsZero() {
		h.Set("Last-Modified", mt.UTC().Format(http.TimeFormat))
	}
	ct := mime.TypeByExtension(path.Ext(key))
	switch path.Ext(key) {
	case ".m3u8":
		ct = "application/vnd.apple.mpegurl"
	case ".ts":
		ct = "video/mp2t"
	}
	if ct == "" {
		ct = "binary/octet-stream" // what S3 stores without a type
	}
	h.Set("Content-Type", ct)
	if q, err := url.ParseQuery(query); err == nil {
		if cd := q.Get("response-content-disposition"); cd != "" {
			h.Set("Content-Disposition", cd)
		}
	}
	return &Object{Status: http.StatusOK, Header: h, Body: body}, nil
}

func s3Error(status int, code, msg string) *Object {
	h := http.Header{}
	h.Set("Content-Type", "application/xml")
	body := `<?xml version="1.0" encoding="UTF-8"?>` + "\n<Error><Code>" + code + "</Code><Message>" + msg + "</Message></Error>"
	return &Object{Status: status, Header: h, Body: []byte(body)}
}

// S3Origin fetches objects from an S3-compatible endpoint (path-style
// requests: Endpoint/Bucket/key), signing each request with SigV4 as
// CloudFront's Origin Access Control does, so a bucket that refuses
// anonymous reads still serves through the edge. Cookies and the viewer's
// headers are never forwarded.
type S3Origin struct {
	Endpoint    string // such as http://127.0.0.1:5000
	Bucket      string
	Region      string // default us-east-1
	Credentials aws.Credentials
	Client      *http.Client // nil: a client with a 30 s timeout
	// Now is the signing clock; nil means time.Now.
	Now func() time.Time
}

// emptySHA256 is the payload hash of a GET.
var emptySHA256 = func() string { s := sha256.Sum256(nil); return hex.EncodeToString(s[:]) }()

// passHeaders are the origin response headers the edge keeps.
var passHeaders = []string{"Content-Type", "ETag", "Last-Modified", "Content-Disposition", "Content-Encoding", "Content-Language"}

// Fetch implements Origin.
func (o *S3Origin) Fetch(ctx context.Context, rawPath, query string) (*Object, error) {
	u := strings.TrimSuffix(o.Endpoint, "/") + "/" + o.Bucket + rawPath
	if query != "" {
		u += "?" + query
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("edge: S3 origin request: %w", err)
	}
	// The path is already percent-encoded as S3 expects: sign it as is.
	req.URL.Opaque = "//" + req.URL.Host + "/" + o.Bucket + rawPath
	req.Header.Set("X-Amz-Content-Sha256", emptySHA256)
	region := o.Region
	if region == "" {
		region = "us-east-1"
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	signer := v4.NewSigner(func(so *v4.SignerOptions) { so.DisableURIPathEscaping = true })
	if err := signer.SignHTTP(ctx, o.Credentials, req, emptySHA256, "s3", region, now()); err != nil {
		return nil, fmt.Errorf("edge: SigV4 sign: %w", err)
	}
	client := o.Client
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("edge: S3 origin: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxObjectSize+1))
	if err != nil {
		return nil, fmt.Errorf("edge: S3 origin: read body: %w", err)
	}
	if len(body) > MaxObjectSize {
		return nil, fmt.Errorf("%w: %s", ErrTooLarge, rawPath)
	}
	h := http.Header{}
	for _, k := range passHeaders {
		if v := resp.Header.Get(k); v != "" {
			h.Set(k, v)
		}
	}
	return &Object{Status: resp.StatusCode, Header: h, Body: bytes.Clone(body)}, nil
}
