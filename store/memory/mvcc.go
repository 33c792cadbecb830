package memory

import (
	"sort"
	"strings"

	"github.com/google/btree"

	"github.com/gantry-sdk/gantry/store"
)

// version is one write of a key. A tombstone (a delete) has ver == 0.
type version struct {
	modRev    int64
	createRev int64
	ver       int64
	sub       int32 // position of the write within its revision's Txn
	value     []byte
}

func (v *version) tombstone() bool { return v.ver == 0 }

// keyHistory is every retained version of one key, oldest first. The slice is
// only ever appended to in place; compaction builds a new one, so a copy of
// the slice header (taken by a snapshot) stays valid without a lock.
type keyHistory struct {
	key      string
	versions []version
}

// at returns the version of the key visible at rev, or nil if the key did
// not exist then.
func (h *keyHistory) at(rev int64) *version {
	vs := h.versions
	// Most reads are of the newest version.
	if n := len(vs); n > 0 && vs[n-1].modRev <= rev {
		if vs[n-1].tombstone() {
			return nil
		}
		return &vs[n-1]
	}
	i := sort.Search(len(vs), func(i int) bool { return vs[i].modRev > rev })
	if i == 0 || vs[i-1].tombstone() {
		return nil
	}
	return &vs[i-1]
}

// latest returns the newest version if the key exists in it, else nil.
func (h *keyHistory) latest() *version {
	if n := len(h.versions); n > 0 && !h.versions[n-1].tombstone() {
		return &h.versions[n-1]
	}
	return nil
}

func keyLess(a, b *keyHistory) bool { return a.key < b.key }

// change is one change of the log. The previous value is held inline, not
// behind a pointer: a watcher builds its store.Event (and Prev) when it
// reads, which keeps that allocation off the serial write path.
type change struct {
	kv      store.KeyValue
	prev    store.KeyValue
	typ     store.EventType
	hasPrev bool
}

// revision is the log entry of one revision: its changes, in Txn order.
type revision struct {
	rev     int64
	changes []change
}

// mvcc is the multi-version state: every retained version of every key, in key
// order, and the log of changes per revision for watchers. It does no locking
// and no I/O; KV guards it.
type mvcc struct {
	keys   map[string]*keyHistory
	tree   *btree.BTreeG[*keyHistory]
	log    []revision // log[i].rev == logStart+i
	latest int64      // newest applied revision (maybe not yet durable)
	// compacted is the oldest revision still readable: reads below it fail
	// with ErrCompacted. 0 until the first compaction.
	compacted int64
}

func newMVCC() *mvcc {
	return &mvcc{
		keys: make(map[string]*keyHistory),
		tree: btree.NewG[*keyHistory](32, keyLess),
	}
}

func kvOf(key string, v *version) store.KeyValue {
	return store.KeyValue{Key: key, Value: v.value, CreateRevision: v.createRev, ModRevision: v.modRev, Version: v.ver}
}

// check evaluates the compares of a Txn against the newest state. It returns
// the index of the first failing compare, or -1.
func (m *mvcc) check(cmps []store.Compare) (int, int64) {
	for i, c := range cmps {
		var mod int64
		if h := m.keys[c.Key]; h != nil {
			if v := h.latest(); v != nil {
				mod = v.modRev
			}
		}
		if mod != c.ModRevision {
			return i, mod
		}
	}
	return -1, 0
}

// write is one effective change of a Txn, as replayed from the log.
type write struct {
	del   bool
	key   string
	value []byte
}

// effective returns the writes of ops that change something against the
// newest state: deletes of missing keys drop out. Values are not copied.
func (m *mvcc) effective(ops []store.Op) []write {
	ws := make([]write, 0, len(ops))
	for _, op := range ops {
		if op.Type == store.OpDelete {
			h := m.keys[op.Key]
			if h == nil || h.latest() == nil {
				continue
			}
			ws = append(ws, write{del: true, key: op.Key})
			continue
		}
		ws = append(ws, write{key: op.Key, value: op.Value})
	}
	return ws
}

// apply makes writes the changes of revision rev (== latest+1). The caller
// has checked that they are effective and have distinct keys.
func (m *mvcc) apply(rev int64, ws []write) {
	changes := make([]change, len(ws))
	for i, w := range ws {
		h := m.keys[w.key]
		if h == nil {
			h = &keyHistory{key: w.key}
			m.keys[w.key] = h
			m.tree.ReplaceOrInsert(h)
		}
		prev := h.latest()
		ch := &changes[i]
		if prev != nil {
			ch.prev, ch.hasPrev = kvOf(h.key, prev), true
		}
		if w.del {
			h.versions = append(h.versions, version{modRev: rev, sub: int32(i)})
			ch.typ = store.EventDelete
			ch.kv = store.KeyValue{Key: h.key, ModRevision: rev}
		} else {
			nv := version{modRev: rev, createRev: rev, ver: 1, sub: int32(i), value: w.value}
			if len(nv.value) == 0 {
				nv.value = nil // one form for an empty value, whichever path wrote it
			}
			if prev != nil {
				nv.createRev, nv.ver = prev.createRev, prev.ver+1
			}
			h.versions = append(h.versions, nv)
			ch.typ = store.EventPut
			ch.kv = kvOf(h.key, &h.versions[len(h.versions)-1])
		}
	}
	m.log = append(m.log, revision{rev: rev, changes: changes})
	m.latest = rev
}

// logIndex returns the position of rev in the log, or -1 if it is not there.
func (m *mvcc) logIndex(rev int64) int {
	if len(m.log) == 0 {
		return -1
	}
	i := rev - m.log[0].rev
	if i < 0 || i >= int64(len(m.log)) {
		return -1
	}
	return int(i)
}

// eventsFrom appends to dst the events with the prefix of revisions from..to
// (inclusive) and returns it, with the number of revisions scanned.
func (m *mvcc) eventsFrom(dst []store.Event, prefix string, from, to int64) []store.Event {
	if len(m.log) == 0 || from > to {
		return dst
	}
	if from < m.log[0].rev {
		from = m.log[0].rev
	}
	var prevs []store.KeyValue // one allocation for the Prevs of a call
	for i := m.logIndex(from); i >= 0 && i < len(m.log) && m.log[i].rev <= to; i++ {
		for j := range m.log[i].changes {
			ch := &m.log[i].changes[j]
			if !strings.HasPrefix(ch.kv.Key, prefix) {
				continue
			}
			ev := store.Event{Type: ch.typ, KV: ch.kv, Revision: ch.kv.ModRevision}
			if ch.hasPrev {
				if len(prevs) == cap(prevs) {
					prevs = make([]store.KeyValue, 0, min(64, max(8, 2*cap(prevs))))
				}
				prevs = append(prevs, ch.prev)
				ev.Prev = &prevs[len(prevs)-1]
			}
			dst = append(dst, ev)
		}
	}
	return dst
}

// compact drops history before rev: for each key the newest version below
// rev stays (a reader at rev and the Prev of the next change need it) unless
// it is a deletion, and every version from rev on.
func (m *mvcc) compact(rev int64) {
	var drop []*keyHistory
	m.tree.Ascend(func(h *keyHistory) bool {
		vs := h.versions
		i := sort.Search(len(vs), func(i int) bool { return vs[i].modRev >= rev })
		// vs[:i] are below rev; keep vs[i-1] unless it is a tombstone.
		keepFrom := i - 1
		if keepFrom < 0 {
			return true
		}
		if vs[keepFrom].tombstone() {
			keepFrom++
		}
		if keepFrom == 0 {
			return true
		}
		if keepFrom == len(vs) {
			drop = append(drop, h)
			return true
		}
		h.versions = append([]version(nil), vs[keepFrom:]...)
		return true
	})
	for _, h := range drop {
		m.tree.Delete(h)
		delete(m.keys, h.key)
	}
	if i := m.logIndex(rev); i > 0 {
		m.log = append([]revision(nil), m.log[i:]...)
	} else if len(m.log) > 0 && m.log[len(m.log)-1].rev < rev {
		m.log = nil
	}
	m.compacted = rev
}

// rangeAt reads the keys with prefix after opts.After as of rev. With
// copyValues the page's values are copies the caller owns; without, they are
// the versions' own (immutable) bytes.
func (m *mvcc) rangeAt(prefix string, rev int64, opts store.RangeOptions, copyValues bool) store.Page {
	page := store.Page{Revision: rev}
	start := prefix
	if opts.After != "" && opts.After >= start {
		start = opts.After + "\x00"
	}
	var size int
	m.tree.AscendGreaterOrEqual(&keyHistory{key: start}, func(h *keyHistory) bool {
		if !strings.HasPrefix(h.key, prefix) {
			return false
		}
		v := h.at(rev)
		if v == nil {
			return true
		}
		page.Count++
		if opts.CountOnly {
			return true
		}
		if opts.Limit > 0 && int64(len(page.KVs)) >= opts.Limit {
			page.More = true
			return true
		}
		page.KVs = append(page.KVs, kvOf(h.key, v))
		size += len(v.value)
		return true
	})
	if !copyValues || size == 0 {
		return page
	}
	// One allocation for every value of the page: callers own what they get.
	buf := make([]byte, 0, size)
	for i := range page.KVs {
		kv := &page.KVs[i]
		if kv.Value != nil {
			n := len(buf)
			buf = append(buf, kv.Value...)
			kv.Value = buf[n:len(buf):len(buf)]
		}
	}
	return page
}
