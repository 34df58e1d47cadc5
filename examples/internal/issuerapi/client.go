// Package issuerapi is the small client the example apps use to call the
// cfissuer HTTP API (docs/openapi.json): signed URLs, permanent links,
// signed cookies and their sign-out. It is what an app copies; it holds the API key and never
// logs it, nor any URL or cookie it gets back (they are credentials).
//
// A Client is safe for concurrent use.
package issuerapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// Client calls one cfissuer.
type Client struct {
	// BaseURL is the issuer's address, such as http://127.0.0.1:8080.
	BaseURL string
	// APIKey is "id.secret": a credential.
	APIKey string
	// HTTP is the client used; nil means one with a 10-second timeout.
	HTTP *http.Client
}

// Error is the issuer's error answer.
type Error struct {
	Status  int
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

func (e *Error) Error() string {
	return fmt.Sprintf("issuer: %d %s: %s", e.Status, e.Code, e.Message)
}

// URLRequest asks for one signed URL.
type URLRequest struct {
	Path     string `json:"path"`
	Filename string `json:"filename,omitempty"`
}

// URL is a signed URL and when it expires.
type URL struct {
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
	ExpiresIn int64     `json:"expires_in"`
	Status    int       `json:"status,omitempty"`
	Error     *Error    `json:"error,omitempty"`
}

// URL signs one URL.
func (c *Client) URL(ctx context.Context, r URLRequest) (*URL, error) {
	var out URL
	if _, err := c.do(ctx, http.MethodPost, "/v1/urls", r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// URLs signs several URLs in one request, in order.
func (c *Client) URLs(ctx context.Context, rs []URLRequest) ([]URL, error) {
	var out struct {
		Items []URL `json:"items"`
	}
	if _, err := c.do(ctx, http.MethodPost, "/v1/urls", struct {
		Items []URLRequest `json:"items"`
	}{rs}, &out); err != nil {
		return nil, err
	}
	if len(out.Items) != len(rs) {
		return nil, fmt.Errorf("issuer: asked for %d URLs, got %d", len(rs), len(out.Items))
	}
	for i, u := range out.Items {
		if u.Error != nil {
			u.Error.Status = u.Status
			return nil, fmt.Errorf("item %d (%s): %w", i, rs[i].Path, u.Error)
		}
	}
	return out.Items, nil
}

// Link is a permanent link: a stable address (<issuer>/l/{token}) that
// redirects to a fresh signed URL each time it is followed, until it
// expires or is revoked. Link is a capability: never log it.
type Link struct {
	ID        string    `json:"id"`
	Link      string    `json:"link"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Link mints a permanent link to path, saved as filename when given.
func (c *Client) Link(ctx context.Context, r URLRequest) (*Link, error) {
	var out Link
	if _, err := c.do(ctx, http.MethodPost, "/v1/links", r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Cookies are signed cookies: the Set-Cookie headers to relay to the
// viewer, and when to ask again.
type Cookies struct {
	SetCookies   []*http.Cookie
	ExpiresAt    time.Time `json:"expires_at"`
	ExpiresIn    int64     `json:"expires_in"`
	RefreshAfter time.Time `json:"refresh_after"`
}

// RefreshIn is how many seconds from the issuer's now the cookies should
// be refreshed: refresh_after, relative, so a page can set a timer
// whatever its own clock says.
func (c *Cookies) RefreshIn() int64 {
	now := c.ExpiresAt.Add(-time.Duration(c.ExpiresIn) * time.Second)
	return max(1, int64(c.RefreshAfter.Sub(now)/time.Second))
}

// Cookies asks for signed cookies for every path under pathPrefix (a
// custom policy with a wildcard, such as /courses/go-101/).
func (c *Client) Cookies(ctx context.Context, pathPrefix string) (*Cookies, error) {
	var out Cookies
	resp, err := c.do(ctx, http.MethodPost, "/v1/cookies", map[string]string{"path_prefix": pathPrefix}, &out)
	if err != nil {
		return nil, err
	}
	out.SetCookies = resp.Cookies()
	if len(out.SetCookies) == 0 {
		return nil, errors.New("issuer: no Set-Cookie in the cookies answer")
	}
	return &out, nil
}

// ClearCookies returns the Set-Cookie headers that delete the cookies of
// pathPrefix (sign-out).
func (c *Client) ClearCookies(ctx context.Context, pathPrefix string) ([]*http.Cookie, error) {
	resp, err := c.do(ctx, http.MethodDelete, "/v1/cookies?path_prefix="+url.QueryEscape(pathPrefix), nil, nil)
	if err != nil {
		return nil, err
	}
	return resp.Cookies(), nil
}

// do sends body as JSON and decodes a 200's or 201's JSON into out.
func (c *Client) do(ctx context.Context, method, path string, body, out any) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.APIKey)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("issuer: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, fmt.Errorf("issuer: %s %s: %w", method, path, err)
	}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		e := &Error{Status: resp.StatusCode}
		var wrap struct {
			Error *Error `json:"error"`
		}
		if json.Unmarshal(data, &wrap) == nil && wrap.Error != nil {
			e.Code, e.Message, e.Field = wrap.Error.Code, wrap.Error.Message, wrap.Error.Field
		}
		return nil, e
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return nil, fmt.Errorf("issuer: %s %s: %w", method, path, err)
		}
	}
	return resp, nil
}
