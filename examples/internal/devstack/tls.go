package devstack

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"time"
)

// TLS is a test CA and one certificate it issued for the journeys' hosts,
// localhost and 127.0.0.1, made fresh in memory.
type TLS struct {
	// CAPEM is the CA certificate, for curl --cacert and ffmpeg -ca_file.
	CAPEM []byte
	// Pool holds the CA, for Go clients.
	Pool *x509.CertPool
	// SPKIHash is base64(SHA-256(SubjectPublicKeyInfo)) of the server
	// certificate, for Chromium's --ignore-certificate-errors-spki-list.
	SPKIHash string

	cert tls.Certificate
}

// NewTLS makes the CA and the server certificate.
func NewTLS() (*TLS, error) {
	caKey, err := ecKey()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	ca := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "cfissuer examples test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(30 * 24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(nil, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	ca, err = x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	leafKey, err := ecKey()
	if err != nil {
		return nil, err
	}
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: MediaHost},
		DNSNames:     []string{AppHost, MediaHost, "localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(30 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	leafDER, err := x509.CreateCertificate(nil, leaf, ca, &leafKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	parsed, err := x509.ParseCertificate(leafDER)
	if err != nil {
		return nil, err
	}
	spki := sha256.Sum256(parsed.RawSubjectPublicKeyInfo)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return &TLS{
		CAPEM:    pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		Pool:     pool,
		SPKIHash: base64.StdEncoding.EncodeToString(spki[:]),
		cert:     tls.Certificate{Certificate: [][]byte{leafDER, caDER}, PrivateKey: leafKey, Leaf: parsed},
	}, nil
}

// ServerConfig is the TLS configuration of every listener.
func (t *TLS) ServerConfig() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{t.cert}, MinVersion: tls.VersionTLS12}
}

// WriteCA writes the CA certificate to file, for curl and ffmpeg.
func (t *TLS) WriteCA(file string) error { return os.WriteFile(file, t.CAPEM, 0o644) }

// Client is an HTTP client that trusts the CA and dials each host:port in
// addrs (such as "media.example.test:443") at the address it maps to.
// It follows no redirects, so callers see each hop.
func (t *TLS) Client(addrs map[string]string) *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second}
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: t.Pool},
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if to, ok := addrs[addr]; ok {
				addr = to
			}
			return d.DialContext(ctx, network, addr)
		},
	}
	return &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}
