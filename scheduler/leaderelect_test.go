package scheduler

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/builtin"
	"github.com/gantry-sdk/gantry/apis/coordination"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/reconcile/leader"
	"github.com/gantry-sdk/gantry/store"
	"github.com/gantry-sdk/gantry/store/memory"
)

func newElectionStore(t *testing.T) store.Store {
	t.Helper()
	scheme, err := builtin.NewScheme()
	require.NoError(t, err)
	kv := memory.New(memory.Options{})
	t.Cleanup(func() { kv.Close() })
	s, err := store.New(kv, scheme, store.Options{GracePeriod: func(*apis.KindInfo, apis.Object, *int64) int64 { return 0 }})
	require.NoError(t, err)
	return s
}

type runningScheduler struct {
	sched *Scheduler
	stop  context.CancelFunc
	done  chan error
}

func startElected(t *testing.T, s store.Store, identity string) *runningScheduler {
	t.Helper()
	sched, err := New(s, Options{
		Identity:      identity,
		FlushInterval: 20 * time.Millisecond,
		Queue:         QueueOptions{InitialBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond},
		LeaderElection: &LeaderElection{Options: leader.Options{
			// Whole seconds: the Lease stores leaseDurationSeconds.
			LeaseDuration: time.Second, RenewDeadline: 800 * time.Millisecond, RetryPeriod: 50 * time.Millisecond,
			ReleaseOnCancel: true,
		}},
	})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	r := &runningScheduler{sched: sched, stop: cancel, done: make(chan error, 1)}
	go func() { r.done <- sched.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-r.done
	})
	return r
}

func bindingInstance(t *testing.T, s store.Store, pod string) string {
	t.Helper()
	var instance string
	require.Eventually(t, func() bool {
		l, err := store.For[*core.Event](s).List(context.Background(), store.ListOptions{Namespace: "default"})
		require.NoError(t, err)
		for _, e := range l.Items {
			if e.InvolvedObject.Name == pod && e.Reason == "Scheduled" {
				instance = e.ReportingInstance
				return true
			}
		}
		return false
	}, 20*time.Second, 5*time.Millisecond, "%s never scheduled", pod)
	return instance
}

// TestLeaderElectionOneSchedulerAtATime: of two replicas only the leader
// schedules; when it stops (releasing the lease) the other takes over.
func TestLeaderElectionOneSchedulerAtATime(t *testing.T) {
	s := newElectionStore(t)
	ctx := context.Background()
	_, err := store.For[*core.Node](s).Create(ctx, mkNode("n1", "8", "16Gi"), store.WriteOptions{})
	require.NoError(t, err)
	a, b := startElected(t, s, "a"), startElected(t, s, "b")
	require.Eventually(t, func() bool { return a.sched.IsLeader() || b.sched.IsLeader() }, 20*time.Second, 5*time.Millisecond)
	first, second := a, b
	if b.sched.IsLeader() {
		first, second = b, a
	}
	assert.False(t, second.sched.IsLeader())

	_, err = store.For[*core.Pod](s).Create(ctx, mkPod("p1", "100m", ""), store.WriteOptions{})
	require.NoError(t, err)
	assert.Equal(t, first.sched.opts.Identity, bindingInstance(t, s, "p1"))

	first.stop()
	require.NoError(t, <-first.done)
	first.done <- nil // for the cleanup
	require.Eventually(t, second.sched.IsLeader, 20*time.Second, 5*time.Millisecond)
	_, err = store.For[*core.Pod](s).Create(ctx, mkPod("p2", "100m", ""), store.WriteOptions{})
	require.NoError(t, err)
	assert.Equal(t, second.sched.opts.Identity, bindingInstance(t, s, "p2"))
}

// TestLeaderElectionStopsOnLoss: a leader whose lease is taken stops
// scheduling and Run returns ErrLeadershipLost.
func TestLeaderElectionStopsOnLoss(t *testing.T) {
	s := newElectionStore(t)
	ctx := context.Background()
	_, err := store.For[*core.Node](s).Create(ctx, mkNode("n1", "8", "16Gi"), store.WriteOptions{})
	require.NoError(t, err)
	r := startElected(t, s, "a")
	require.Eventually(t, r.sched.IsLeader, 20*time.Second, 5*time.Millisecond)

	leases := store.For[*coordination.Lease](s)
	require.Eventually(t, func() bool {
		l, err := leases.Get(ctx, DefaultLeaderElectionLease, store.GetOptions{})
		require.NoError(t, err)
		intruder, long := "intruder", int32(3600)
		now := apis.MicroTime{Time: time.Now()}
		l.Spec.HolderIdentity, l.Spec.LeaseDurationSeconds, l.Spec.RenewTime, l.Spec.AcquireTime = &intruder, &long, &now, &now
		_, err = leases.Update(ctx, l, store.WriteOptions{})
		return err == nil // retried on a conflict with a renewal
	}, 20*time.Second, 5*time.Millisecond)

	select {
	case err := <-r.done:
		require.ErrorIs(t, err, ErrLeadershipLost)
		r.done <- nil
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return after the lease was taken")
	}
	assert.False(t, r.sched.IsLeader())
	_, err = store.For[*core.Pod](s).Create(ctx, mkPod("late", "100m", ""), store.WriteOptions{})
	require.NoError(t, err)
	time.Sleep(100 * time.Millisecond)
	p, err := store.For[*core.Pod](s).Get(ctx, apis.Key{Namespace: "default", Name: "late"}, store.GetOptions{})
	require.NoError(t, err)
	assert.Empty(t, p.Spec.NodeName, "a deposed scheduler binds nothing")
}

func TestLeaderElectionBadOptions(t *testing.T) {
	s := newElectionStore(t)
	sched, err := New(s, Options{LeaderElection: &LeaderElection{Options: leader.Options{LeaseDuration: time.Second, RenewDeadline: 2 * time.Second}}})
	require.NoError(t, err)
	err = sched.Run(context.Background())
	require.ErrorIs(t, err, leader.ErrInvalidOptions)
}

// A binding made on behalf of a leader that has since been deposed is
// refused by the store (fencing), even if it was already under way when
// leadership passed: the binder carries the leader's fence on its writes.
func TestDeposedLeaderBindingIsFenced(t *testing.T) {
	s := newElectionStore(t)
	ctx := context.Background()
	pods := store.For[*core.Pod](s)
	_, err := store.For[*core.Node](s).Create(ctx, mkNode("n1", "8", "16Gi"), store.WriteOptions{})
	require.NoError(t, err)
	pod, err := pods.Create(ctx, mkPod("p", "100m", ""), store.WriteOptions{})
	require.NoError(t, err)

	opts := leader.Options{LeaseDuration: time.Second, RenewDeadline: 800 * time.Millisecond,
		RetryPeriod: 50 * time.Millisecond, ReleaseOnCancel: true}
	leading := make(chan context.Context, 1)
	elect := func(id string, cb leader.Callbacks) (context.CancelFunc, chan error) {
		e, err := leader.New(s, DefaultLeaderElectionLease, id, cb, opts)
		require.NoError(t, err)
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- e.Run(runCtx) }()
		return cancel, done
	}
	stopA, doneA := elect("a", leader.Callbacks{OnStartedLeading: func(ctx context.Context) {
		leading <- ctx
		<-ctx.Done()
	}})
	var aCtx context.Context
	select {
	case aCtx = <-leading:
	case <-time.After(20 * time.Second):
		t.Fatal("a did not lead")
	}
	require.NotNil(t, leader.FenceFrom(aCtx))
	stopA()
	require.NoError(t, <-doneA)

	bLeads := make(chan struct{})
	stopB, doneB := elect("b", leader.Callbacks{OnStartedLeading: func(ctx context.Context) {
		close(bLeads)
		<-ctx.Done()
	}})
	defer func() { stopB(); <-doneB }()
	select {
	case <-bLeads:
	case <-time.After(20 * time.Second):
		t.Fatal("b did not lead")
	}

	// a's binding, still running with a's (now stale) leadership.
	stale := context.WithoutCancel(aCtx)
	st := NewDefaultBinder(s, nil).Bind(stale, nil, pod, "n1")
	require.False(t, st.IsSuccess())
	require.ErrorIs(t, st.Err(), store.ErrFenced)
	got, err := pods.Get(ctx, apis.Key{Namespace: pod.Namespace, Name: pod.Name}, store.GetOptions{})
	require.NoError(t, err)
	assert.Empty(t, got.Spec.NodeName, "nothing written for the deposed leader")

	// The same binding without a leadership context (no fence) goes through:
	// the refusal above was the fence's doing.
	require.True(t, NewDefaultBinder(s, nil).Bind(ctx, nil, pod, "n1").IsSuccess())
}
