package store

import "github.com/gantry-sdk/gantry/apis"

// CachedDecoded returns the shared decoded object the store keeps for an
// object of kind k, with the bytes it stands for, if any.
func (s *ObjectStore) CachedDecoded(k *apis.KindInfo, key apis.Key) (apis.Object, []byte, bool) {
	s.decMu.RLock()
	defer s.decMu.RUnlock()
	e, ok := s.decCache[s.objectKey(k, key)]
	return e.obj, e.data, ok
}
