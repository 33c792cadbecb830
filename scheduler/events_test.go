package scheduler

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/apis/builtin"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/store"
	"github.com/gantry-sdk/gantry/store/memory"
)

func newEventStore(t *testing.T) store.Typed[*core.Event] {
	scheme, err := builtin.NewScheme()
	require.NoError(t, err)
	kv := memory.New(memory.Options{})
	t.Cleanup(func() { _ = kv.Close() })
	s, err := store.New(kv, scheme, store.Options{})
	require.NoError(t, err)
	return store.For[*core.Event](s)
}

func listEvents(t *testing.T, events store.Typed[*core.Event]) []*core.Event {
	l, err := events.List(context.Background(), store.ListOptions{})
	require.NoError(t, err)
	return l.Items
}

// runRecorder runs r until the test ends.
func runRecorder(t *testing.T, r *eventRecorder) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { r.run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
}

func waitWritten(t *testing.T, r *eventRecorder, n int64) {
	require.Eventually(t, func() bool { return r.written.Load() >= n }, 10*time.Second, time.Millisecond)
}

// Repeats of an event, queued together or one after another, end as one
// Event whose count and lastTimestamp grow, as client-go's correlator does.
func TestEventRecorderAggregatesRepeats(t *testing.T) {
	events := newEventStore(t)
	now := time.Date(2026, 11, 22, 1, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	r := newEventRecorder(events, "default-scheduler", "sched-1", 0, clock, logr.Discard())
	pod := mkPod("web", "", "")
	pod.UID = "uid-1"
	// Three repeats queued before the writer starts land in one batch.
	for range 3 {
		r.Record(pod, core.EventTypeWarning, "FailedScheduling", "0/1 nodes are available")
	}
	r.Record(mkPod("other", "", ""), core.EventTypeWarning, "FailedScheduling", "0/1 nodes are available")
	runRecorder(t, r)
	waitWritten(t, r, 4)
	got := listEvents(t, events)
	require.Len(t, got, 2)
	for _, e := range got {
		if e.InvolvedObject.Name == "web" {
			require.EqualValues(t, 3, e.Count)
			require.Equal(t, "uid-1", e.InvolvedObject.UID)
			require.Equal(t, "default-scheduler", e.Source.Component)
			require.Equal(t, "sched-1", e.ReportingInstance)
		}
	}

	// A later repeat updates the stored event.
	mu.Lock()
	now = now.Add(time.Minute)
	mu.Unlock()
	r.Record(pod, core.EventTypeWarning, "FailedScheduling", "0/1 nodes are available")
	waitWritten(t, r, 5)
	got = listEvents(t, events)
	require.Len(t, got, 2)
	for _, e := range got {
		if e.InvolvedObject.Name == "web" {
			require.EqualValues(t, 4, e.Count)
			require.True(t, e.LastTimestamp.Equal(now), "lastTimestamp %v", e.LastTimestamp)
			require.True(t, e.FirstTimestamp.Before(e.LastTimestamp.Time))
		}
	}

	// Another message is another event; so is a repeat after the window.
	r.Record(pod, core.EventTypeWarning, "FailedScheduling", "0/2 nodes are available")
	mu.Lock()
	now = now.Add(eventAggregateWindow)
	mu.Unlock()
	r.Record(pod, core.EventTypeWarning, "FailedScheduling", "0/1 nodes are available")
	waitWritten(t, r, 7)
	require.Len(t, listEvents(t, events), 4)
	_, _, dropped := r.recorded.Load(), r.written.Load(), r.dropped.Load()
	require.Zero(t, dropped)
}

// Record never blocks: beyond the queue's size events are dropped and
// counted; the queued ones are still written.
func TestEventRecorderDropsWhenFull(t *testing.T) {
	events := newEventStore(t)
	r := newEventRecorder(events, "default-scheduler", "", 2, time.Now, logr.Discard())
	for _, name := range []string{"a", "b", "c", "d", "e"} {
		r.Record(mkPod(name, "", ""), core.EventTypeNormal, "Scheduled", "Successfully assigned default/"+name+" to n1")
	}
	require.EqualValues(t, 5, r.recorded.Load())
	require.EqualValues(t, 3, r.dropped.Load())
	runRecorder(t, r)
	waitWritten(t, r, 2)
	got := listEvents(t, events)
	require.Len(t, got, 2)
	require.Equal(t, "a", got[0].InvolvedObject.Name)
	require.Equal(t, "b", got[1].InvolvedObject.Name)
}

// Events still queued when the recorder stops are counted as dropped.
func TestEventRecorderCountsUnwrittenOnStop(t *testing.T) {
	r := newEventRecorder(newEventStore(t), "default-scheduler", "", 0, time.Now, logr.Discard())
	r.Record(mkPod("a", "", ""), core.EventTypeNormal, "Scheduled", "x")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r.run(ctx)
	require.EqualValues(t, 1, r.recorded.Load())
	require.EqualValues(t, 1, r.written.Load()+r.dropped.Load())
}
