package reconcile

import "hash/maphash"

// keyTable maps a queue's keys to their entries. It is an open-addressing
// table with linear probing and backward-shift deletion rather than a Go
// map because the queue's hot path is a lookup that usually misses followed
// by an insert: here one probe run finds the key or the slot it goes in, with
// the key hashed once, and deletes leave no tombstones, so the steady
// insert-delete churn of a stream of distinct keys keeps probes short (a Go
// map's misses lengthened with the deleted slots it accumulates).
type keyTable[K comparable] struct {
	seed  maphash.Seed
	slots []tableSlot[K] // a power of two long, at most half full
	count int
	// removes since the last resize, and the most entries held since: the
	// table shrinks only after as many removes as it has slots, and only if
	// it stayed under a sixteenth full all along, so a queue whose depth
	// swings does not rebuild its table every swing, and each rebuild is
	// paid for by the removes before it.
	removes, peak int
}

// tableSlot holds an entry and its key's hash, which spares dereferencing
// the entries of other keys while probing.
type tableSlot[K comparable] struct {
	hash uint64
	e    *entry[K]
}

const minTableSlots = 64

func newKeyTable[K comparable]() keyTable[K] {
	return keyTable[K]{seed: maphash.MakeSeed(), slots: make([]tableSlot[K], minTableSlots)}
}

// hash returns key's hash. It reads only the seed, which never changes, so
// callers compute it before taking the queue's lock.
func (t *keyTable[K]) hash(key K) uint64 { return maphash.Comparable(t.seed, key) }

// find returns the entry of key, whose hash is h, or, when absent, the
// index of the free slot where insertAt puts it.
func (t *keyTable[K]) find(key K, h uint64) (i int, e *entry[K]) {
	mask := len(t.slots) - 1
	for i = int(h) & mask; ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.e == nil {
			return i, nil
		}
		if s.hash == h && s.e.key == key {
			return i, s.e
		}
	}
}

// get returns key's entry, or nil.
func (t *keyTable[K]) get(key K) *entry[K] {
	_, e := t.find(key, t.hash(key))
	return e
}

// insertAt puts e, of a key with hash h, in free slot i as returned by find
// (with no insert or delete in between).
func (t *keyTable[K]) insertAt(i int, h uint64, e *entry[K]) {
	e.hash = h
	t.slots[i] = tableSlot[K]{hash: h, e: e}
	t.count++
	t.peak = max(t.peak, t.count)
	if 2*t.count > len(t.slots) {
		t.resize(2 * len(t.slots))
	}
}

// remove deletes e, which must be in the table.
func (t *keyTable[K]) remove(e *entry[K]) {
	mask := len(t.slots) - 1
	i := int(e.hash) & mask
	for t.slots[i].e != e {
		i = (i + 1) & mask
	}
	// Shift back every later entry of the run that may sit at i, so no
	// probe for them stops early at the hole.
	for j := (i + 1) & mask; t.slots[j].e != nil; j = (j + 1) & mask {
		home := int(t.slots[j].hash) & mask
		// The entry at j may move to i unless its home lies cyclically in (i, j].
		if (i < j && i < home && home <= j) || (i > j && (home > i || home <= j)) {
			continue
		}
		t.slots[i] = t.slots[j]
		i = j
	}
	t.slots[i] = tableSlot[K]{}
	t.count--
	t.removes++
	if t.removes >= len(t.slots) && len(t.slots) > minTableSlots {
		if 16*t.peak < len(t.slots) {
			n := minTableSlots
			for n < 4*t.peak {
				n *= 2
			}
			t.resize(n)
		} else {
			t.removes, t.peak = 0, t.count // a new period
		}
	}
}

func (t *keyTable[K]) resize(n int) {
	t.removes, t.peak = 0, t.count
	old := t.slots
	t.slots = make([]tableSlot[K], n)
	mask := n - 1
	for _, s := range old {
		if s.e == nil {
			continue
		}
		i := int(s.hash) & mask
		for t.slots[i].e != nil {
			i = (i + 1) & mask
		}
		t.slots[i] = s
	}
}

// all calls f for every entry; f must not insert or remove.
func (t *keyTable[K]) all(f func(*entry[K])) {
	for _, s := range t.slots {
		if s.e != nil {
			f(s.e)
		}
	}
}

// len reports the number of entries.
func (t *keyTable[K]) len() int { return t.count }
