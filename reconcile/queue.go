package reconcile

import (
	"container/heap"
	"context"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// The defaults of QueueOptions, as client-go's default controller rate limiter.
const (
	DefaultBaseDelay = 5 * time.Millisecond
	DefaultMaxDelay  = 1000 * time.Second
	DefaultQPS       = 10
	DefaultBurst     = 100
)

// QueueOptions tune a Queue. The zero value works: real clock, no metrics,
// client-go's default retry limits.
type QueueOptions struct {
	// Name labels the queue's metrics.
	Name string
	// Metrics records workqueue_* metrics; nil records none.
	Metrics *Metrics
	// Clock drives delayed adds and backoff; nil is the real clock.
	Clock Clock
	// BaseDelay is the first retry delay of a key; it doubles with every
	// AddRateLimited until Forget, up to MaxDelay.
	BaseDelay time.Duration
	MaxDelay  time.Duration
	// QPS and Burst size the token bucket shared by all keys' retries; a
	// retry waits for the longer of its key's backoff and the bucket.
	// A negative QPS disables the bucket.
	QPS   float64
	Burst int
}

// Queue is a work queue of keys for level-triggered processing:
//   - a key added many times while it waits is handed out once;
//   - a key is never handed to two workers at once: added while being
//     processed, it is handed out again after Done;
//   - AddAfter delays an add; AddRateLimited delays it by the key's
//     exponential backoff and an overall token bucket, and Forget resets it.
//
// Workers loop on Get, process the key, then call Done. A Queue is safe for
// concurrent use. Its zero value is not usable: call NewQueue.
type Queue[K comparable] struct {
	mu   sync.Mutex
	cond sync.Cond // signalled when ready gains an entry or the queue shuts down
	// The entries of the keys queued or in flight. A key leaves at Done:
	// keeping finished keys for reuse saved a Go map's insert and delete per
	// recurring key, but with keyTable an insert is free (find located the
	// slot) and a remove of a just-used slot is cheap.
	entries keyTable[K]
	active  int // entries queued or in flight
	ready   ring[K]
	free    []*entry[K]
	// workers waiting on cond and not yet signalled: a push signals only
	// while one is, and counts it off, so a stream of adds while a woken
	// worker waits for a CPU does not signal again and again.
	parked   int
	hasReady atomic.Bool // ready.len() > 0, for Get to spin on without the lock
	// the entries handed out last: Done usually finds its key here and
	// skips a table lookup, a cache miss when many keys are queued.
	recent     [4]*entry[K]
	recentNext int

	shuttingDown bool
	draining     bool
	drained      chan struct{} // closed once shut down and no key is queued or in flight

	clock   Clock
	metrics *queueMetrics
	owner   *Metrics

	// delayed adds: a min-heap on readiness time, one item per key.
	waiting      waitHeap[K]
	waitingByKey map[K]*waitItem[K]
	timer        Timer
	timerAt      time.Time
	timerGen     uint64

	// retries
	baseDelay, maxDelay time.Duration
	failures            map[K]int
	bucket              *rate.Limiter
}

// entry is the state of a key that is queued or in flight.
type entry[K comparable] struct {
	key       K
	hash      uint64 // key's hash in entries
	state     uint8
	addedAt   time.Time // set only with metrics
	startedAt time.Time // set only with metrics
}

const (
	stateQueued     uint8 = 1 << iota // in ready, waiting for a worker
	stateProcessing                   // handed out, Done not yet called
	stateDirty                        // added again while processing
)

// NewQueue returns an empty queue.
func NewQueue[K comparable](opts QueueOptions) *Queue[K] {
	q := &Queue[K]{
		entries:      newKeyTable[K](),
		clock:        clockOr(opts.Clock),
		waitingByKey: map[K]*waitItem[K]{},
		failures:     map[K]int{},
		baseDelay:    opts.BaseDelay,
		maxDelay:     opts.MaxDelay,
		owner:        opts.Metrics,
	}
	q.cond.L = &q.mu
	if q.baseDelay <= 0 {
		q.baseDelay = DefaultBaseDelay
	}
	if q.maxDelay <= 0 {
		q.maxDelay = DefaultMaxDelay
	}
	qps, burst := opts.QPS, opts.Burst
	if qps == 0 {
		qps = DefaultQPS
	}
	if burst <= 0 {
		burst = DefaultBurst
	}
	if qps > 0 {
		q.bucket = rate.NewLimiter(rate.Limit(qps), burst)
	}
	q.metrics = opts.Metrics.forQueue(opts.Name, q.inflight)
	return q
}

// Add queues key, unless it is already waiting. A key being processed is
// handed out again after its Done. Adds after ShutDown are ignored.
func (q *Queue[K]) Add(key K) {
	h := q.entries.hash(key) // outside the lock: workers run meanwhile
	q.mu.Lock()
	wake := q.addLocked(key, h)
	q.mu.Unlock()
	// Signalled outside the lock, the woken worker does not find it held.
	if wake {
		q.cond.Signal()
	}
}

// pushReadyLocked queues e and reports whether a parked worker should be
// woken: waking is the costly part of a hand-off, and busy workers find the
// key on their next Get.
func (q *Queue[K]) pushReadyLocked(e *entry[K]) (wake bool) {
	q.ready.push(e)
	if q.ready.len() == 1 {
		q.hasReady.Store(true)
	}
	if q.parked == 0 {
		return false
	}
	q.parked--
	return true
}

// addLocked adds key, whose hash is h, and reports whether to signal cond.
func (q *Queue[K]) addLocked(key K, h uint64) (wake bool) {
	if q.shuttingDown {
		return false
	}
	slot, e := q.entries.find(key, h)
	switch {
	case e == nil:
		e = q.newEntry(key)
		e.state = stateQueued
		q.entries.insertAt(slot, h, e)
		q.active++
		wake = q.pushReadyLocked(e)
	case e.state&(stateQueued|stateDirty) != 0:
		return false // already waiting: de-duplicated
	default: // processing: hand out again after Done
		e.state |= stateDirty
	}
	if m := q.metrics; m != nil {
		m.adds.Inc()
		m.depth.Inc()
		e.addedAt = q.clock.Now()
	}
	return wake
}

func (q *Queue[K]) release(e *entry[K]) {
	var zero K
	e.key, e.state = zero, 0
	q.free = append(q.free, e)
}

func (q *Queue[K]) newEntry(key K) *entry[K] {
	if n := len(q.free); n > 0 {
		e := q.free[n-1]
		q.free = q.free[:n-1]
		e.key = key
		return e
	}
	return &entry[K]{key: key}
}

// getSpins is how many times Get yields before it parks.
const getSpins = 4

// Get blocks until a key is ready and hands it out; the caller must call
// Done(key) when finished with it. ok is false once the queue is shut down
// (after ShutDownWithDrain, once every remaining key was handed out).
func (q *Queue[K]) Get() (key K, ok bool) {
	// A worker that finds the queue empty yields a few times before it
	// parks: under load the next key usually arrives within a scheduling
	// quantum, and parking and waking a goroutine costs more than that. It
	// spins on an atomic flag, not the lock, so the producer is not held up.
	for spin := 0; !q.hasReady.Load() && spin < getSpins; spin++ {
		runtime.Gosched()
	}
	q.mu.Lock()
	for q.ready.len() == 0 && !q.shuttingDown {
		q.parked++ // counted off by whoever signals, or by a broadcast
		q.cond.Wait()
	}
	if q.ready.len() == 0 || (q.shuttingDown && !q.draining) {
		q.mu.Unlock()
		return key, false
	}
	e := q.popReadyLocked()
	e.state = stateProcessing
	q.recent[q.recentNext] = e
	q.recentNext = (q.recentNext + 1) % len(q.recent)
	var waited time.Duration
	if q.metrics != nil {
		now := q.clock.Now()
		waited = now.Sub(e.addedAt)
		e.startedAt = now
	}
	key = e.key
	q.mu.Unlock()
	// Metrics are recorded outside the lock: they are atomic on their own.
	if m := q.metrics; m != nil {
		m.depth.Dec()
		m.queueDuration.Observe(seconds(waited))
	}
	return key, true
}

// Done marks key finished. If it was added while being processed, it is
// queued again. Done of a key not handed out is ignored.
func (q *Queue[K]) Done(key K) {
	q.mu.Lock()
	// An entry holds a key only while it is that key's entry in the table, so
	// a recent entry in flight with this key is the one the table would give.
	var e *entry[K]
	for _, r := range q.recent {
		if r != nil && r.state&stateProcessing != 0 && r.key == key {
			e = r
			break
		}
	}
	if e == nil {
		e = q.entries.get(key)
	}
	if e == nil || e.state&stateProcessing == 0 {
		q.mu.Unlock()
		return
	}
	var worked time.Duration
	if q.metrics != nil {
		worked = q.clock.Now().Sub(e.startedAt)
	}
	wake := false
	if e.state&stateDirty != 0 && (!q.shuttingDown || q.draining) {
		e.state = stateQueued
		wake = q.pushReadyLocked(e)
	} else {
		if e.state&stateDirty != 0 && q.metrics != nil {
			q.metrics.depth.Dec() // dropped by ShutDown
		}
		q.entries.remove(e)
		q.release(e)
		q.active--
		q.checkDrainedLocked()
	}
	q.mu.Unlock()
	if wake {
		q.cond.Signal()
	}
	if m := q.metrics; m != nil {
		m.workDuration.Observe(seconds(worked))
	}
}

// AddAfter adds key once d has elapsed (at once if d <= 0). Of several
// pending delayed adds of one key, the earliest wins.
func (q *Queue[K]) AddAfter(key K, d time.Duration) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.shuttingDown {
		return
	}
	if d <= 0 {
		if q.addLocked(key, q.entries.hash(key)) {
			q.cond.Signal()
		}
		return
	}
	at := q.clock.Now().Add(d)
	if w, ok := q.waitingByKey[key]; ok {
		if !at.Before(w.at) {
			return
		}
		w.at = at
		heap.Fix(&q.waiting, w.index)
	} else {
		w := &waitItem[K]{key: key, at: at}
		heap.Push(&q.waiting, w)
		q.waitingByKey[key] = w
	}
	q.armLocked()
}

// armLocked makes sure a timer fires when the earliest delayed add is due.
func (q *Queue[K]) armLocked() {
	if len(q.waiting) == 0 {
		return
	}
	at := q.waiting[0].at
	if q.timer != nil && !at.Before(q.timerAt) {
		return // the armed timer fires earlier or on time
	}
	if q.timer != nil {
		q.timer.Stop()
	}
	q.timerGen++
	gen := q.timerGen
	q.timerAt = at
	q.timer = q.clock.AfterFunc(at.Sub(q.clock.Now()), func() { q.fire(gen) })
}

// fire moves every due delayed add to the queue and re-arms the timer.
func (q *Queue[K]) fire(gen uint64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if gen != q.timerGen || q.shuttingDown {
		return // replaced by an earlier timer, or shut down
	}
	q.timer = nil
	now := q.clock.Now()
	for len(q.waiting) > 0 && !q.waiting[0].at.After(now) {
		w := heap.Pop(&q.waiting).(*waitItem[K])
		delete(q.waitingByKey, w.key)
		if q.addLocked(w.key, q.entries.hash(w.key)) {
			q.cond.Signal()
		}
	}
	q.armLocked()
}

// AddRateLimited adds key after its retry delay: its exponential backoff
// (BaseDelay doubled per retry since the last Forget, up to MaxDelay) or the
// token bucket's wait, whichever is longer.
func (q *Queue[K]) AddRateLimited(key K) {
	q.mu.Lock()
	if q.shuttingDown {
		q.mu.Unlock()
		return
	}
	d := q.backoffLocked(key)
	if q.metrics != nil {
		q.metrics.retries.Inc()
	}
	q.mu.Unlock()
	q.AddAfter(key, d)
}

func (q *Queue[K]) backoffLocked(key K) time.Duration {
	n := q.failures[key]
	q.failures[key] = n + 1
	d := q.maxDelay
	if n < 62 { // beyond this the shift overflows; the cap applies anyway
		if b := float64(q.baseDelay) * math.Exp2(float64(n)); b < float64(q.maxDelay) {
			d = time.Duration(b)
		}
	}
	if q.bucket != nil {
		now := q.clock.Now()
		if w := q.bucket.ReserveN(now, 1).DelayFrom(now); w > d {
			d = w
		}
	}
	return d
}

// Forget resets key's backoff: call it when the key was processed successfully.
func (q *Queue[K]) Forget(key K) {
	q.mu.Lock()
	delete(q.failures, key)
	q.mu.Unlock()
}

// NumRequeues reports how many times key was added rate-limited since its last Forget.
func (q *Queue[K]) NumRequeues(key K) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.failures[key]
}

// Len reports the number of keys waiting to be handed out (not the delayed ones).
func (q *Queue[K]) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.ready.len()
}

// ShutDown stops the queue: Get returns false at once, later adds and
// pending delayed adds are dropped. Keys in flight may still call Done.
func (q *Queue[K]) ShutDown() {
	q.mu.Lock()
	q.shutDownLocked(false)
	q.mu.Unlock()
}

// ShutDownWithDrain stops accepting adds, lets workers take every queued key
// (and the keys added while in flight before the shutdown), and
// returns once none is queued or in flight, or with ctx's error when ctx
// ends first (the queue is then shut down as by ShutDown).
func (q *Queue[K]) ShutDownWithDrain(ctx context.Context) error {
	q.mu.Lock()
	q.shutDownLocked(true)
	drained := q.drained
	q.mu.Unlock()
	select {
	case <-drained:
		return nil
	case <-ctx.Done():
		q.ShutDown()
		return ctx.Err()
	}
}

func (q *Queue[K]) shutDownLocked(drain bool) {
	if !q.shuttingDown {
		q.shuttingDown = true
		q.draining = drain
		q.drained = make(chan struct{})
		if q.timer != nil {
			q.timer.Stop()
			q.timer = nil
		}
		q.timerGen++
		clear(q.waiting)
		q.waiting = q.waiting[:0]
		clear(q.waitingByKey)
		q.owner.releaseQueue(q.metrics)
	} else if !drain {
		q.draining = false
	}
	if !q.draining {
		// Queued keys will never be handed out: drop them.
		for q.ready.len() > 0 {
			e := q.popReadyLocked()
			q.entries.remove(e)
			q.release(e)
			q.active--
			if q.metrics != nil {
				q.metrics.depth.Dec()
			}
		}
	}
	q.checkDrainedLocked()
	q.parked = 0
	q.cond.Broadcast()
}

func (q *Queue[K]) checkDrainedLocked() {
	if !q.shuttingDown || q.active != 0 {
		return
	}
	select {
	case <-q.drained:
	default:
		close(q.drained)
	}
}

// ShuttingDown reports whether ShutDown or ShutDownWithDrain was called.
func (q *Queue[K]) ShuttingDown() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.shuttingDown
}

// inflight computes the in-flight gauges for scrapes.
func (q *Queue[K]) inflight() (unfinished, longest float64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.clock.Now()
	q.entries.all(func(e *entry[K]) {
		if e.state&stateProcessing != 0 {
			s := now.Sub(e.startedAt).Seconds()
			unfinished += s
			longest = max(longest, s)
		}
	})
	return unfinished, longest
}

func (q *Queue[K]) popReadyLocked() *entry[K] {
	e := q.ready.pop()
	if q.ready.len() == 0 {
		q.hasReady.Store(false)
	}
	return e
}

// ring is a FIFO of entries on a growable circular buffer.
type ring[K comparable] struct {
	buf        []*entry[K]
	head, size int
}

func (r *ring[K]) len() int { return r.size }

func (r *ring[K]) push(e *entry[K]) {
	if r.size == len(r.buf) {
		n := make([]*entry[K], max(16, 2*len(r.buf)))
		m := copy(n, r.buf[r.head:])
		copy(n[m:], r.buf[:r.head])
		r.buf, r.head = n, 0
	}
	r.buf[(r.head+r.size)%len(r.buf)] = e
	r.size++
}

func (r *ring[K]) pop() *entry[K] {
	e := r.buf[r.head]
	r.buf[r.head] = nil
	r.head = (r.head + 1) % len(r.buf)
	r.size--
	return e
}

// waitItem is a delayed add.
type waitItem[K comparable] struct {
	key   K
	at    time.Time
	index int
}

type waitHeap[K comparable] []*waitItem[K]

func (h waitHeap[K]) Len() int           { return len(h) }
func (h waitHeap[K]) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h waitHeap[K]) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}
func (h *waitHeap[K]) Push(x any) {
	w := x.(*waitItem[K])
	w.index = len(*h)
	*h = append(*h, w)
}
func (h *waitHeap[K]) Pop() any {
	old := *h
	w := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return w
}
