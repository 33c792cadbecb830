package store

import "github.com/gantry-sdk/gantry/apis"

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
