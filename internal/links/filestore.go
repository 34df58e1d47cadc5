package links

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// DefaultKeepExpired is how long a store keeps a link after it expires
// (FileOptions.KeepExpired, DynamoDBOptions.KeepExpired), so that GET
// /v1/links/{id} still answers "expired" for a while.
const DefaultKeepExpired = 7 * 24 * time.Hour

// FileName is the file a FileStore keeps in its folder.
const FileName = "links.json"

// FileOptions are a FileStore's optional settings; the zero value of each
// field is its documented default.
type FileOptions struct {
	// Now is the clock that decides which expired links to drop; nil means
	// time.Now.
	Now func() time.Time
	// KeepExpired: zero means DefaultKeepExpired.
	KeepExpired time.Duration
}

// A FileStore keeps links in one JSON file (FileName) in a folder, for a
// single issuer process. Every change rewrites the file crash-safely: a
// temporary file in the same folder is written, synced, renamed over the
// old one, and the folder synced, so after a crash the file holds either
// the state before or after the change, and a change is reported only
// once it is on disk. Reads are served from memory. Links expired for
// longer than KeepExpired are dropped at the next write.
//
// A FileStore is safe for concurrent use within one process. Two processes
// must not share one file (the last writer would win): run several
// replicas with the DynamoDB store.
type FileStore struct {
	path string
	now  func() time.Time
	keep time.Duration

	mu    sync.RWMutex // held for writing across each file rewrite
	links map[string]Link
}

type fileData struct {
	Version int        `json:"version"`
	Links   []fileLink `json:"links"`
}

type fileLink struct {
	ID       string    `json:"id"`
	Caller   string    `json:"caller"`
	Resource string    `json:"resource"`
	Filename string    `json:"filename,omitempty"`
	Note     string    `json:"note,omitempty"`
	KeyID    string    `json:"key_id"`
	Created  time.Time `json:"created"`
	Expires  time.Time `json:"expires"`
	Revoked  time.Time `json:"revoked,omitzero"`
}

// OpenFileStore opens (or, when missing, starts) the store in dir, which
// is created with mode 0700 if needed. A folder that cannot be created or
// takes no files (a read-only mount, another owner) is refused here, not
// at the first link minted.
func OpenFileStore(dir string, opts FileOptions) (*FileStore, error) {
	if opts.KeepExpired < 0 {
		return nil, errors.New("links: negative KeepExpired")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("%w: cannot create the folder %s: %w", ErrStore, dir, err)
	}
	// The same kind of write every save makes: a temporary file in dir.
	probe, err := os.CreateTemp(dir, "."+FileName+".*.probe")
	if err != nil {
		return nil, fmt.Errorf("%w: the folder %s is not writable: %w", ErrStore, dir, err)
	}
	probe.Close()
	os.Remove(probe.Name())
	s := &FileStore{path: filepath.Join(dir, FileName), now: opts.Now, keep: opts.KeepExpired, links: map[string]Link{}}
	if s.now == nil {
		s.now = time.Now
	}
	if s.keep == 0 {
		s.keep = DefaultKeepExpired
	}
	data, err := os.ReadFile(s.path)
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrStore, err)
	}
	var fd fileData
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if err := d.Decode(&fd); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrStore, s.path, err)
	}
	if fd.Version != 1 {
		return nil, fmt.Errorf("%w: %s: unknown version %d", ErrStore, s.path, fd.Version)
	}
	for _, fl := range fd.Links {
		s.links[fl.ID] = Link(fl)
	}
	return s, nil
}

// Create implements Store.
func (s *FileStore) Create(ctx context.Context, l Link) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.links[l.ID]; ok {
		return ErrExists
	}
	next := maps.Clone(s.links)
	next[l.ID] = l
	return s.commit(ctx, next)
}

// Get implements Store.
func (s *FileStore) Get(ctx context.Context, id string) (Link, error) {
	if err := ctx.Err(); err != nil {
		return Link{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	l, ok := s.links[id]
	if !ok {
		return Link{}, ErrNotFound
	}
	return l, nil
}

// Revoke implements Store.
func (s *FileStore) Revoke(ctx context.Context, id string, at time.Time) (Link, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.links[id]
	if !ok {
		return Link{}, ErrNotFound
	}
	if !l.Revoked.IsZero() {
		return l, nil
	}
	l.Revoked = at.UTC()
	next := maps.Clone(s.links)
	next[id] = l
	if err := s.commit(ctx, next); err != nil {
		return Link{}, err
	}
	return l, nil
}

// commit drops long-expired links from next, writes it, and only then
// makes it the store's state. s.mu is held.
func (s *FileStore) commit(ctx context.Context, next map[string]Link) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	cutoff := s.now().Add(-s.keep)
	fd := fileData{Version: 1, Links: make([]fileLink, 0, len(next))}
	for _, id := range slices.Sorted(maps.Keys(next)) {
		l := next[id]
		if l.Expires.Before(cutoff) {
			delete(next, id)
			continue
		}
		fd.Links = append(fd.Links, fileLink(l))
	}
	data, err := json.MarshalIndent(fd, "", " ")
	if err != nil {
		return fmt.Errorf("%w: %w", ErrStore, err)
	}
	if err := writeFileAtomic(s.path, append(data, '\n')); err != nil {
		return fmt.Errorf("%w: %w", ErrStore, err)
	}
	s.links = next
	return nil
}

// writeFileAtomic replaces path with data: temporary file, fsync, rename,
// fsync of the folder.
func writeFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.Remove(f.Name())
		}
	}()
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
