package leader

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/coordination"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/store"
	"github.com/gantry-sdk/gantry/store/etcd"
	"github.com/gantry-sdk/gantry/store/etcd/etcdtest"
)

// A deposed leader's writes, carrying its fence, are all rejected once its
// successor leads; the successor's are accepted. Real time (etcd cannot run
// in a synctest bubble), with a 1 s lease to keep it short.
func TestDeposedLeaderWritesAreFenced(t *testing.T) {
	backends := map[string]func(t *testing.T) store.Store{
		"memory": newStore,
		"etcd": func(t *testing.T) store.Store {
			if testing.Short() {
				t.Skip("starts an embedded etcd")
			}
			srv := etcdtest.Start(t, etcdtest.Options{NoFsync: true})
			kv, err := etcd.New(srv.Client, etcd.Options{Prefix: "/fence"})
			require.NoError(t, err)
			sc := apis.NewScheme()
			require.NoError(t, core.AddToScheme(sc))
			require.NoError(t, coordination.AddToScheme(sc))
			s, err := store.New(kv, sc, store.Options{})
			require.NoError(t, err)
			return s
		},
	}
	for name, open := range backends {
		t.Run(name, func(t *testing.T) { testDeposedLeaderIsFenced(t, open(t)) })
	}
}

func testDeposedLeaderIsFenced(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	opts := Options{LeaseDuration: time.Second, RenewDeadline: 500 * time.Millisecond, RetryPeriod: 100 * time.Millisecond}
	type leadership struct {
		fence *store.Fence
		done  <-chan struct{}
	}
	callbacks := func(led chan<- leadership) Callbacks {
		return Callbacks{OnStartedLeading: func(ctx context.Context) {
			led <- leadership{FenceFrom(ctx), ctx.Done()}
			<-ctx.Done()
		}}
	}
	ledA, ledB := make(chan leadership, 1), make(chan leadership, 1)
	linkA := &partitionable{Store: s}
	ea, err := New(linkA, leaseKey, "a", callbacks(ledA), opts)
	require.NoError(t, err)
	eb, err := New(s, leaseKey, "b", callbacks(ledB), opts)
	require.NoError(t, err)
	runA, runB := make(chan struct{}), make(chan struct{})
	go func() { defer close(runA); _ = ea.Run(ctx) }()
	a := <-ledA
	require.NotNil(t, a.fence)
	go func() { defer close(runB); _ = eb.Run(ctx) }()

	leases := store.For[*coordination.Lease](s)
	work := func(name string) *coordination.Lease {
		return &coordination.Lease{ObjectMeta: apis.ObjectMeta{Namespace: "default", Name: name}}
	}
	fenced := func(f *store.Fence) store.WriteOptions { return store.WriteOptions{Fence: f} }
	w, err := leases.Create(ctx, work("a-1"), fenced(a.fence))
	require.NoError(t, err, "the leader's fenced write is accepted")

	linkA.cut.Store(true) // a is partitioned: it cannot renew, b takes over
	b := <-ledB
	<-a.done // a stepped down (before b started, as the other tests show)
	require.NotNil(t, b.fence)
	assert.NotEqual(t, a.fence.ResourceVersion, b.fence.ResourceVersion)
	_, err = leases.Create(ctx, work("b-1"), fenced(b.fence))
	require.NoError(t, err)

	// a's writes still in flight arrive now (the partition heals): none lands.
	id := "a"
	w.Spec.HolderIdentity = &id
	_, err = leases.Create(ctx, work("a-2"), fenced(a.fence))
	require.ErrorIs(t, err, store.ErrFenced)
	_, err = leases.Update(ctx, w, fenced(a.fence))
	require.ErrorIs(t, err, store.ErrFenced)
	_, err = leases.Delete(ctx, w.Key(), store.DeleteOptions{Fence: a.fence})
	require.ErrorIs(t, err, store.ErrFenced)
	got, err := leases.Get(ctx, w.Key(), store.GetOptions{})
	require.NoError(t, err)
	assert.Nil(t, got.Spec.HolderIdentity, "a's update did not land")
	_, err = leases.Get(ctx, apis.Key{Namespace: "default", Name: "a-2"}, store.GetOptions{})
	require.ErrorIs(t, err, store.ErrNotFound)

	w.Spec.HolderIdentity = nil
	_, err = leases.Delete(ctx, w.Key(), store.DeleteOptions{Fence: b.fence})
	require.NoError(t, err, "the new leader's writes are accepted")
	assert.Nil(t, FenceFrom(ctx), "no fence outside a leadership")
	cancel()
	<-runA
	<-runB
}

// A fence write that arrives after the lease changed hands (a candidate
// delayed between acquiring and fencing) is rejected, so it cannot fence out
// the leader that took over.
func TestLateFenceWriteIsRejected(t *testing.T) {
	s := newStore(t)
	cb := Callbacks{OnStartedLeading: func(context.Context) {}}
	ea, err := New(s, leaseKey, "a", cb, Options{})
	require.NoError(t, err)
	require.True(t, ea.tryAcquireOrRenew(t.Context()))
	first := ea.writeFence(t.Context())
	require.NotNil(t, first)

	leases := store.For[*coordination.Lease](s)
	l, err := leases.Get(t.Context(), leaseKey, store.GetOptions{})
	require.NoError(t, err)
	b := "b"
	l.Spec.HolderIdentity = &b // b took the lease meanwhile
	_, err = leases.Update(t.Context(), l, store.WriteOptions{})
	require.NoError(t, err)

	assert.Nil(t, ea.writeFence(t.Context()), "a's late fence write is rejected")
	f, err := leases.Get(t.Context(), FenceKey(leaseKey), store.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, first.ResourceVersion, f.ResourceVersion, "the fence is unchanged")
}
