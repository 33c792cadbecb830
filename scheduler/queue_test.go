package scheduler

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/apis"
)

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Step(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func pop(t *testing.T, q *Queue) (*QueuedPod, int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	qp, c, err := q.Pop(ctx)
	require.NoError(t, err)
	return qp, c
}

func TestQueuePriorityThenFIFO(t *testing.T) {
	clk := &fakeClock{now: time.Unix(1000, 0)}
	q := NewQueue(QueueOptions{Clock: clk})
	q.Add(mkPod("low", "", "", priority(1)))
	clk.Step(time.Millisecond)
	q.Add(mkPod("high-old", "", "", priority(10)))
	clk.Step(time.Millisecond)
	q.Add(mkPod("high-new", "", "", priority(10)))
	var order []string
	for range 3 {
		qp, _ := pop(t, q)
		order = append(order, qp.Info.Pod.Name)
		q.Done(qp.Info.Key())
	}
	assert.Equal(t, []string{"high-old", "high-new", "low"}, order)
}

func TestQueueBackoffDoublesToMax(t *testing.T) {
	clk := &fakeClock{now: time.Unix(1000, 0)}
	q := NewQueue(QueueOptions{Clock: clk})
	q.Add(mkPod("p", "", ""))
	want := []time.Duration{1 * time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second}
	for _, d := range want {
		qp, _ := pop(t, q)
		q.AddBackoff(qp)
		clk.Step(d - time.Millisecond)
		q.FlushBackoffCompleted()
		a, b, _ := q.Lengths()
		require.Equal(t, [2]int{0, 1}, [2]int{a, b}, "still backing off just before %v", d)
		clk.Step(time.Millisecond)
		q.FlushBackoffCompleted()
		a, b, _ = q.Lengths()
		require.Equal(t, [2]int{1, 0}, [2]int{a, b}, "back in activeQ after %v", d)
	}
}

func TestQueueUnschedulableRequeueOnEvents(t *testing.T) {
	clk := &fakeClock{now: time.Unix(1000, 0)}
	q := NewQueue(QueueOptions{Clock: clk})
	q.Add(mkPod("cpu", "", ""))
	q.Add(mkPod("affinity", "", ""))
	qa, ca := pop(t, q)
	qb, cb := pop(t, q)
	q.AddUnschedulable(qa, ca, []string{NodeResourcesFitName})
	q.AddUnschedulable(qb, cb, []string{NodeAffinityName})
	_, _, u := q.Lengths()
	require.Equal(t, 2, u)

	// A pod added elsewhere does not help either.
	q.MoveAllToActiveOrBackoff(EventAssignedPodAdd)
	_, _, u = q.Lengths()
	require.Equal(t, 2, u)
	// A deleted pod frees resources, but not node labels.
	clk.Step(2 * time.Second)
	q.MoveAllToActiveOrBackoff(EventAssignedPodDelete)
	a, _, u := q.Lengths()
	require.Equal(t, [2]int{1, 1}, [2]int{a, u})
	qp, _ := pop(t, q)
	assert.Equal(t, "cpu", qp.Info.Pod.Name)
	// A node update may change labels.
	q.MoveAllToActiveOrBackoff(EventNodeUpdate)
	qp, _ = pop(t, q)
	assert.Equal(t, "affinity", qp.Info.Pod.Name)
}

func TestQueueEventDuringAttemptGoesToBackoff(t *testing.T) {
	clk := &fakeClock{now: time.Unix(1000, 0)}
	q := NewQueue(QueueOptions{Clock: clk})
	q.Add(mkPod("p", "", ""))
	qp, cycle := pop(t, q)
	q.MoveAllToActiveOrBackoff(EventNodeAdd) // arrives while the attempt runs
	q.AddUnschedulable(qp, cycle, []string{NodeResourcesFitName})
	_, b, u := q.Lengths()
	assert.Equal(t, [2]int{1, 0}, [2]int{b, u}, "the event may help: retry after backoff, not wait")
}

func TestQueueFlushUnschedulableLeftover(t *testing.T) {
	clk := &fakeClock{now: time.Unix(1000, 0)}
	q := NewQueue(QueueOptions{Clock: clk, MaxUnschedulableDuration: time.Minute})
	q.Add(mkPod("p", "", ""))
	qp, c := pop(t, q)
	q.AddUnschedulable(qp, c, []string{NodeAffinityName})
	clk.Step(59 * time.Second)
	q.FlushUnschedulableLeftover()
	_, _, u := q.Lengths()
	require.Equal(t, 1, u)
	clk.Step(time.Second)
	q.FlushUnschedulableLeftover()
	a, _, _ := q.Lengths()
	require.Equal(t, 1, a)
}

func TestQueueDeleteAndUpdate(t *testing.T) {
	clk := &fakeClock{now: time.Unix(1000, 0)}
	q := NewQueue(QueueOptions{Clock: clk})
	p := mkPod("p", "", "")
	q.Add(p)
	q.Delete(p)
	a, _, _ := q.Lengths()
	require.Zero(t, a)

	q.Add(p)
	qp, c := pop(t, q)
	q.AddUnschedulable(qp, c, []string{NodeAffinityName})
	clk.Step(5 * time.Second)
	// A spec change (new generation) gives the pod another try.
	p2 := mkPod("p", "", "")
	p2.Generation = 2
	q.Update(p2)
	a, _, u := q.Lengths()
	require.Equal(t, [2]int{1, 0}, [2]int{a, u})

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	q2 := NewQueue(QueueOptions{})
	_, _, err := q2.Pop(ctx)
	require.ErrorIs(t, err, context.Canceled)
	q2.Close()
	_, _, err = q2.Pop(context.Background())
	require.Error(t, err)
}

func TestCacheAssumeConfirmExpire(t *testing.T) {
	c := NewCache(time.Minute)
	c.AddNode(mkNode("n1", "2", "4Gi"))
	snap := &Snapshot{}
	c.UpdateSnapshot(snap)
	require.Equal(t, 1, snap.NumNodes())

	p := mkPod("p", "1", "1Gi", onNode("n1"))
	require.NoError(t, c.AssumePod(NewPodInfo(p)))
	require.ErrorIs(t, c.AssumePod(NewPodInfo(p)), ErrAssumed)
	c.UpdateSnapshot(snap)
	ni, _ := snap.Get("n1")
	require.Equal(t, int64(1000), ni.Requested.MilliCPU)

	// Forgetting undoes the assumption.
	c.ForgetPod(apis.Key{Namespace: "default", Name: "p"})
	c.UpdateSnapshot(snap)
	ni, _ = snap.Get("n1")
	require.Zero(t, ni.Requested.MilliCPU)

	// Assumed, bound, never confirmed: expires after the TTL.
	now := time.Unix(1000, 0)
	require.NoError(t, c.AssumePod(NewPodInfo(p)))
	c.FinishBinding(apis.Key{Namespace: "default", Name: "p"}, now)
	require.Zero(t, c.CleanupExpired(now.Add(59*time.Second)))
	require.Equal(t, 1, c.CleanupExpired(now.Add(61*time.Second)))

	// Confirmed by the informer: no longer assumed, never expires.
	require.NoError(t, c.AssumePod(NewPodInfo(p)))
	c.FinishBinding(apis.Key{Namespace: "default", Name: "p"}, now)
	c.AddPod(p)
	require.False(t, c.IsAssumed(apis.Key{Namespace: "default", Name: "p"}))
	require.Zero(t, c.CleanupExpired(now.Add(time.Hour)))
	c.RemovePod(p)
	require.Zero(t, c.NumPods())

	// Node removal drops it from the next snapshot.
	c.RemoveNode("n1")
	c.UpdateSnapshot(snap)
	require.Zero(t, snap.NumNodes())
}
