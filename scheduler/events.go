package scheduler

import (
	"context"
	"errors"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/store"
)

// Event recording defaults, as client-go's event broadcaster and correlator
// have them.
const (
	// DefaultEventQueueSize bounds the events waiting to be written.
	DefaultEventQueueSize = 1000
	// eventBatch caps the events taken off the queue per write round.
	eventBatch = 256
	// eventAggregateWindow: a repeat within it bumps the stored event's count.
	eventAggregateWindow = 10 * time.Minute
	// maxCorrelated bounds the repeats remembered (the correlator's LRU).
	maxCorrelated = 4096
)

// eventRecorder writes Events in the background so that scheduling never
// waits for them: Record queues (or, when the queue is full, drops and
// counts, as client-go does); run writes them in batches, and a repeat of an
// event (same object, type, reason and message) within 10 minutes, in the
// batch or before, updates the stored event's count and lastTimestamp
// instead of creating another one, like client-go's EventCorrelator.
type eventRecorder struct {
	events              store.Typed[*core.Event]
	component, instance string
	now                 func() time.Time
	log                 logr.Logger
	queue               chan pendingEvent
	seq                 atomic.Uint64

	recorded, written, dropped atomic.Int64

	correlated map[eventKey]*core.Event // owned by run
}

type pendingEvent struct {
	key   eventKey
	rv    string // the involved object's resourceVersion
	count int32
	first time.Time
	last  time.Time
}

// eventKey is what makes two events the same one for aggregation.
type eventKey struct {
	namespace, name, uid string
	typ, reason, message string
}

func newEventRecorder(events store.Typed[*core.Event], component, instance string, queueSize int, now func() time.Time, log logr.Logger) *eventRecorder {
	if queueSize <= 0 {
		queueSize = DefaultEventQueueSize
	}
	return &eventRecorder{events: events, component: component, instance: instance, now: now, log: log,
		queue: make(chan pendingEvent, queueSize), correlated: map[eventKey]*core.Event{}}
}

// Record queues an event about pod; it never blocks.
func (r *eventRecorder) Record(pod *core.Pod, typ, reason, msg string) {
	r.recorded.Add(1)
	now := r.now()
	ev := pendingEvent{key: eventKey{namespace: pod.Namespace, name: pod.Name, uid: pod.UID, typ: typ, reason: reason, message: msg},
		rv: pod.ResourceVersion, count: 1, first: now, last: now}
	select {
	case r.queue <- ev:
	default:
		r.dropped.Add(1)
	}
}

// run writes queued events until ctx ends; what is still queued then is
// dropped (and counted).
func (r *eventRecorder) run(ctx context.Context) {
	batch := make([]pendingEvent, 0, eventBatch)
	index := map[eventKey]int{}
	for {
		select {
		case <-ctx.Done():
			r.dropped.Add(int64(len(r.queue)))
			return
		case ev := <-r.queue:
			batch = append(batch[:0], ev)
		}
	drain:
		for len(batch) < eventBatch {
			select {
			case ev := <-r.queue:
				batch = append(batch, ev)
			default:
				break drain
			}
		}
		// Repeats within the batch become one write.
		clear(index)
		merged := batch[:0]
		for _, ev := range batch {
			if i, ok := index[ev.key]; ok {
				merged[i].count += ev.count
				merged[i].last, merged[i].rv = ev.last, ev.rv
				r.written.Add(1)
				continue
			}
			index[ev.key] = len(merged)
			merged = append(merged, ev)
		}
		for _, ev := range merged {
			r.write(ctx, ev)
			r.written.Add(1)
		}
	}
}

// write stores one (possibly aggregated) event: an update of the stored
// repeat when there is a recent one, else a new Event.
func (r *eventRecorder) write(ctx context.Context, ev pendingEvent) {
	if prev, ok := r.correlated[ev.key]; ok && ev.last.Sub(prev.LastTimestamp.Time) < eventAggregateWindow {
		next := *prev
		next.Count += ev.count
		next.LastTimestamp = eventTime(ev.last)
		next.InvolvedObject.ResourceVersion = ev.rv
		updated, err := r.events.Update(ctx, &next, store.WriteOptions{})
		if err == nil {
			r.correlated[ev.key] = updated
			return
		}
		if !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrConflict) {
			r.logError(ctx, err, ev)
			return
		}
		// Deleted (events expire) or changed by someone else: start a new one.
		delete(r.correlated, ev.key)
	}
	k := ev.key
	e := &core.Event{
		ObjectMeta: apis.ObjectMeta{
			Name:      k.name + "." + strconv.FormatInt(ev.first.UnixNano(), 16) + strconv.FormatUint(r.seq.Add(1), 16),
			Namespace: k.namespace,
		},
		InvolvedObject: core.ObjectReference{Kind: "Pod", APIVersion: "v1", Namespace: k.namespace, Name: k.name,
			UID: k.uid, ResourceVersion: ev.rv},
		Reason: k.reason, Message: k.message, EventType: k.typ, Count: ev.count,
		Source:              core.EventSource{Component: r.component},
		FirstTimestamp:      eventTime(ev.first),
		LastTimestamp:       eventTime(ev.last),
		ReportingController: r.component,
		ReportingInstance:   r.instance,
	}
	created, err := r.events.Create(ctx, e, store.WriteOptions{})
	if err != nil {
		r.logError(ctx, err, ev)
		return
	}
	if len(r.correlated) >= maxCorrelated {
		clear(r.correlated) // bounded: forget rather than grow
	}
	r.correlated[k] = created
}

// eventTime is t as stored (whole seconds, local), so that the store can
// keep the written event as decoded instead of decoding it again.
func eventTime(t time.Time) apis.Time { return apis.NewTime(t.Truncate(time.Second).Local()) }

func (r *eventRecorder) logError(ctx context.Context, err error, ev pendingEvent) {
	if ctx.Err() == nil {
		r.log.Error(err, "writing event", "pod", ev.key.name, "reason", ev.key.reason)
	}
}
