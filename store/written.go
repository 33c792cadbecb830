package store

import (
	"bytes"
	"reflect"
	"strconv"

	"github.com/gantry-sdk/gantry/apis"
)

// A writer whose object is in decoded form (see decodedForm) keeps it as
// the shared decoded value of what it wrote, so nobody decodes those bytes:
// not the writer (for its result), not a watch event, not the next Get.
// The object is registered as expected before the KV transaction, because
// a watch can deliver the write before the writer hears back from the KV;
// whoever comes first (the writer with the revision, or shared() seeing the
// same bytes at that key) publishes it with its resourceVersion set.

// pendingWrite is an object about to be written as data.
type pendingWrite struct {
	data []byte
	obj  apis.Object
}

// keepsWritten reports whether the store keeps written objects as decoded:
// only with the JSON codec, whose round trip decodedForm knows.
func (s *ObjectStore) keepsWritten() bool {
	_, ok := s.codec.(JSONCodec)
	return ok && s.decMax > 0
}

// expectWrite registers obj, in decoded form and given up by the caller,
// as about to be written at key as data.
func (s *ObjectStore) expectWrite(key string, data []byte, obj apis.Object) {
	if !s.keepsWritten() {
		return
	}
	s.decMu.Lock()
	s.decPending[key] = pendingWrite{data: data, obj: obj}
	s.decMu.Unlock()
}

// unexpectWrite withdraws obj after a failed write.
func (s *ObjectStore) unexpectWrite(key string, obj apis.Object) {
	s.decMu.Lock()
	if p, ok := s.decPending[key]; ok && p.obj == obj {
		delete(s.decPending, key)
	}
	s.decMu.Unlock()
}

// cacheWritten publishes obj, written as data at rev after expectWrite,
// unless shared() already did.
func (s *ObjectStore) cacheWritten(k *apis.KindInfo, key string, data []byte, rev int64, obj apis.Object) {
	if !s.keepsWritten() {
		return
	}
	s.decMu.Lock()
	defer s.decMu.Unlock()
	if p, ok := s.decPending[key]; ok && p.obj == obj {
		delete(s.decPending, key)
	}
	if cur, ok := s.decCache[key]; ok && cur.modRevision >= rev {
		if cur.obj != obj {
			// Decoded by a reader that came before the registration, or
			// written over since: obj stays the writer's alone.
			obj.Meta().ResourceVersion = strconv.FormatInt(rev, 10)
		}
		return
	}
	s.publishLocked(k, key, data, rev, obj)
}

// takeExpected returns, for a read of key at rev that found data, the
// expected object with those bytes, published; ok is false if there is none.
func (s *ObjectStore) takeExpected(k *apis.KindInfo, key string, data []byte, rev int64) (apis.Object, bool) {
	s.decMu.Lock()
	defer s.decMu.Unlock()
	p, ok := s.decPending[key]
	if !ok || !bytes.Equal(p.data, data) {
		return nil, false
	}
	delete(s.decPending, key)
	if cur, ok := s.decCache[key]; ok && cur.modRevision > rev {
		return nil, false
	}
	s.publishLocked(k, key, data, rev, p.obj)
	return p.obj, true
}

// publishLocked makes obj the shared decoded value of key at rev; decMu is held.
func (s *ObjectStore) publishLocked(k *apis.KindInfo, key string, data []byte, rev int64, obj apis.Object) {
	obj.Type().SetGroupVersionKind(k.GVK)
	obj.Meta().ResourceVersion = strconv.FormatInt(rev, 10)
	if s.verifyWritten != nil {
		fresh, err := s.decodeNew(k, key, data, rev)
		s.verifyWritten(obj, fresh, err)
	}
	cur, ok := s.decCache[key]
	if !ok && len(s.decCache) >= s.decMax {
		for victim := range s.decCache {
			delete(s.decCache, victim)
			break
		}
	}
	s.decCache[key] = decodedEntry{modRevision: rev, data: data, obj: obj}.replacing(cur, ok)
}

// inDecodedForm reports whether a write of obj may keep it as decoded.
func (s *ObjectStore) inDecodedForm(obj apis.Object) bool {
	return s.keepsWritten() && decodedForm(reflect.ValueOf(obj))
}

// written returns what a successful write of obj as data at rev returns:
// a copy of obj when it was expected (kept), else a decoding of data.
func (s *ObjectStore) written(k *apis.KindInfo, key string, data []byte, rev int64, obj apis.Object, kept bool) (apis.Object, error) {
	if !kept {
		return s.decode(k, key, data, rev)
	}
	s.cacheWritten(k, key, data, rev, obj)
	return apis.DeepCopy(obj), nil
}
