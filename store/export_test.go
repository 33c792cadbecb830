package store

import (
	"reflect"
	"sync/atomic"

	"github.com/gantry-sdk/gantry/apis"
)

// Hooks for the tests of shared watches (watchhub.go).

// SetPrivateWatches makes every watch of s read a KV watch of its own, as
// before watches were shared: the reference the shared path is compared to.
// Call it before the first watch.
func SetPrivateWatches(s *ObjectStore) { s.hubs.private = true }

// SetWatchBuffer sets how many events a watcher on a shared watch may have
// pending. Call it before the first watch.
func SetWatchBuffer(s *ObjectStore, n int) { s.hubs.buffer = n }

// WatchHubs returns how many shared watches s runs and how many watchers are on them.
func WatchHubs(s *ObjectStore) (hubs, watchers int) {
	s.hubs.mu.Lock()
	defer s.hubs.mu.Unlock()
	for _, h := range s.hubs.m {
		hubs++
		h.mu.Lock()
		watchers += len(h.all)
		h.mu.Unlock()
	}
	return hubs, watchers
}

// WatchFallbacks returns how many times a watcher left a shared watch to read
// on privately (its buffer was full, or the shared watch ended).
func WatchFallbacks(s *ObjectStore) int64 { return s.hubs.fallbacks.Load() }

// CachedDecoded returns the shared decoded object the store keeps for an
// object of kind k, with the bytes it stands for, if any.
func (s *ObjectStore) CachedDecoded(k *apis.KindInfo, key apis.Key) (apis.Object, []byte, bool) {
	s.decMu.RLock()
	defer s.decMu.RUnlock()
	e, ok := s.decCache[s.objectKey(k, key)]
	return e.obj, e.data, ok
}

// VerifyWritten makes s check every written object it keeps as decoded
// against a decoding of the written bytes, reporting a difference with
// fail; it returns a counter of the objects checked.
func (s *ObjectStore) VerifyWritten(fail func(format string, args ...any)) *atomic.Int64 {
	var n atomic.Int64
	s.verifyWritten = func(kept, decoded apis.Object, err error) {
		n.Add(1)
		if err != nil {
			fail("decoding a written %T: %v", kept, err)
			return
		}
		if !reflect.DeepEqual(kept, decoded) {
			fail("kept %T differs from its decoding:\nkept    %#v\ndecoded %#v", kept, kept, decoded)
		}
	}
	return &n
}

// DecodedForm is decodedForm for tests.
func DecodedForm(obj apis.Object) bool { return decodedForm(reflect.ValueOf(obj)) }
