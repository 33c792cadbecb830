package memory

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"sync"
	"time"

	"github.com/gantry-sdk/gantry/store"
)

// Default limits, used when the Options field is zero.
const (
	DefaultProgressInterval = 10 * time.Second
	DefaultMaxKeyBytes      = 4 << 10
	DefaultMaxRequestBytes  = 2 << 20
	DefaultSegmentBytes     = 64 << 20
	DefaultSnapshotBytes    = 64 << 20
)

// Options tune a KV. The zero value works.
type Options struct {
	// ProgressInterval is how long a watcher with ProgressNotify stays idle
	// before it gets an EventProgress. Default DefaultProgressInterval.
	ProgressInterval time.Duration
	// MaxKeyBytes bounds the length of a key. Default DefaultMaxKeyBytes.
	MaxKeyBytes int
	// MaxRequestBytes bounds the keys and values of one Txn together.
	// Default DefaultMaxRequestBytes (etcd's request limit is 1.5 MiB).
	MaxRequestBytes int
	// SegmentBytes is the size after which the write-ahead log starts a new
	// segment file. Default DefaultSegmentBytes. Durable KVs only.
	SegmentBytes int64
	// SnapshotBytes is how much log is written before a snapshot is taken
	// in the background (bounding recovery time) and older segments are
	// removed. Default DefaultSnapshotBytes. Durable KVs only.
	SnapshotBytes int64
}

func (o Options) withDefaults() Options {
	if o.ProgressInterval <= 0 {
		o.ProgressInterval = DefaultProgressInterval
	}
	if o.MaxKeyBytes <= 0 {
		o.MaxKeyBytes = DefaultMaxKeyBytes
	}
	if o.MaxRequestBytes <= 0 {
		o.MaxRequestBytes = DefaultMaxRequestBytes
	}
	if o.SegmentBytes <= 0 {
		o.SegmentBytes = DefaultSegmentBytes
	}
	if o.SnapshotBytes <= 0 {
		o.SnapshotBytes = DefaultSnapshotBytes
	}
	return o
}

// Sentinel errors of this package (the store sentinels apply too).
var (
	// ErrCorrupt: the write-ahead log or a snapshot failed its checksum or
	// could not be decoded somewhere other than a torn final record.
	ErrCorrupt = errors.New("memory: corrupt data")
)

// KV is an in-process store.KV: multi-version state in memory, made durable
// by a write-ahead log when opened on a directory. Safe for concurrent use.
type KV struct {
	opts Options

	mu      sync.RWMutex
	m       *mvcc
	visible int64         // newest revision readers and watchers see (durable if logged)
	notify  chan struct{} // closed and replaced when visible advances or the KV closes
	closed  bool
	failed  error // a log write failed: the KV refuses everything after

	log *durability // nil for a purely in-memory KV

}

var _ store.KV = (*KV)(nil)

// New returns a purely in-memory KV: nothing survives Close.
func New(opts Options) *KV {
	return &KV{opts: opts.withDefaults(), m: newMVCC(), notify: make(chan struct{})}
}

// Close releases the KV: pending writes finish, watchers end with
// store.ErrClosed, and later calls fail with store.ErrClosed.
func (s *KV) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.notify)
	s.notify = make(chan struct{})
	s.mu.Unlock()
	if s.log != nil {
		return s.log.close()
	}
	return nil
}

// Revision returns the newest revision readers see (0 for an empty KV).
func (s *KV) Revision() int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.visible
}

func (s *KV) usable() error {
	if s.closed {
		return store.ErrClosed
	}
	return s.failed
}

// Range implements store.KV.
func (s *KV) Range(ctx context.Context, prefix string, opts store.RangeOptions) (store.Page, error) {
	return s.rangeValues(ctx, prefix, opts, true)
}

// RangeShared implements store.SharedRanger: Range whose values are the KV's
// own bytes, not copies. They never change (a write adds a new version), so
// they may be read without a lock, but never modified; as with Watch's values.
func (s *KV) RangeShared(ctx context.Context, prefix string, opts store.RangeOptions) (store.Page, error) {
	return s.rangeValues(ctx, prefix, opts, false)
}

var _ store.SharedRanger = (*KV)(nil)

func (s *KV) rangeValues(ctx context.Context, prefix string, opts store.RangeOptions, copyValues bool) (store.Page, error) {
	if err := ctx.Err(); err != nil {
		return store.Page{}, err
	}
	if opts.Limit < 0 {
		return store.Page{}, fmt.Errorf("memory: range: negative limit %d: %w", opts.Limit, store.ErrInvalid)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.usable(); err != nil {
		return store.Page{}, err
	}
	rev := opts.Revision
	if rev <= 0 {
		rev = s.visible
	}
	if rev > s.visible {
		return store.Page{}, fmt.Errorf("memory: range at revision %d, current is %d: %w", rev, s.visible, store.ErrFutureRevision)
	}
	if rev < s.m.compacted {
		return store.Page{}, fmt.Errorf("memory: range at revision %d, compacted before %d: %w", rev, s.m.compacted, store.ErrCompacted)
	}
	return s.m.rangeAt(prefix, rev, opts, copyValues), nil
}

// validate checks a Txn's shape and sizes before anything is applied.
func (s *KV) validate(txn store.Txn) error {
	size := 0
	for i, c := range txn.If {
		if c.Key == "" {
			return fmt.Errorf("memory: txn compare %d: empty key: %w", i, store.ErrInvalid)
		}
		if c.ModRevision < 0 {
			return fmt.Errorf("memory: txn compare %d on %q: negative mod revision %d: %w", i, c.Key, c.ModRevision, store.ErrInvalid)
		}
		size += len(c.Key)
	}
	var seen map[string]struct{}
	if len(txn.Then) > 8 {
		seen = make(map[string]struct{}, len(txn.Then))
	}
	for i, op := range txn.Then {
		if op.Key == "" {
			return fmt.Errorf("memory: txn op %d: empty key: %w", i, store.ErrInvalid)
		}
		if op.Type != store.OpPut && op.Type != store.OpDelete {
			return fmt.Errorf("memory: txn op %d on %q: unknown op type %d: %w", i, op.Key, op.Type, store.ErrInvalid)
		}
		if len(op.Key) > s.opts.MaxKeyBytes {
			return fmt.Errorf("memory: txn op %d: key of %d bytes exceeds %d: %w", i, len(op.Key), s.opts.MaxKeyBytes, store.ErrTooLarge)
		}
		if seen != nil {
			if _, dup := seen[op.Key]; dup {
				return fmt.Errorf("memory: txn op %d: key %q written twice: %w", i, op.Key, store.ErrInvalid)
			}
			seen[op.Key] = struct{}{}
		} else {
			for _, o := range txn.Then[:i] {
				if o.Key == op.Key {
					return fmt.Errorf("memory: txn op %d: key %q written twice: %w", i, op.Key, store.ErrInvalid)
				}
			}
		}
		size += len(op.Key) + len(op.Value)
	}
	if size > s.opts.MaxRequestBytes {
		return fmt.Errorf("memory: txn of %d bytes exceeds %d: %w", size, s.opts.MaxRequestBytes, store.ErrTooLarge)
	}
	return nil
}

// ownValues returns ops with their values copied into one new buffer, so
// that the caller may reuse its own. It runs before any lock is taken.
func ownValues(ops []store.Op) []store.Op {
	size := 0
	for _, op := range ops {
		size += len(op.Value)
	}
	if size == 0 {
		return ops
	}
	buf := make([]byte, 0, size)
	owned := make([]store.Op, len(ops))
	for i, op := range ops {
		owned[i] = op
		if len(op.Value) > 0 {
			n := len(buf)
			buf = append(buf, op.Value...)
			owned[i].Value = buf[n:len(buf):len(buf)]
		}
	}
	return owned
}

// evaluate checks txn's compares against the newest state and returns its
// effective writes. Values are not copied: see ownValues.
func (s *KV) evaluate(txn store.Txn) ([]write, error) {
	if i, mod := s.m.check(txn.If); i >= 0 {
		c := txn.If[i]
		if c.ModRevision == 0 {
			return nil, fmt.Errorf("memory: txn compare on %q: key exists at mod revision %d, want absent: %w", c.Key, mod, store.ErrConflict)
		}
		if mod == 0 {
			return nil, fmt.Errorf("memory: txn compare on %q: key absent, want mod revision %d: %w", c.Key, c.ModRevision, store.ErrConflict)
		}
		return nil, fmt.Errorf("memory: txn compare on %q: mod revision %d, want %d: %w", c.Key, mod, c.ModRevision, store.ErrConflict)
	}
	return s.m.effective(txn.Then), nil
}

// Txn implements store.KV. A Txn whose writes change nothing (only deletes
// of missing keys, or no ops) creates no revision and returns the current one.
func (s *KV) Txn(ctx context.Context, txn store.Txn) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := s.validate(txn); err != nil {
		return 0, err
	}
	txn.Then = ownValues(txn.Then)
	if s.log != nil {
		return s.log.submit(txn, 0)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(); err != nil {
		return 0, err
	}
	ws, err := s.evaluate(txn)
	if err != nil {
		return 0, err
	}
	if len(ws) == 0 {
		return s.visible, nil
	}
	rev := s.m.latest + 1
	s.m.apply(rev, ws)
	s.publishLocked(rev)
	return rev, nil
}

// publishLocked makes revisions up to rev visible and wakes watchers.
func (s *KV) publishLocked(rev int64) {
	s.visible = rev
	close(s.notify)
	s.notify = make(chan struct{})
}

// Compact implements store.KV. Compacting at or below an earlier compaction
// returns store.ErrCompacted, as etcd does.
func (s *KV) Compact(ctx context.Context, rev int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if rev <= 0 {
		return fmt.Errorf("memory: compact at revision %d: %w", rev, store.ErrInvalid)
	}
	if s.log != nil {
		_, err := s.log.submit(store.Txn{}, rev)
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(); err != nil {
		return err
	}
	if err := s.checkCompactLocked(rev); err != nil {
		return err
	}
	s.m.compact(rev)
	return nil
}

func (s *KV) checkCompactLocked(rev int64) error {
	if rev > s.m.latest {
		return fmt.Errorf("memory: compact at revision %d, current is %d: %w", rev, s.m.latest, store.ErrFutureRevision)
	}
	if rev <= s.m.compacted {
		return fmt.Errorf("memory: compact at revision %d, already compacted before %d: %w", rev, s.m.compacted, store.ErrCompacted)
	}
	return nil
}

// watchBatchRevisions bounds how many revisions a watcher copies under one
// read lock, so that a watcher far behind does not stall writers.
const watchBatchRevisions = 512

// Watch implements store.KV. A watch from beyond the next revision yields
// store.ErrFutureRevision. Watchers pull from the revision log at their own
// pace: a slow consumer never blocks writers; it reads on from history, or
// ends with store.ErrCompacted if history it still needed was compacted (then
// relist and watch from the list's revision).
//
// Values in events are shared between watchers and must not be modified.
func (s *KV) Watch(ctx context.Context, prefix string, opts store.KVWatchOptions) iter.Seq2[store.Event, error] {
	return func(yield func(store.Event, error) bool) {
		if err := ctx.Err(); err != nil {
			return
		}
		s.mu.RLock()
		next, visible := opts.FromRevision, s.visible
		s.mu.RUnlock()
		if next <= 0 {
			next = visible + 1
		}
		if next > visible+1 {
			yield(store.Event{}, fmt.Errorf("memory: watch %q from revision %d, current is %d: %w", prefix, next, visible, store.ErrFutureRevision))
			return
		}

		var progress *time.Timer
		var progressC <-chan time.Time
		if opts.ProgressNotify {
			progress = time.NewTimer(s.opts.ProgressInterval)
			defer progress.Stop()
			progressC = progress.C
		}
		var buf []store.Event
		for {
			s.mu.RLock()
			if err := s.usable(); err != nil {
				s.mu.RUnlock()
				yield(store.Event{}, fmt.Errorf("memory: watch %q: %w", prefix, err))
				return
			}
			if next < s.m.compacted {
				compacted := s.m.compacted
				s.mu.RUnlock()
				yield(store.Event{}, fmt.Errorf("memory: watch %q from revision %d, compacted before %d: %w", prefix, next, compacted, store.ErrCompacted))
				return
			}
			visible, notify := s.visible, s.notify
			to := min(visible, next+watchBatchRevisions-1)
			buf = s.m.eventsFrom(buf[:0], prefix, next, to)
			s.mu.RUnlock()
			if to >= next {
				next = to + 1
			}
			for _, ev := range buf {
				if ctx.Err() != nil || !yield(ev, nil) {
					return
				}
			}
			if len(buf) > 0 && progress != nil {
				progress.Reset(s.opts.ProgressInterval)
			}
			if next <= visible {
				continue // more history to read
			}
			select {
			case <-ctx.Done():
				return
			case <-notify:
			case <-progressC:
				if !yield(store.Event{Type: store.EventProgress, Revision: min(next-1, visible)}, nil) {
					return
				}
				progress.Reset(s.opts.ProgressInterval)
			}
		}
	}
}
