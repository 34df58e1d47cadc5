package denylist

import (
	"context"
	"maps"
	"sync"
)

// Memory is a Store in memory: the KeyValueStore of the local edge, where
// the issuer writes and the edge function (edge/cffunc) reads.
type Memory struct {
	mu    sync.RWMutex
	items map[string]string
}

// NewMemory returns an empty Memory store.
func NewMemory() *Memory { return &Memory{items: map[string]string{}} }

// Entries implements Store.
func (m *Memory) Entries(context.Context) (map[string]string, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return maps.Clone(m.items), nil
}

// Update implements Store.
func (m *Memory) Update(_ context.Context, puts map[string]string, deletes []string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range deletes {
		delete(m.items, k)
	}
	maps.Copy(m.items, puts)
	return nil
}

// Lookup returns a key's value, as the function's kvs.get does.
func (m *Memory) Lookup(key string) (string, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	v, ok := m.items[key]
	return v, ok
}
