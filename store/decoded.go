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
