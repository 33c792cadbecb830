package leader

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/coordination"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/reconcile"
	"github.com/gantry-sdk/gantry/store"
	"github.com/gantry-sdk/gantry/store/memory"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var leaseKey = apis.Key{Namespace: "kube-system", Name: "controller-manager"}

func newStore(t *testing.T) store.Store {
	s := apis.NewScheme()
	require.NoError(t, core.AddToScheme(s))
	require.NoError(t, coordination.AddToScheme(s))
	kv := memory.New(memory.Options{})
	t.Cleanup(func() { _ = kv.Close() })
	os, err := store.New(kv, s, store.Options{})
	require.NoError(t, err)
	return os
}

// partitionable is the real store behind a link that can be cut: while cut,
// every call fails as a lost connection would.
type partitionable struct {
	store.Store
	cut atomic.Bool
}

var errPartitioned = errors.New("test: network partition")

func (p *partitionable) Get(ctx context.Context, gvk apis.GroupVersionKind, key apis.Key, o store.GetOptions) (apis.Object, error) {
	if p.cut.Load() {
		return nil, errPartitioned
	}
	return p.Store.Get(ctx, gvk, key, o)
}

func (p *partitionable) Update(ctx context.Context, obj apis.Object, o store.WriteOptions) (apis.Object, error) {
	if p.cut.Load() {
		return nil, errPartitioned
	}
	return p.Store.Update(ctx, obj, o)
}

func (p *partitionable) Create(ctx context.Context, obj apis.Object, o store.WriteOptions) (apis.Object, error) {
	if p.cut.Load() {
		return nil, errPartitioned
	}
	return p.Store.Create(ctx, obj, o)
}

// candidate records one elector's leadership.
type candidate struct {
	mu              sync.Mutex
	started, ctxEnd time.Time
	stopped         bool
}

func (c *candidate) callbacks() Callbacks {
	return Callbacks{
		OnStartedLeading: func(ctx context.Context) {
			c.mu.Lock()
			c.started = time.Now()
			c.mu.Unlock()
			<-ctx.Done()
			c.mu.Lock()
			c.ctxEnd = time.Now()
			c.mu.Unlock()
		},
		OnStoppedLeading: func() { c.mu.Lock(); c.stopped = true; c.mu.Unlock() },
	}
}

func (c *candidate) snapshot() (started, ctxEnd time.Time, stopped bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.started, c.ctxEnd, c.stopped
}

func TestFailoverWithinLeaseDuration(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newStore(t)
		reg := prometheus.NewPedanticRegistry()
		metrics, err := reconcile.NewMetrics(reg)
		require.NoError(t, err)
		linkA := &partitionable{Store: s}
		var a, b candidate
		ea, err := New(linkA, leaseKey, "a", a.callbacks(), Options{Metrics: metrics})
		require.NoError(t, err)
		eb, err := New(s, leaseKey, "b", b.callbacks(), Options{})
		require.NoError(t, err)

		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		var wg sync.WaitGroup
		wg.Go(func() { _ = ea.Run(ctx) })
		synctest.Wait()
		require.True(t, ea.IsLeader())
		assert.Equal(t, 1.0, testutil.ToFloat64(metrics.LeaderStatusGauge(leaseKey.String())))
		wg.Go(func() { _ = eb.Run(ctx) })
		time.Sleep(time.Minute) // b campaigns in vain while a renews
		synctest.Wait()
		require.False(t, eb.IsLeader())
		assert.Equal(t, "a", eb.Leader())

		linkA.cut.Store(true)
		cutAt := time.Now()
		time.Sleep(time.Minute)
		synctest.Wait()

		_, aEnd, aStopped := a.snapshot()
		bStart, _, _ := b.snapshot()
		require.True(t, aStopped, "a stepped down")
		require.True(t, eb.IsLeader(), "b took over")
		assert.False(t, ea.IsLeader())
		assert.Equal(t, 0.0, testutil.ToFloat64(metrics.LeaderStatusGauge(leaseKey.String())))
		// a stops renewing at its RenewDeadline, before b can start.
		assert.LessOrEqual(t, aEnd.Sub(cutAt), DefaultRenewDeadline+DefaultRetryPeriod)
		assert.True(t, aEnd.Before(bStart), "the deposed leader's work ended before the new leader's began")
		// b takes over within the lease duration of a's last renewal, plus
		// at most one retry period to observe that renewal and one to act.
		assert.LessOrEqual(t, bStart.Sub(cutAt), DefaultLeaseDuration+2*DefaultRetryPeriod)
		assert.Greater(t, bStart.Sub(cutAt), DefaultLeaseDuration-DefaultRetryPeriod, "no takeover before expiry")

		l, err := store.For[*coordination.Lease](s).Get(t.Context(), leaseKey, store.GetOptions{})
		require.NoError(t, err)
		assert.Equal(t, "b", *l.Spec.HolderIdentity)
		assert.Equal(t, int32(1), *l.Spec.LeaseTransitions)
		cancel()
		wg.Wait()
	})
}

func TestReleaseOnCancelHandsOverAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newStore(t)
		var a, b candidate
		ea, err := New(s, leaseKey, "a", a.callbacks(), Options{ReleaseOnCancel: true})
		require.NoError(t, err)
		eb, err := New(s, leaseKey, "b", b.callbacks(), Options{})
		require.NoError(t, err)
		ctxA, cancelA := context.WithCancel(t.Context())
		ctxB, cancelB := context.WithCancel(t.Context())
		var wg sync.WaitGroup
		wg.Go(func() { _ = ea.Run(ctxA) })
		synctest.Wait()
		wg.Go(func() { _ = eb.Run(ctxB) })
		time.Sleep(5 * time.Second)
		cancelA()
		stoppedAt := time.Now()
		time.Sleep(5 * time.Second)
		synctest.Wait()
		require.True(t, eb.IsLeader())
		bStart, _, _ := b.snapshot()
		assert.LessOrEqual(t, bStart.Sub(stoppedAt), DefaultRetryPeriod, "no wait for expiry after a release")
		cancelB()
		wg.Wait()
	})
}

func TestNewRejectsBadOptions(t *testing.T) {
	s := newStore(t)
	cb := Callbacks{OnStartedLeading: func(context.Context) {}}
	for name, tc := range map[string]struct {
		id   string
		cb   Callbacks
		opts Options
	}{
		"empty identity":          {"", cb, Options{}},
		"no OnStartedLeading":     {"a", Callbacks{}, Options{}},
		"renew deadline too long": {"a", cb, Options{LeaseDuration: 5 * time.Second, RenewDeadline: 5 * time.Second}},
		"retry longer than renew": {"a", cb, Options{RenewDeadline: 2 * time.Second, RetryPeriod: 3 * time.Second}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := New(s, leaseKey, tc.id, tc.cb, tc.opts)
			assert.ErrorIs(t, err, ErrInvalidOptions)
		})
	}
}

// TestDeposedLeaderStopsItsController: a controller run as the leader's work
// stops reconciling once the leader loses its lease.
func TestDeposedLeaderStopsItsController(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newStore(t)
		link := &partitionable{Store: s}
		var reconciles atomic.Int64
		c := reconcile.NewController("web", reconcile.Func(func(ctx context.Context, k apis.Key) (reconcile.Result, error) {
			reconciles.Add(1)
			return reconcile.Result{RequeueAfter: time.Second}, nil // keeps working while it runs
		}), reconcile.Options{})
		runDone := make(chan error, 1)
		e, err := New(link, leaseKey, "a", Callbacks{OnStartedLeading: func(ctx context.Context) {
			runDone <- c.Run(ctx)
		}}, Options{})
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		electorDone := make(chan struct{})
		go func() { defer close(electorDone); _ = e.Run(ctx) }()
		synctest.Wait()
		c.Enqueue(apis.Key{Namespace: "default", Name: "site"})
		time.Sleep(30 * time.Second)
		synctest.Wait()
		require.Positive(t, reconciles.Load())

		link.cut.Store(true)
		time.Sleep(DefaultRenewDeadline + DefaultRetryPeriod)
		synctest.Wait()
		require.NoError(t, <-runDone, "the controller returned when leadership was lost")
		<-electorDone
		n := reconciles.Load()
		time.Sleep(time.Minute)
		synctest.Wait()
		assert.Equal(t, n, reconciles.Load(), "no reconcile after leadership was lost")
	})
}
