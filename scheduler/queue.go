package scheduler

import (
	"container/heap"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/core"
)

// ClusterEvent is a change that may make unschedulable pods fit.
type ClusterEvent string

// The cluster events the queue reacts to.
const (
	EventNodeAdd            ClusterEvent = "NodeAdd"
	EventNodeUpdate         ClusterEvent = "NodeUpdate"
	EventAssignedPodAdd     ClusterEvent = "AssignedPodAdd"
	EventAssignedPodUpdate  ClusterEvent = "AssignedPodUpdate"
	EventAssignedPodDelete  ClusterEvent = "AssignedPodDelete"
	EventUnschedulableFlush ClusterEvent = "UnschedulableTimeout"
	// EventNamespaceChange: a namespace appeared or its labels changed.
	EventNamespaceChange ClusterEvent = "NamespaceChange"
)

// pluginEvents lists, for the default plugins, the events that can undo
// their rejections. Plugins not listed (user plugins) react to every event.
var pluginEvents = map[string][]ClusterEvent{
	NodeResourcesFitName:  {EventNodeAdd, EventNodeUpdate, EventAssignedPodDelete, EventAssignedPodUpdate},
	NodePortsName:         {EventNodeAdd, EventAssignedPodDelete},
	NodeNameName:          {EventNodeAdd},
	NodeUnschedulableName: {EventNodeAdd, EventNodeUpdate},
	NodeAffinityName:      {EventNodeAdd, EventNodeUpdate},
	TaintTolerationName:   {EventNodeAdd, EventNodeUpdate},
	InterPodAffinityName:  {EventNodeAdd, EventNodeUpdate, EventAssignedPodAdd, EventAssignedPodUpdate, EventAssignedPodDelete, EventNamespaceChange},
	PodTopologySpreadName: {EventNodeAdd, EventNodeUpdate, EventAssignedPodAdd, EventAssignedPodUpdate, EventAssignedPodDelete},
}

func eventMayHelp(ev ClusterEvent, plugins []string) bool {
	if ev == EventUnschedulableFlush || len(plugins) == 0 {
		return true
	}
	for _, p := range plugins {
		evs, known := pluginEvents[p]
		if !known || slices.Contains(evs, ev) {
			return true
		}
	}
	return false
}

// QueueOptions tune a Queue. The zero value works.
type QueueOptions struct {
	Clock Clock
	// InitialBackoff (1 s) doubles per failed attempt up to MaxBackoff (10 s).
	InitialBackoff, MaxBackoff time.Duration
	// MaxUnschedulableDuration is how long a pod waits for a helpful event
	// before it is retried anyway (5 min).
	MaxUnschedulableDuration time.Duration
}

// Clock is the time source of the queue and the scheduler.
type Clock interface{ Now() time.Time }

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// QueuedPod is a pending pod with its scheduling history.
type QueuedPod struct {
	Info *PodInfo
	// Timestamp is when the pod was (re)queued: FIFO among equal priorities.
	Timestamp time.Time
	// Attempts counts scheduling attempts.
	Attempts int
	// UnschedulablePlugins rejected the pod in its last attempt.
	UnschedulablePlugins []string
	backoffUntil         time.Time
	unschedulableSince   time.Time
	index                int
}

// Queue holds pending pods: activeQ (ready, highest priority then oldest
// first), backoffQ (failed recently, waiting 1 s doubling to 10 s per pod)
// and the unschedulable pods (waiting for a cluster event that may make
// them fit, or for MaxUnschedulableDuration). Safe for concurrent use.
type Queue struct {
	opts QueueOptions

	mu            sync.Mutex
	active        podHeap
	backoff       podHeap
	unschedulable map[apis.Key]*QueuedPod
	where         map[apis.Key]*QueuedPod // every pod in any of the three
	inFlight      map[apis.Key]bool
	// moveCycle is the cycle of the last MoveAll: pods that failed in an
	// attempt that began before it go to backoff, not unschedulable, since
	// the event may have come too late for their attempt to see.
	cycle, moveCycle int64
	notify           chan struct{}
	closed           bool
}

// NewQueue returns an empty queue.
func NewQueue(opts QueueOptions) *Queue {
	if opts.Clock == nil {
		opts.Clock = realClock{}
	}
	if opts.InitialBackoff <= 0 {
		opts.InitialBackoff = time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 10 * time.Second
	}
	if opts.MaxUnschedulableDuration <= 0 {
		opts.MaxUnschedulableDuration = 5 * time.Minute
	}
	return &Queue{
		opts:          opts,
		active:        podHeap{less: activeLess},
		backoff:       podHeap{less: func(a, b *QueuedPod) bool { return a.backoffUntil.Before(b.backoffUntil) }},
		unschedulable: map[apis.Key]*QueuedPod{},
		where:         map[apis.Key]*QueuedPod{},
		inFlight:      map[apis.Key]bool{},
		notify:        make(chan struct{}),
	}
}

func activeLess(a, b *QueuedPod) bool {
	if a.Info.Priority != b.Info.Priority {
		return a.Info.Priority > b.Info.Priority
	}
	return a.Timestamp.Before(b.Timestamp)
}

func (q *Queue) wake() {
	close(q.notify)
	q.notify = make(chan struct{})
}

// Add queues a new pending pod (or updates a queued one).
func (q *Queue) Add(pod *core.Pod) {
	q.mu.Lock()
	defer q.mu.Unlock()
	k := apis.Key{Namespace: pod.Namespace, Name: pod.Name}
	if qp, ok := q.where[k]; ok {
		q.updateLocked(qp, pod)
		return
	}
	if q.inFlight[k] {
		return // the attempt in flight requeues it
	}
	qp := &QueuedPod{Info: NewPodInfo(pod), Timestamp: q.opts.Clock.Now()}
	q.where[k] = qp
	heap.Push(&q.active, qp)
	q.wake()
}

// Update replaces a queued pod. A pod waiting as unschedulable whose spec
// changed gets another try (it may now fit).
func (q *Queue) Update(pod *core.Pod) {
	q.Add(pod)
}

func (q *Queue) updateLocked(qp *QueuedPod, pod *core.Pod) {
	specChanged := qp.Info.Pod.Generation != pod.Generation || !apis.SemanticEqual(qp.Info.Pod.Labels, pod.Labels)
	qp.Info = NewPodInfo(pod)
	k := qp.Info.Key()
	switch {
	case qp.index >= 0 && q.active.contains(qp):
		heap.Fix(&q.active, qp.index)
	case q.backoff.contains(qp):
		heap.Fix(&q.backoff, qp.index)
	case q.unschedulable[k] == qp && specChanged:
		delete(q.unschedulable, k)
		q.requeueLocked(qp)
	}
}

// Delete removes a pod from the queue.
func (q *Queue) Delete(pod *core.Pod) {
	q.mu.Lock()
	defer q.mu.Unlock()
	k := apis.Key{Namespace: pod.Namespace, Name: pod.Name}
	qp, ok := q.where[k]
	if !ok {
		return
	}
	delete(q.where, k)
	switch {
	case q.active.contains(qp):
		heap.Remove(&q.active, qp.index)
	case q.backoff.contains(qp):
		heap.Remove(&q.backoff, qp.index)
	default:
		delete(q.unschedulable, k)
	}
}

// Pop returns the next pod to schedule, waiting until there is one; it
// fails when ctx ends or the queue is closed. The caller must hand the pod
// back with Done, AddUnschedulable or AddBackoff.
func (q *Queue) Pop(ctx context.Context) (*QueuedPod, int64, error) {
	for {
		q.mu.Lock()
		if q.closed {
			q.mu.Unlock()
			return nil, 0, context.Canceled
		}
		if q.active.Len() > 0 {
			qp := heap.Pop(&q.active).(*QueuedPod)
			k := qp.Info.Key()
			delete(q.where, k)
			q.inFlight[k] = true
			qp.Attempts++
			q.cycle++
			c := q.cycle
			q.mu.Unlock()
			return qp, c, nil
		}
		ch := q.notify
		q.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, 0, ctx.Err()
		case <-ch:
		}
	}
}

// Close wakes every Pop, which then fails.
func (q *Queue) Close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	q.wake()
}

// Done ends an attempt that needs no retry (the pod was bound or is gone).
func (q *Queue) Done(k apis.Key) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.inFlight, k)
}

func (q *Queue) backoffFor(qp *QueuedPod) time.Duration {
	d := q.opts.InitialBackoff
	for i := 1; i < qp.Attempts && d < q.opts.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, q.opts.MaxBackoff)
}

// AddUnschedulable puts back a pod that no node fit in the attempt of
// cycle, with the plugins that rejected it.
func (q *Queue) AddUnschedulable(qp *QueuedPod, cycle int64, plugins []string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	k := qp.Info.Key()
	if !q.inFlight[k] {
		return // deleted meanwhile
	}
	delete(q.inFlight, k)
	now := q.opts.Clock.Now()
	qp.UnschedulablePlugins = plugins
	qp.Timestamp = now
	qp.backoffUntil = now.Add(q.backoffFor(qp))
	q.where[k] = qp
	if q.moveCycle >= cycle {
		heap.Push(&q.backoff, qp)
		return
	}
	qp.unschedulableSince = now
	q.unschedulable[k] = qp
}

// AddBackoff puts back a pod whose attempt failed for another reason (an
// error, a failed binding): it is retried after its backoff.
func (q *Queue) AddBackoff(qp *QueuedPod) {
	q.mu.Lock()
	defer q.mu.Unlock()
	k := qp.Info.Key()
	if !q.inFlight[k] {
		return
	}
	delete(q.inFlight, k)
	now := q.opts.Clock.Now()
	qp.Timestamp = now
	qp.backoffUntil = now.Add(q.backoffFor(qp))
	q.where[k] = qp
	heap.Push(&q.backoff, qp)
}

func (q *Queue) requeueLocked(qp *QueuedPod) {
	if q.opts.Clock.Now().Before(qp.backoffUntil) {
		heap.Push(&q.backoff, qp)
		return
	}
	heap.Push(&q.active, qp)
	q.wake()
}

// MoveAllToActiveOrBackoff moves the unschedulable pods that ev may help.
func (q *Queue) MoveAllToActiveOrBackoff(ev ClusterEvent) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for k, qp := range q.unschedulable {
		if eventMayHelp(ev, qp.UnschedulablePlugins) {
			delete(q.unschedulable, k)
			q.requeueLocked(qp)
		}
	}
	q.moveCycle = q.cycle
}

// FlushBackoffCompleted moves pods whose backoff ended to activeQ.
func (q *Queue) FlushBackoffCompleted() {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.opts.Clock.Now()
	moved := false
	for q.backoff.Len() > 0 && !q.backoff.items[0].backoffUntil.After(now) {
		qp := heap.Pop(&q.backoff).(*QueuedPod)
		heap.Push(&q.active, qp)
		moved = true
	}
	if moved {
		q.wake()
	}
}

// FlushUnschedulableLeftover retries pods unschedulable for longer than
// MaxUnschedulableDuration.
func (q *Queue) FlushUnschedulableLeftover() {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.opts.Clock.Now()
	for k, qp := range q.unschedulable {
		if now.Sub(qp.unschedulableSince) >= q.opts.MaxUnschedulableDuration {
			delete(q.unschedulable, k)
			q.requeueLocked(qp)
		}
	}
}

// Lengths returns the sizes of activeQ, backoffQ and the unschedulable pods.
func (q *Queue) Lengths() (active, backoff, unschedulable int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.active.Len(), q.backoff.Len(), len(q.unschedulable)
}

// podHeap is a heap of pods that knows each pod's index.
type podHeap struct {
	items []*QueuedPod
	less  func(a, b *QueuedPod) bool
}

func (h *podHeap) contains(qp *QueuedPod) bool {
	return qp.index >= 0 && qp.index < len(h.items) && h.items[qp.index] == qp
}
func (h podHeap) Len() int           { return len(h.items) }
func (h podHeap) Less(i, j int) bool { return h.less(h.items[i], h.items[j]) }
func (h podHeap) Swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	h.items[i].index = i
	h.items[j].index = j
}
func (h *podHeap) Push(x any) {
	qp := x.(*QueuedPod)
	qp.index = len(h.items)
	h.items = append(h.items, qp)
}
func (h *podHeap) Pop() any {
	n := len(h.items)
	qp := h.items[n-1]
	h.items = h.items[:n-1]
	qp.index = -1
	return qp
}
