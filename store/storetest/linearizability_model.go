package storetest

import (
	"fmt"
	"hash/fnv"
	"slices"
	"strings"

	"github.com/anishathalye/porcupine"
)

// The sequential specification of store.KV that histories are checked
// against. Keys are small integers (indexes into the harness's key names),
// so that states are cheap to copy, compare and hash.

// linKind is the kind of a recorded operation.
type linKind uint8

const (
	linGet  linKind = iota + 1 // Range of one key at the current revision
	linList                    // Range of every key at the current revision
	linTxn                     // Txn with compares, puts and deletes
)

type linCompare struct {
	Key         int
	ModRevision int64 // 0: the key must not exist
}

type linWrite struct {
	Key    int
	Delete bool
	Value  string // for a put
}

// linInput is what a client asked for.
type linInput struct {
	Kind  linKind
	Key   int // for linGet
	If    []linCompare
	Then  []linWrite
	Descr string // for the visualization
}

// linKV is one key as a read returned it, or as the model holds it.
type linKV struct {
	Key            int
	Value          string
	CreateRevision int64
	ModRevision    int64 // 0 in the model: the key does not exist
	Version        int64
}

// linOutput is what the KV answered.
type linOutput struct {
	// Unknown: the call failed without saying whether a write happened (its
	// return time is then the end of time, so it may take effect at any point
	// after its call).
	Unknown  bool
	Conflict bool
	Revision int64   // of the page, or of the successful txn
	KVs      []linKV // for reads: the keys found, in key order
	Count    int64   // for reads
}

// linState is the model's state: the current revision and every key.
type linState struct {
	Revision int64
	Keys     []linKV // indexed by key; ModRevision 0 means absent
}

func (s linState) holds(cmps []linCompare) bool {
	for _, c := range cmps {
		if s.Keys[c.Key].ModRevision != c.ModRevision {
			return false
		}
	}
	return true
}

// apply returns the state after the writes, and whether anything changed.
// A store.KV advances the revision only for a change: a txn whose deletes
// find nothing has nothing to number (the harness never issues one whose
// compares hold, so a KV that numbers it anyway is not failed for it).
func (s linState) apply(writes []linWrite) (linState, bool) {
	next := linState{Revision: s.Revision + 1, Keys: slices.Clone(s.Keys)}
	changed := false
	for _, w := range writes {
		old := s.Keys[w.Key]
		switch {
		case w.Delete && old.ModRevision != 0:
			next.Keys[w.Key] = linKV{Key: w.Key}
			changed = true
		case !w.Delete:
			kv := linKV{Key: w.Key, Value: w.Value, ModRevision: next.Revision, CreateRevision: next.Revision, Version: 1}
			if old.ModRevision != 0 {
				kv.CreateRevision = old.CreateRevision
				kv.Version = old.Version + 1
			}
			next.Keys[w.Key] = kv
			changed = true
		}
	}
	if !changed {
		return s, false
	}
	return next, true
}

func (s linState) present() []linKV {
	var kvs []linKV
	for _, kv := range s.Keys {
		if kv.ModRevision != 0 {
			kvs = append(kvs, kv)
		}
	}
	return kvs
}

func linStep(state, input, output any) (bool, any) {
	s := state.(linState)
	in := input.(linInput)
	out := output.(linOutput)
	switch in.Kind {
	case linGet:
		if out.Unknown {
			return true, s // a failed read observed nothing
		}
		want := s.Keys[in.Key]
		if out.Revision != s.Revision {
			return false, s
		}
		if want.ModRevision == 0 {
			return len(out.KVs) == 0, s
		}
		return len(out.KVs) == 1 && out.KVs[0] == want, s
	case linList:
		if out.Unknown {
			return true, s
		}
		want := s.present()
		return out.Revision == s.Revision && out.Count == int64(len(want)) && slices.Equal(out.KVs, want), s
	case linTxn:
		ok := s.holds(in.If)
		switch {
		case out.Unknown:
			if ok {
				next, _ := s.apply(in.Then)
				return true, next
			}
			return true, s
		case out.Conflict:
			return !ok, s
		case !ok:
			return false, s
		}
		next, changed := s.apply(in.Then)
		if !changed {
			return out.Revision == s.Revision, s
		}
		return out.Revision == next.Revision, next
	}
	return false, s
}

func linEqual(a, b any) bool {
	x, y := a.(linState), b.(linState)
	return x.Revision == y.Revision && slices.Equal(x.Keys, y.Keys)
}

func linHash(state any) uint64 {
	s := state.(linState)
	h := fnv.New64a()
	fmt.Fprint(h, s.Revision)
	for _, kv := range s.Keys {
		fmt.Fprint(h, ",", kv.ModRevision)
	}
	return h.Sum64()
}

// linModel returns the model of a KV whose keys (all absent) are at revision rev.
func linModel(keys int, rev int64, names []string) porcupine.Model {
	return porcupine.Model{
		Init: func() any {
			s := linState{Revision: rev, Keys: make([]linKV, keys)}
			for i := range s.Keys {
				s.Keys[i].Key = i
			}
			return s
		},
		Step:  linStep,
		Equal: linEqual,
		Hash:  linHash,
		DescribeOperation: func(input, output any) string {
			in, out := input.(linInput), output.(linOutput)
			return in.Descr + " -> " + describeOutput(out, names)
		},
		DescribeState: func(state any) string {
			s := state.(linState)
			var b strings.Builder
			fmt.Fprintf(&b, "rev %d", s.Revision)
			for _, kv := range s.present() {
				fmt.Fprintf(&b, "; %s", describeKV(kv, names))
			}
			return b.String()
		},
	}
}

func describeKV(kv linKV, names []string) string {
	name := "(a key the harness never wrote)"
	if kv.Key >= 0 && kv.Key < len(names) {
		name = names[kv.Key]
	}
	return fmt.Sprintf("%s=%s (c%d m%d v%d)", name, kv.Value, kv.CreateRevision, kv.ModRevision, kv.Version)
}

func describeOutput(out linOutput, names []string) string {
	switch {
	case out.Unknown:
		return "unknown"
	case out.Conflict:
		return "conflict"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "rev %d", out.Revision)
	for _, kv := range out.KVs {
		fmt.Fprintf(&b, "; %s", describeKV(kv, names))
	}
	return b.String()
}
