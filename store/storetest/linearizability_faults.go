package storetest

import (
	"context"
	"sync"

	"github.com/gantry-sdk/gantry/store"
)

// Deliberately broken KVs, to prove that CheckLinearizability finds the
// violations it is meant to find: a check that cannot fail proves nothing.

// StaleReads wraps kv with a read cache that is never invalidated: each
// current-revision Range of a prefix returns the first answer for it, so
// reads miss every later write (as a follower serving reads without
// checking its leader would).
func StaleReads(kv store.KV) store.KV {
	return &staleReads{KV: kv, cache: make(map[string]store.Page)}
}

type staleReads struct {
	store.KV
	mu    sync.Mutex
	cache map[string]store.Page
}

func (s *staleReads) Range(ctx context.Context, prefix string, opts store.RangeOptions) (store.Page, error) {
	if opts != (store.RangeOptions{}) {
		return s.KV.Range(ctx, prefix, opts)
	}
	s.mu.Lock()
	page, ok := s.cache[prefix]
	s.mu.Unlock()
	if ok {
		return page, nil
	}
	page, err := s.KV.Range(ctx, prefix, opts)
	if err == nil {
		s.mu.Lock()
		s.cache[prefix] = page
		s.mu.Unlock()
	}
	return page, err
}

// IgnoreCompares wraps kv so that every Txn writes without checking its
// compares: concurrent updates from the same revision all succeed, and the
// last one silently overwrites the others (lost updates).
func IgnoreCompares(kv store.KV) store.KV { return ignoreCompares{kv} }

type ignoreCompares struct{ store.KV }

func (i ignoreCompares) Txn(ctx context.Context, txn store.Txn) (int64, error) {
	return i.KV.Txn(ctx, store.Txn{Then: txn.Then})
}
