package store

import (
	"context"
	"iter"
)

// KV is the backend contract: an ordered map of string keys to byte values,
// where every write advances one global revision and old revisions stay
// readable and watchable until compacted. It is the shape of etcd's API, so
// store/etcd maps onto it one to one and store/memory embeds it in-process.
//
// Revisions start at 1 for the first write; 0 in an option means "current".
type KV interface {
	// Range reads the keys with the given prefix, in key order, as of one revision.
	Range(ctx context.Context, prefix string, opts RangeOptions) (Page, error)
	// Txn applies every Op atomically if every Compare holds, at one new revision.
	// A failed Compare returns ErrConflict (wrapped, naming the key) and writes nothing.
	Txn(ctx context.Context, txn Txn) (rev int64, err error)
	// Watch streams the changes to keys with the given prefix, in revision order,
	// starting with the changes made at opts.FromRevision (0: only changes after now). It
	// yields ErrCompacted if that revision is no longer retained, and ends when ctx
	// ends or after yielding an error.
	Watch(ctx context.Context, prefix string, opts KVWatchOptions) iter.Seq2[Event, error]
	// Compact discards history before rev: reads and watches below it fail with
	// ErrCompacted. Current values are kept.
	Compact(ctx context.Context, rev int64) error
}

// KeyValue is one key as of some revision.
type KeyValue struct {
	Key            string
	Value          []byte
	CreateRevision int64 // the revision that created the key (since its last deletion)
	ModRevision    int64 // the revision of its last write
	Version        int64 // writes since creation, 1 for a new key
}

// RangeOptions select a page of a Range.
type RangeOptions struct {
	// Revision reads as of this revision; 0 reads the current one.
	Revision int64
	// Limit caps the number of keys returned; 0 means no limit.
	Limit int64
	// After starts the page after this key (exclusive): the last key of the
	// previous page, for pagination at one revision.
	After string
	// CountOnly returns Count without the keys.
	CountOnly bool
}

// Page is the result of a Range.
type Page struct {
	KVs []KeyValue
	// Revision is the revision the page was read at (the current one when
	// RangeOptions.Revision was 0): pass it back to read the next page.
	Revision int64
	// More reports whether keys with the prefix remain after the last one returned.
	More bool
	// Count is the number of keys with the prefix after RangeOptions.After,
	// in total (not only this page).
	Count int64
}

// Compare is a condition of a Txn on the key's ModRevision: the key must have
// been last written at exactly ModRevision, or (ModRevision 0) must not exist.
type Compare struct {
	Key         string
	ModRevision int64
}

// OpType is the kind of a write.
type OpType uint8

// The write kinds.
const (
	OpPut OpType = iota + 1
	OpDelete
)

// Op is one write of a Txn.
type Op struct {
	Type  OpType
	Key   string
	Value []byte // for OpPut
}

// Put returns an Op that sets key to value.
func Put(key string, value []byte) Op { return Op{Type: OpPut, Key: key, Value: value} }

// Delete returns an Op that removes key (a no-op if it does not exist).
func Delete(key string) Op { return Op{Type: OpDelete, Key: key} }

// Txn is an atomic multi-key write guarded by compares.
type Txn struct {
	If   []Compare
	Then []Op
}

// KVWatchOptions tune a KV Watch.
type KVWatchOptions struct {
	// FromRevision is the first revision whose changes are delivered; 0 means
	// changes after the current revision.
	FromRevision int64
	// ProgressNotify asks for periodic EventProgress events while nothing
	// changes, so that a watcher can checkpoint (Kubernetes' bookmarks).
	ProgressNotify bool
}

// EventType is the kind of a watch event.
type EventType uint8

// The watch event kinds.
const (
	EventPut EventType = iota + 1
	EventDelete
	// EventProgress carries only a Revision: every change at or below it has
	// been delivered.
	EventProgress
)

func (t EventType) String() string {
	switch t {
	case EventPut:
		return "PUT"
	case EventDelete:
		return "DELETE"
	case EventProgress:
		return "PROGRESS"
	}
	return "UNKNOWN"
}

// Event is one change seen by a Watch.
type Event struct {
	Type EventType
	// KV is the key after the change; for a delete, Value is empty and
	// ModRevision is the revision of the delete.
	KV KeyValue
	// Prev is the key before the change (nil for a creation): the last known
	// value of a deleted key, the old value of an update.
	Prev *KeyValue
	// Revision is the revision of the change (KV.ModRevision), or the
	// checkpoint of an EventProgress.
	Revision int64
}
