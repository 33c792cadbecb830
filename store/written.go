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
	data      []byte
	obj       apis.Object
	published bool // by takeExpected, with its resourceVersion set; under decMu
}

// keepsWritten reports whether the store keeps written objects as decoded:
// only with the JSON codec, whose round trip decodedForm knows.
func (s *ObjectStore) keepsWritten() bool {
	_, ok := s.codec.(JSONCodec)
	return ok && s.decMax > 0
}

// expectWrite registers obj, in decoded form and given up by the caller,
// as about to be written at key as data. The caller passes the result to
// unexpectWrite if the write fails, to written or cacheWritten if not, and
// does not touch obj in between (a watch may publish it).
func (s *ObjectStore) expectWrite(key string, data []byte, obj apis.Object) *pendingWrite {
	p := &pendingWrite{data: data, obj: obj}
	s.decMu.Lock()
	s.decPending[key] = p
	s.decMu.Unlock()
	return p
}

// unexpectWrite withdraws p after a failed write. If a watch published it
// meanwhile (another write of the same bytes), it stays published.
func (s *ObjectStore) unexpectWrite(key string, p *pendingWrite) {
	s.decMu.Lock()
	if s.decPending[key] == p {
		delete(s.decPending, key)
	}
	s.decMu.Unlock()
}

// cacheWritten publishes p's object, written at rev, unless a watch did
// (takeExpected); either way the object has its resourceVersion set after.
func (s *ObjectStore) cacheWritten(k *apis.KindInfo, key string, rev int64, p *pendingWrite) {
	s.decMu.Lock()
	defer s.decMu.Unlock()
	if s.decPending[key] == p {
		delete(s.decPending, key)
	}
	if p.published {
		return // shared already: never written to again
	}
	if cur, ok := s.decCache[key]; ok && cur.modRevision >= rev {
		// Decoded by a reader before it was expected, or written over
		// since: the object stays the writer's alone.
		p.obj.Meta().ResourceVersion = strconv.FormatInt(rev, 10)
		return
	}
	s.publishLocked(k, key, p.data, rev, p)
}

// takeExpected returns, for a read of key at rev that found data, the
// expected object with those bytes, published; ok is false if there is none.
func (s *ObjectStore) takeExpected(k *apis.KindInfo, key string, data []byte, rev int64) (apis.Object, bool) {
	s.decMu.Lock()
	defer s.decMu.Unlock()
	p, ok := s.decPending[key]
	if !ok || p.published || !bytes.Equal(p.data, data) {
		return nil, false
	}
	delete(s.decPending, key)
	if cur, ok := s.decCache[key]; ok && cur.modRevision > rev {
		return nil, false
	}
	s.publishLocked(k, key, data, rev, p)
	return p.obj, true
}

// publishLocked makes p's object the shared decoded value of key at rev;
// decMu is held.
func (s *ObjectStore) publishLocked(k *apis.KindInfo, key string, data []byte, rev int64, p *pendingWrite) {
	obj := p.obj
	p.published = true
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
// a copy of the kept object when the write was expected (p), else a
// decoding of data.
func (s *ObjectStore) written(k *apis.KindInfo, key string, data []byte, rev int64, p *pendingWrite) (apis.Object, error) {
	if p == nil {
		return s.decode(k, key, data, rev)
	}
	s.cacheWritten(k, key, rev, p)
	return apis.DeepCopy(p.obj), nil
}
