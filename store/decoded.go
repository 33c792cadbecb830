package store

import (
	"bytes"
	"context"
	"unsafe"

	"github.com/gantry-sdk/gantry/apis"
)

// DefaultDecodedCacheSize is how many decoded objects an ObjectStore keeps
// unless Options.DecodedCacheSize says otherwise.
const DefaultDecodedCacheSize = 1 << 20

// decodedEntry is the newest decoded state of one key that the store has
// seen: the bytes it was decoded from (to prove a later read is the same
// value) and the object, which is shared and never modified.
type decodedEntry struct {
	modRevision int64
	data        []byte
	obj         apis.Object
	// prev is the value this one replaced, kept for the watch event of the
	// replacing write, which reads it as the event's previous value.
	prev *decodedEntry
}

// replacing returns e to store over old (the key's entry, if ok), keeping
// old, without its own prev, as e.prev.
func (e decodedEntry) replacing(old decodedEntry, ok bool) decodedEntry {
	if ok && old.modRevision < e.modRevision {
		old.prev = nil
		e.prev = &old
	}
	return e
}

// shared returns the object stored at key as of modRevision rev, decoded
// from data at most once for the whole store: writes, Get, List and Watch
// of the same value share one decode, which is most of what a read costs
// with a JSON codec (the kube-apiserver's watch cache does the same). The
// result is shared by every caller: read it, or hand out a copy
// (apis.DeepCopy, about 30x cheaper than decoding), never modify it.
//
// An entry is used only when its revision and bytes both match, so a value
// decoded for a dry run (which reuses the current revision with other
// bytes) never stands for the stored one. Each key keeps its newest
// revision only; past revisions are decoded each time they are read.
func (s *ObjectStore) shared(k *apis.KindInfo, key string, data []byte, rev int64) (apis.Object, error) {
	if rev <= 0 || s.decMax <= 0 {
		return s.decodeNew(k, key, data, rev)
	}
	s.decMu.RLock()
	e, ok := s.decCache[key]
	_, expected := s.decPending[key]
	s.decMu.RUnlock()
	if ok && e.modRevision == rev && len(e.data) == len(data) && unsafe.SliceData(e.data) == unsafe.SliceData(data) {
		return e.obj, nil // the very bytes decoded before: the common case of a KV that shares its values
	}
	if ok && e.prev != nil && e.prev.modRevision == rev && bytes.Equal(e.prev.data, data) {
		return e.prev.obj, nil
	}
	if ok && e.modRevision == rev && bytes.Equal(e.data, data) {
		if unsafe.SliceData(e.data) != unsafe.SliceData(data) {
			// Keep the KV's copy of the bytes (which it keeps anyway)
			// rather than the writer's, so the entry costs no second copy.
			s.decMu.Lock()
			if cur, ok := s.decCache[key]; ok && cur.modRevision == rev {
				cur.data = data
				s.decCache[key] = cur
			}
			s.decMu.Unlock()
		}
		return e.obj, nil
	}
	if expected {
		if obj, ok := s.takeExpected(k, key, data, rev); ok {
			return obj, nil // a write under way, seen before its writer heard back
		}
	}
	obj, err := s.decodeNew(k, key, data, rev)
	if err != nil {
		return nil, err
	}
	s.decMu.Lock()
	if cur, ok := s.decCache[key]; !ok || cur.modRevision <= rev {
		if !ok && len(s.decCache) >= s.decMax {
			// Full: drop an arbitrary entry (map order is random); it is
			// decoded again if read again.
			for victim := range s.decCache {
				delete(s.decCache, victim)
				break
			}
		}
		s.decCache[key] = decodedEntry{modRevision: rev, data: data, obj: obj}.replacing(cur, ok)
	}
	s.decMu.Unlock()
	return obj, nil
}

// forget drops key's decoded entry if it is older than rev, the revision
// that deleted the key.
func (s *ObjectStore) forget(key string, rev int64) {
	s.decMu.Lock()
	if e, ok := s.decCache[key]; ok && e.modRevision < rev {
		delete(s.decCache, key)
	}
	s.decMu.Unlock()
}

// SharedLister is implemented by stores that can list without copying.
// ListShared is List whose items are the store's own decoded objects,
// shared by every caller of ListShared, of Get's and Watch's internals, and
// of other ListShared calls: the caller must never modify them (nor let
// anyone else), only read them or copy them with apis.DeepCopy. It is for
// read-only caches such as informers, which then hold no copy of their own.
type SharedLister interface {
	ListShared(ctx context.Context, gvk apis.GroupVersionKind, opts ListOptions) (*ObjectList, error)
}

var _ SharedLister = (*ObjectStore)(nil)

// ListShared is List without the copy: see SharedLister for the contract.
func (s *ObjectStore) ListShared(ctx context.Context, gvk apis.GroupVersionKind, opts ListOptions) (*ObjectList, error) {
	return s.list(ctx, gvk, opts, true)
}

// SharedRanger is implemented by KVs that can range without copying values:
// RangeShared is Range whose values are the KV's own bytes, which never
// change and which the caller must never modify. Lists use it (they decode
// or copy what they return anyway), so a list copies no stored bytes, and
// the decoded cache proves an entry current by comparing pointers.
type SharedRanger interface {
	RangeShared(ctx context.Context, prefix string, opts RangeOptions) (Page, error)
}

// sharedChunk is how many keys sharedAll looks up under one read lock:
// few lock round trips, without holding writers off for a whole large list.
const sharedChunk = 1024

// sharedAll is shared for every entry of a page, in bulk: the decoded cache
// is read under one lock per chunk, and entries whose bytes equal the page's
// are switched to the page's bytes under one write lock per chunk when
// owned says they are the KV's own (so later lists compare pointers, and the
// writer's copy of the bytes can go). Misses are decoded one by one.
func (s *ObjectStore) sharedAll(k *apis.KindInfo, kvs []KeyValue, owned bool) ([]apis.Object, error) {
	out := make([]apis.Object, len(kvs))
	if s.decMax <= 0 {
		for i := range kvs {
			obj, err := s.decodeNew(k, kvs[i].Key, kvs[i].Value, kvs[i].ModRevision)
			if err != nil {
				return nil, err
			}
			out[i] = obj
		}
		return out, nil
	}
	var swaps, misses []int
	for lo := 0; lo < len(kvs); lo += sharedChunk {
		hi := min(lo+sharedChunk, len(kvs))
		swaps, misses = swaps[:0], misses[:0]
		s.decMu.RLock()
		for i := lo; i < hi; i++ {
			kv := &kvs[i]
			e, ok := s.decCache[kv.Key]
			switch {
			case !ok || kv.ModRevision <= 0 || e.modRevision != kv.ModRevision || len(e.data) != len(kv.Value):
				misses = append(misses, i)
			case unsafe.SliceData(e.data) == unsafe.SliceData(kv.Value):
				out[i] = e.obj
			case bytes.Equal(e.data, kv.Value):
				out[i] = e.obj
				if owned {
					swaps = append(swaps, i)
				}
			default:
				misses = append(misses, i)
			}
		}
		s.decMu.RUnlock()
		if len(swaps) > 0 {
			s.decMu.Lock()
			for _, i := range swaps {
				kv := &kvs[i]
				if cur, ok := s.decCache[kv.Key]; ok && cur.modRevision == kv.ModRevision && cur.obj == out[i] {
					cur.data = kv.Value
					s.decCache[kv.Key] = cur
				}
			}
			s.decMu.Unlock()
		}
		for _, i := range misses {
			obj, err := s.shared(k, kvs[i].Key, kvs[i].Value, kvs[i].ModRevision)
			if err != nil {
				return nil, err
			}
			out[i] = obj
		}
	}
	return out, nil
}
