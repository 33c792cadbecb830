package memory

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/gantry-sdk/gantry/store"
)

// request is a write handed to the committer of a durable KV.
type request struct {
	txn     store.Txn
	compact int64 // a compaction instead of a Txn when > 0
	rev     int64
	err     error
	batch   *batchDone // closed when the batch holding this request is answered
	logged  []write    // the effective writes, set by the committer
}

// batchDone is closed once every request of one batch has its answer: one
// close wakes all of the batch's writers.
type batchDone struct{ ch chan struct{} }

func newBatchDone() *batchDone { return &batchDone{ch: make(chan struct{})} }

// durability is the write path of a KV opened on a directory. Writers queue
// requests; one committer goroutine takes every queued request at once,
// applies them to the state (invisible to readers for now), appends their
// records to the log in one write and one fsync (group commit), then makes
// them visible and answers the writers. No write is acknowledged before it
// is on disk.
type durability struct {
	kv   *KV
	dir  string
	lock *os.File

	mu      sync.Mutex
	queue   []*request
	spare   []*request // the previous batch's slice, for reuse
	next    *batchDone // the batch the queue will be committed in
	busy    bool       // a commit is under way (by a writer or the committer)
	idle    sync.Cond  // signalled when busy turns false
	closing bool
	kick    chan struct{} // capacity 1: the committer has a queue to commit
	stop    chan struct{} // closed by close
	stopped chan struct{} // closed when the committer has ended

	// Owned by the committer goroutine.
	seg          *segment
	buf          []byte
	sinceSnap    int64
	snapshotting chan struct{} // non-nil while a snapshot is written; closed when done
	snapErr      error         // the last snapshot failure, reported by Close
	snapMu       sync.Mutex
}

var requestPool = sync.Pool{New: func() any { return new(request) }}

// Open returns a KV that keeps its state in dir (created if missing): it
// recovers what dir holds, then logs every write there before acknowledging
// it. It refuses, with ErrCorrupt naming the file and offset, to start on a
// log or snapshot damaged anywhere but in a torn final record (a write that a
// crash interrupted, never acknowledged: cut off).
func Open(dir string, opts Options) (*KV, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("memory: open: %w", err)
	}
	lock, err := lockDir(filepath.Join(dir, lockName))
	if err != nil {
		return nil, fmt.Errorf("memory: open %s: locked by another process? %w", dir, err)
	}
	kv, err := recoverKV(dir, opts.withDefaults(), lock)
	if err != nil {
		lock.Close()
		return nil, err
	}
	return kv, nil
}

func recoverKV(dir string, opts Options, lock *os.File) (*KV, error) {
	segments, snapshots, err := dirFiles(dir)
	if err != nil {
		return nil, fmt.Errorf("memory: open: %w", err)
	}
	m := newMVCC()
	if n := len(snapshots); n > 0 {
		if m, err = loadSnapshot(filepath.Join(dir, snapshotName(snapshots[n-1]))); err != nil {
			return nil, err
		}
		for _, rev := range snapshots[:n-1] {
			_ = os.Remove(filepath.Join(dir, snapshotName(rev)))
		}
	}
	var covered []uint64 // segments the snapshot holds entirely
	for i, seq := range segments {
		name := segmentName(seq)
		path := filepath.Join(dir, name)
		data, err := readAll(path)
		if err != nil {
			return nil, fmt.Errorf("memory: open: %w", err)
		}
		last := i == len(segments)-1
		intact, applied, err := replaySegment(m, name, data, last)
		if err != nil {
			return nil, err
		}
		if intact < len(data) {
			// A torn final record: never acknowledged, so cut off.
			if err := os.Truncate(path, int64(intact)); err != nil {
				return nil, fmt.Errorf("memory: cut torn tail of %s at offset %d: %w", name, intact, err)
			}
		}
		if !last && !applied {
			covered = append(covered, seq)
		}
	}
	for _, seq := range covered {
		_ = os.Remove(filepath.Join(dir, segmentName(seq)))
	}

	d := &durability{dir: dir, lock: lock, kick: make(chan struct{}, 1), stop: make(chan struct{}), stopped: make(chan struct{})}
	d.idle.L = &d.mu
	d.next = newBatchDone()
	if n := len(segments); n > 0 {
		seq := segments[n-1]
		path := filepath.Join(dir, segmentName(seq))
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return nil, fmt.Errorf("memory: open: %w", err)
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("memory: open: %w", err)
		}
		if err := fdatasync(f); err != nil { // the truncation, if any
			f.Close()
			return nil, fmt.Errorf("memory: open: %w", err)
		}
		d.seg = &segment{f: f, seq: seq, size: st.Size()}
	} else if d.seg, err = createSegment(dir, 1); err != nil {
		return nil, err
	}
	kv := &KV{opts: opts, m: m, visible: m.latest, notify: make(chan struct{}), log: d}
	d.kv = kv
	go d.run()
	return kv, nil
}

// submit queues a write and waits until it is durable (or refused). When no
// commit is under way the writer commits its batch itself, saving the two
// goroutine switches of a handoff; writes that arrive meanwhile queue up and
// are committed together by the committer goroutine (group commit).
func (d *durability) submit(txn store.Txn, compact int64) (int64, error) {
	r := requestPool.Get().(*request)
	r.txn, r.compact = txn, compact
	d.mu.Lock()
	if d.closing {
		d.mu.Unlock()
		*r = request{}
		requestPool.Put(r)
		return 0, store.ErrClosed
	}
	r.batch = d.next
	d.queue = append(d.queue, r)
	if !d.busy {
		d.busy = true
		batch, done := d.takeLocked()
		d.mu.Unlock()
		d.commit(batch, done)
		d.finish(batch)
	} else {
		d.mu.Unlock()
	}
	<-r.batch.ch
	rev, err := r.rev, r.err
	*r = request{}
	requestPool.Put(r)
	return rev, err
}

// takeLocked takes the queue as a batch, with the batchDone its requests
// wait on; later requests go to a new one.
func (d *durability) takeLocked() ([]*request, *batchDone) {
	batch, done := d.queue, d.next
	d.queue = d.spare[:0]
	d.spare = nil
	d.next = newBatchDone()
	return batch, done
}

// finish ends a commit: the batch slice is kept for reuse, and the committer
// goroutine takes over if writes queued meanwhile.
func (d *durability) finish(batch []*request) {
	clear(batch)
	d.mu.Lock()
	d.spare = batch[:0]
	if len(d.queue) == 0 {
		d.busy = false
		d.idle.Broadcast()
		d.mu.Unlock()
		return
	}
	d.mu.Unlock()
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// run is the committer goroutine: it commits what queued while a commit was
// under way, batch after batch, until the queue is empty.
func (d *durability) run() {
	defer close(d.stopped)
	for {
		select {
		case <-d.kick:
		case <-d.stop:
			return
		}
		for {
			d.mu.Lock()
			if len(d.queue) == 0 {
				d.busy = false
				d.idle.Broadcast()
				d.mu.Unlock()
				break
			}
			batch, done := d.takeLocked()
			d.mu.Unlock()
			d.commit(batch, done)
			clear(batch)
			d.mu.Lock()
			d.spare = batch[:0]
			d.mu.Unlock()
		}
	}
}

// commit applies, logs and acknowledges one batch.
func (d *durability) commit(batch []*request, done *batchDone) {
	s := d.kv
	s.mu.Lock()
	if s.failed != nil { // closing is fine: Close waits for the queued writes
		err := s.failed
		s.mu.Unlock()
		d.answer(batch, done, err)
		return
	}
	for _, r := range batch {
		if r.compact > 0 {
			if r.err = s.checkCompactLocked(r.compact); r.err == nil {
				s.m.compact(r.compact)
			}
			continue
		}
		ws, err := s.evaluate(r.txn)
		if err != nil {
			r.err = err
			continue
		}
		if len(ws) == 0 {
			r.rev = s.m.latest
			continue
		}
		r.rev = s.m.latest + 1
		s.m.apply(r.rev, ws)
		r.logged = ws
	}
	latest := s.m.latest
	s.mu.Unlock()

	// Encode and write outside the lock: readers go on meanwhile.
	buf := d.buf[:0]
	var err error
	for _, r := range batch {
		switch {
		case r.err != nil:
		case r.compact > 0:
			buf, err = appendMessageFrame(buf, compactionRecord(r.compact))
		case r.logged != nil:
			buf = appendTxnFrame(buf, r.rev, r.logged)
		}
		if err != nil {
			break
		}
	}
	if err == nil && len(buf) > 0 {
		err = d.seg.write(buf)
		d.sinceSnap += int64(len(buf))
	}
	if cap(buf) <= 4<<20 {
		d.buf = buf
	}
	s.mu.Lock()
	if err != nil {
		// The state holds writes that may not be on disk: refuse all
		// further work rather than serve or build on them.
		s.failed = fmt.Errorf("memory: write-ahead log %s: %w", d.seg.f.Name(), err)
		close(s.notify)
		s.notify = make(chan struct{})
		s.mu.Unlock()
		d.answer(batch, done, s.failed)
		return
	}
	if latest > s.visible {
		s.publishLocked(latest)
	}
	s.mu.Unlock()
	d.answer(batch, done, nil)
	d.maybeRoll()
}

func (d *durability) answer(batch []*request, done *batchDone, err error) {
	if err != nil {
		for _, r := range batch {
			r.err = err
		}
	}
	close(done.ch)
}

// maybeRoll starts a new segment when the current one is full, and a
// snapshot in the background when enough log has been written since the last.
func (d *durability) maybeRoll() {
	wantSnap := d.sinceSnap >= d.kv.opts.SnapshotBytes && !d.snapshotRunning()
	if !wantSnap && d.seg.size < d.kv.opts.SegmentBytes {
		return
	}
	seg, err := createSegment(d.dir, d.seg.seq+1)
	if err != nil {
		return // keep appending to the current one; retried after the next batch
	}
	d.seg.f.Close()
	d.seg = seg
	if !wantSnap {
		return
	}
	// Every record before the new segment is in the state now, and nothing
	// is applied beyond it: a view taken here matches the segments before.
	d.kv.mu.RLock()
	view := d.kv.m.view()
	d.kv.mu.RUnlock()
	d.sinceSnap = 0
	done := make(chan struct{})
	d.snapMu.Lock()
	d.snapshotting = done
	d.snapMu.Unlock()
	upTo := seg.seq
	go func() {
		defer close(done)
		err := writeSnapshot(d.dir, view)
		if err == nil {
			err = d.removeBefore(upTo, view.rev)
		}
		d.snapMu.Lock()
		d.snapErr = err
		d.snapMu.Unlock()
	}()
}

func (d *durability) snapshotRunning() bool {
	d.snapMu.Lock()
	defer d.snapMu.Unlock()
	if d.snapshotting == nil {
		return false
	}
	select {
	case <-d.snapshotting:
		d.snapshotting = nil
		return false
	default:
		return true
	}
}

// removeBefore deletes the segments before seq and the snapshots before rev,
// which the snapshot at rev holds.
func (d *durability) removeBefore(seq uint64, rev int64) error {
	segments, snapshots, err := dirFiles(d.dir)
	if err != nil {
		return err
	}
	for _, s := range segments {
		if s < seq {
			if err := os.Remove(filepath.Join(d.dir, segmentName(s))); err != nil {
				return err
			}
		}
	}
	for _, r := range snapshots {
		if r < rev {
			if err := os.Remove(filepath.Join(d.dir, snapshotName(r))); err != nil {
				return err
			}
		}
	}
	return nil
}

// close finishes the queued writes, waits for a running snapshot, and
// releases the files.
func (d *durability) close() error {
	d.mu.Lock()
	if d.closing {
		d.mu.Unlock()
		<-d.stopped
		return nil
	}
	d.closing = true
	for d.busy {
		d.idle.Wait()
	}
	d.mu.Unlock()
	close(d.stop)
	<-d.stopped
	d.snapMu.Lock()
	done, snapErr := d.snapshotting, d.snapErr
	d.snapMu.Unlock()
	if done != nil {
		<-done
		d.snapMu.Lock()
		snapErr = d.snapErr
		d.snapMu.Unlock()
	}
	err := d.seg.f.Close()
	d.lock.Close()
	return errors.Join(snapErr, err)
}
