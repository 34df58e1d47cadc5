// Package links implements permanent links: stable, revocable capabilities
// that stand in front of short-lived CloudFront signed URLs. A page, an
// email or an LMS export carries <issuer>/l/{token}; following it gets a
// fresh, window-stable signed URL for the link's resource, until the link
// expires or is revoked.
//
// # Tokens
//
// A token is an HMAC-SHA256 capability over the link's ID, resource, file
// name, caller and expiry, tagged with the ID of the link key that minted
// it (see token.go for the wire format). A Keyring holds the link keys: the
// first mints and every one verifies, so a key rotates by putting the new
// key first and keeping the old one until the links it minted have expired
// (at most Options.MaxTTL after it stopped minting). MACs are compared in
// constant time. Link keys come from KeyFile or KeyEnv (base64 secrets of
// at least 256 bits); a Key never prints its secret.
//
// # Links and stores
//
// A Manager mints (Mint), follows (Follow), shows (Get) and revokes
// (Revoke) links. Links and their revocations live behind the Store
// interface: FileStore, one JSON file rewritten crash-safely (temporary
// file, fsync, rename) for a single process, and DynamoDBStore, a table
// shared by replicas (conditional writes, strongly consistent reads, a TTL
// attribute). Both pass linkstest.RunConformance. Follow refuses a link
// whose store cannot be read rather than follow it unchecked.
//
// The package knows nothing of callers' scopes or of signing: the HTTP
// layer checks the caller's scope with the issuer when a link is minted
// and again each time it is followed.
//
// # Concurrency and errors
//
// Keyring, Manager, FileStore and DynamoDBStore are safe for concurrent
// use. Errors wrap ErrMalformed, ErrUnknownKey, ErrBadMAC, ErrExpired,
// ErrRevoked, ErrNotFound, ErrExists, ErrStore, ErrExpiry, ErrTooLong or
// ErrKey; test for them with errors.Is. No error, log line or printed value
// holds a token or a key secret: logs name links by ID.
package links
