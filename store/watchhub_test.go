package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/apis/fields"
	"github.com/gantry-sdk/gantry/apis/labels"
	"github.com/gantry-sdk/gantry/store"
	"github.com/gantry-sdk/gantry/store/etcd"
	"github.com/gantry-sdk/gantry/store/etcd/etcdtest"
	"github.com/gantry-sdk/gantry/store/memory"
)

var podGVK = core.GroupVersion.WithKind("Pod")

// collector gathers a watch's events.
type collector struct {
	mu     sync.Mutex
	events []store.WatchEvent
	err    error
}

func (c *collector) snapshot() ([]store.WatchEvent, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.events), c.err
}

// collect runs a watch until ctx ends; slow consumers sleep now and then,
// so that they fill their buffer and fall back to a private KV watch.
func collect(ctx context.Context, wg *sync.WaitGroup, s store.Store, opts store.WatchOptions, slow *rand.Rand) *collector {
	c := &collector{}
	wg.Go(func() {
		for ev, err := range s.Watch(ctx, podGVK, opts) {
			c.mu.Lock()
			if err != nil {
				c.err = err
			} else {
				c.events = append(c.events, ev)
			}
			c.mu.Unlock()
			if slow != nil && slow.IntN(4) == 0 {
				time.Sleep(time.Millisecond)
			}
		}
	})
	return c
}

func pairStores(t *testing.T, kv store.KV, buffer int) (private, shared *store.ObjectStore) {
	private, err := store.New(kv, coreScheme(t), store.Options{})
	require.NoError(t, err)
	store.SetPrivateWatches(private)
	shared, err = store.New(kv, coreScheme(t), store.Options{})
	require.NoError(t, err)
	store.SetWatchBuffer(shared, buffer)
	return private, shared
}

func newPod(ns, name, node, app string) *core.Pod {
	p := &core.Pod{ObjectMeta: apis.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"app": app}}}
	p.Spec.NodeName = node
	p.Spec.Containers = []core.Container{{Name: "app", Image: "busybox"}}
	return p
}

// watchSelectors are the selections compared: indexed equalities (on
// spec.nodeName, the unscheduled "" included, and metadata.name), with
// other terms, unindexed ones, labels, and namespaces.
func watchSelectors(t *testing.T) []store.WatchOptions {
	f := func(s string) fields.Selector {
		sel, err := fields.Parse(s)
		require.NoError(t, err)
		return sel
	}
	l := func(s string) labels.Selector {
		sel, err := labels.Parse(s)
		require.NoError(t, err)
		return sel
	}
	return []store.WatchOptions{
		{},
		{Fields: f("spec.nodeName=n0")},
		{Fields: f("spec.nodeName=n1")},
		{Fields: f("spec.nodeName=")},
		{Fields: f("spec.nodeName=n2,status.phase!=Succeeded")},
		{Fields: f("spec.nodeName!=n1")},
		{Fields: f("status.phase=Running")},
		{Fields: f("metadata.name=p3")},
		{Fields: f("metadata.namespace=ns1,spec.nodeName=n0")},
		{Namespace: "default", Fields: f("spec.nodeName=n1")},
		{Namespace: "ns1"},
		{Labels: l("app=a")},
		{Labels: l("app=b"), Fields: f("spec.nodeName=n0")},
	}
}

// churn makes one random change to the pods; it returns the revision written.
func churn(t *testing.T, ctx context.Context, rng *rand.Rand, s *store.ObjectStore, kv store.KV, i int) int64 {
	pods := store.For[*core.Pod](s)
	l, err := pods.List(ctx, store.ListOptions{})
	require.NoError(t, err)
	nodes := []string{"", "n0", "n1", "n2"}
	apps := []string{"a", "b"}
	if len(l.Items) < 4 || rng.IntN(5) == 0 {
		ns := []string{"default", "ns1"}[rng.IntN(2)]
		p, err := pods.Create(ctx, newPod(ns, fmt.Sprintf("p%d", i%12), nodes[rng.IntN(len(nodes))], apps[rng.IntN(2)]), store.WriteOptions{})
		if err != nil {
			require.ErrorIs(t, err, store.ErrAlreadyExists)
			return churn(t, ctx, rng, s, kv, i+1)
		}
		return objRev(t, p)
	}
	p := l.Items[rng.IntN(len(l.Items))]
	switch op := rng.IntN(6); {
	case op == 0 && p.Spec.NodeName == "": // bind: a move between index values
		p.Spec.NodeName = nodes[1+rng.IntN(3)]
		p, err = pods.Update(ctx, p, store.WriteOptions{})
	case op <= 1:
		p.Labels["app"] = apps[rng.IntN(2)]
		p, err = pods.Update(ctx, p, store.WriteOptions{})
	case op == 2:
		p.Status.Phase = []core.PodPhase{core.PodPending, core.PodRunning, core.PodSucceeded}[rng.IntN(3)]
		p, err = pods.UpdateStatus(ctx, p, store.WriteOptions{})
	case op == 3:
		zero := int64(0)
		_, err = pods.Delete(ctx, apis.KeyOf(p), store.DeleteOptions{GracePeriodSeconds: &zero})
		require.NoError(t, err)
		return 0
	default: // several keys at one revision, written past the object layer
		var ops []store.Op
		for _, q := range l.Items[:min(len(l.Items), 1+rng.IntN(3))] {
			q.Labels["app"] = apps[rng.IntN(2)]
			q.ResourceVersion = ""
			data, err := json.Marshal(q)
			require.NoError(t, err)
			ops = append(ops, store.Put("/core/pods/"+q.Namespace+"/"+q.Name, data))
		}
		rev, err := kv.Txn(ctx, store.Txn{Then: ops})
		require.NoError(t, err)
		return rev
	}
	require.NoError(t, err)
	return objRev(t, p)
}

// summary is what a failure shows of events: type, revision, object.
func summary(evs []store.WatchEvent) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = fmt.Sprintf("%s %d", ev.Type, ev.Revision)
		if ev.Object != nil {
			out[i] += " " + apis.KeyOf(ev.Object).String()
		}
	}
	return out
}

func objRev(t *testing.T, o apis.Object) int64 {
	var rev int64
	_, err := fmt.Sscan(o.Meta().ResourceVersion, &rev)
	require.NoError(t, err)
	return rev
}

// Under random churn, every selection sees through the shared, indexed
// watch exactly the events a private KV watch yields: same types, objects,
// revisions and order, for watches started at every point of the history
// (before the hub, behind it, ahead of it) and consumers slow enough to
// overflow their buffer and fall back.
func TestSharedWatchMatchesPrivate(t *testing.T) {
	for seed := range uint64(2) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			shared := compareSharedWithPrivate(t, newKV(t), seed, 180)
			assert.Positive(t, store.WatchFallbacks(shared), "slow watchers overflowed and fell back")
		})
	}
}

// compareSharedWithPrivate is TestSharedWatchMatchesPrivate over kv.
// It returns the store whose watches were shared.
func compareSharedWithPrivate(t *testing.T, kv store.KV, seed uint64, writes int) *store.ObjectStore {
	rng := rand.New(rand.NewPCG(seed, 7))
	private, shared := pairStores(t, kv, 4)
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	ns := &core.Namespace{ObjectMeta: apis.ObjectMeta{Name: "ns1"}}
	_, err := store.For[*core.Namespace](private).Create(ctx, ns, store.WriteOptions{})
	require.NoError(t, err)

	type pair struct {
		opts         store.WatchOptions
		want, got    *collector
		fromRevision int64
	}
	var pairs []pair
	var revs []int64
	start := func(from int64) {
		for i, opts := range watchSelectors(t) {
			opts.Revision = from
			var slow *rand.Rand
			if i%2 == 0 {
				slow = rand.New(rand.NewPCG(seed, uint64(i)))
			}
			pairs = append(pairs, pair{opts: opts, fromRevision: from,
				want: collect(ctx, &wg, private, opts, nil),
				got:  collect(ctx, &wg, shared, opts, slow)})
		}
	}
	l, err := private.List(ctx, podGVK, store.ListOptions{})
	require.NoError(t, err)
	start(l.Revision)
	for i := range writes {
		if rev := churn(t, ctx, rng, private, kv, i); rev > 0 {
			revs = append(revs, rev)
		}
		if i == writes/3 || i == 2*writes/3 {
			start(revs[rng.IntN(len(revs))]) // behind the hub, which is at the head
		}
	}

	// The private watches keep up easily: wait until they are quiet,
	// then until every shared one has the same events.
	total := func() (n int) {
		for _, p := range pairs {
			ev, err := p.want.snapshot()
			require.NoError(t, err)
			n += len(ev)
		}
		return n
	}
	for n := -1; n != total(); {
		n = total()
		time.Sleep(200 * time.Millisecond)
	}
	for _, p := range pairs {
		want, _ := p.want.snapshot()
		var got []store.WatchEvent
		for end := time.Now().Add(30 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
			var err error
			got, err = p.got.snapshot()
			require.NoError(t, err)
			if reflect.DeepEqual(want, got) {
				break
			}
		}
		require.Equal(t, summary(want), summary(got), "selection %+v from revision %d", p.opts, p.fromRevision)
		require.Equal(t, want, got, "selection %+v from revision %d", p.opts, p.fromRevision)
	}
	_, onHub := store.WatchHubs(shared)
	t.Logf("%d watchers compared, %d on shared watches at the end, %d fallbacks", len(pairs), onHub, store.WatchFallbacks(shared))
	return shared
}

// A watcher that stops reading never holds up the others; once it reads
// again it gets every event, in order, with no error (it read on from the
// KV's history after its buffer filled).
func TestSharedWatchSlowWatcher(t *testing.T) {
	kv := newKV(t)
	s, err := store.New(kv, coreScheme(t), store.Options{})
	require.NoError(t, err)
	store.SetWatchBuffer(s, 2)
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	pods := store.For[*core.Pod](s)
	sel, err := fields.Parse("spec.nodeName=n1")
	require.NoError(t, err)
	l, err := pods.List(ctx, store.ListOptions{})
	require.NoError(t, err)
	opts := store.WatchOptions{Fields: sel, Revision: l.Revision}

	fast := collect(ctx, &wg, s, opts, nil)
	var blocked sync.Mutex
	slow := &collector{}
	wg.Go(func() {
		for ev, err := range s.Watch(ctx, podGVK, opts) {
			assert.NoError(t, err)
			blocked.Lock() // held by the test while the watcher is to be stuck
			blocked.Unlock()
			slow.mu.Lock()
			slow.events = append(slow.events, ev)
			slow.mu.Unlock()
		}
	})

	// Both join the shared watch once they catch up with it.
	n := 0
	for ; ; n++ {
		_, err := pods.Create(ctx, newPod("default", fmt.Sprintf("warm-%d", n), "n1", "a"), store.WriteOptions{})
		require.NoError(t, err)
		if _, on := store.WatchHubs(s); on == 2 {
			break
		}
		require.Less(t, n, 1000, "watchers never joined the shared watch")
		time.Sleep(time.Millisecond)
	}
	n++
	blocked.Lock()
	const burst = 50
	for i := range burst {
		_, err := pods.Create(ctx, newPod("default", fmt.Sprintf("p%d", i), "n1", "a"), store.WriteOptions{})
		require.NoError(t, err)
	}
	require.Eventually(t, func() bool { ev, _ := fast.snapshot(); return len(ev) == n+burst }, 20*time.Second, 5*time.Millisecond,
		"the fast watcher got every event while the slow one was stuck")
	assert.Positive(t, store.WatchFallbacks(s), "the stuck watcher overflowed")
	blocked.Unlock()
	require.Eventually(t, func() bool { ev, _ := slow.snapshot(); return len(ev) == n+burst }, 20*time.Second, 5*time.Millisecond)
	want, _ := fast.snapshot()
	got, _ := slow.snapshot()
	assert.Equal(t, want, got)
}

// A watch from a revision the shared watch has long passed gets every
// event after it (read from the KV's history, then from the shared watch);
// one from a compacted revision fails with ErrCompacted, as before.
func TestSharedWatchLateStart(t *testing.T) {
	kv := newKV(t)
	private, s := pairStores(t, kv, 0)
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	pods := store.For[*core.Pod](s)
	sel, err := fields.Parse("spec.nodeName=n1")
	require.NoError(t, err)

	l, err := pods.List(ctx, store.ListOptions{})
	require.NoError(t, err)
	head := collect(ctx, &wg, s, store.WatchOptions{Fields: sel, Revision: l.Revision}, nil) // starts the shared watch
	var revs []int64
	for i := 0; i < 20 || func() bool { _, on := store.WatchHubs(s); return on == 0 }(); i++ {
		require.Less(t, i, 1000)
		p, err := pods.Create(ctx, newPod("default", fmt.Sprintf("p%d", i), []string{"n0", "n1"}[i%2], "a"), store.WriteOptions{})
		require.NoError(t, err)
		revs = append(revs, objRev(t, p))
	}
	require.Eventually(t, func() bool { ev, _ := head.snapshot(); return len(ev) == len(revs)/2 }, 10*time.Second, 5*time.Millisecond)

	opts := store.WatchOptions{Fields: sel, Revision: revs[4]}
	late := collect(ctx, &wg, s, opts, nil)
	want := collect(ctx, &wg, private, opts, nil)
	var last int64
	for i := range 10 {
		p, err := pods.Create(ctx, newPod("default", fmt.Sprintf("q%d", i), "n1", "a"), store.WriteOptions{})
		require.NoError(t, err)
		last = objRev(t, p)
	}
	done := func(c *collector) bool { ev, _ := c.snapshot(); return len(ev) > 0 && ev[len(ev)-1].Revision == last }
	require.Eventually(t, func() bool { return done(late) && done(want) }, 10*time.Second, 5*time.Millisecond)
	a, _ := late.snapshot()
	b, _ := want.snapshot()
	assert.Equal(t, b, a)
	n := 10 // the pods on n1 created after revs[4]
	for i := 5; i < len(revs); i++ {
		n += i % 2
	}
	require.Len(t, a, n)
	assert.Equal(t, revs[5], a[0].Revision)

	require.NoError(t, s.Compact(ctx, revs[10]))
	for _, err := range s.Watch(ctx, podGVK, store.WatchOptions{Fields: sel, Revision: revs[2]}) {
		require.ErrorIs(t, err, store.ErrCompacted)
		break
	}
}

// The shared watch of a kind starts with its first watcher and stops when
// its last one leaves; a watch by namespace has its own.
func TestSharedWatchStopsWithLastWatcher(t *testing.T) {
	kv := memory.New(memory.Options{})
	t.Cleanup(func() { _ = kv.Close() })
	s, err := store.New(kv, coreScheme(t), store.Options{})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	for _, ns := range []string{"", "", "default"} {
		collect(ctx, &wg, s, store.WatchOptions{Namespace: ns}, nil)
	}
	require.Eventually(t, func() bool { hubs, _ := store.WatchHubs(s); return hubs == 2 }, 10*time.Second, time.Millisecond)
	cancel()
	wg.Wait()
	hubs, watchers := store.WatchHubs(s)
	assert.Zero(t, hubs)
	assert.Zero(t, watchers)
}

// When the shared watch's KV watch ends (here the KV closes), its watchers
// go on privately and so end with the KV's error, as they did before.
func TestSharedWatchEndsWithKV(t *testing.T) {
	kv := memory.New(memory.Options{})
	s, err := store.New(kv, coreScheme(t), store.Options{})
	require.NoError(t, err)
	ctx := t.Context()
	pods := store.For[*core.Pod](s)
	l, err := pods.List(ctx, store.ListOptions{})
	require.NoError(t, err)
	var wg sync.WaitGroup
	c := collect(ctx, &wg, s, store.WatchOptions{Fields: fields.OneTermEqual("spec.nodeName", "n1"), Revision: l.Revision}, nil)
	for i := 0; ; i++ {
		_, err := pods.Create(ctx, newPod("default", fmt.Sprintf("p%d", i), "n1", "a"), store.WriteOptions{})
		require.NoError(t, err)
		if _, on := store.WatchHubs(s); on == 1 {
			break
		}
		require.Less(t, i, 1000, "the watcher never joined the shared watch")
		time.Sleep(time.Millisecond)
	}
	require.NoError(t, kv.Close())
	wg.Wait()
	_, err = c.snapshot()
	require.ErrorIs(t, err, store.ErrClosed)
	assert.Positive(t, store.WatchFallbacks(s), "it left the ended shared watch")
}

// A watcher on the shared watch that asked for bookmarks gets them, at a
// revision no lower than the last event it was given.
func TestSharedWatchBookmarks(t *testing.T) {
	s, err := store.New(newKV(t), coreScheme(t), store.Options{}) // progress every 50 ms
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	pods := store.For[*core.Pod](s)
	l, err := pods.List(ctx, store.ListOptions{})
	require.NoError(t, err)
	c := collect(ctx, &wg, s, store.WatchOptions{Fields: fields.OneTermEqual("spec.nodeName", "n1"), Revision: l.Revision, Bookmarks: true}, nil)
	for i := 0; ; i++ {
		_, err := pods.Create(ctx, newPod("default", fmt.Sprintf("p%d", i), "n1", "a"), store.WriteOptions{})
		require.NoError(t, err)
		if _, on := store.WatchHubs(s); on == 1 {
			break
		}
		require.Less(t, i, 1000, "the watcher never joined the shared watch")
		time.Sleep(time.Millisecond)
	}
	p, err := pods.Create(ctx, newPod("default", "last", "n1", "a"), store.WriteOptions{})
	require.NoError(t, err)
	last := objRev(t, p)
	require.Eventually(t, func() bool {
		evs, _ := c.snapshot()
		var seen bool
		for _, ev := range evs {
			switch {
			case ev.Type != store.WatchBookmark:
				seen = seen || ev.Revision == last
			case seen && ev.Revision >= last:
				return true
			}
		}
		return false
	}, 10*time.Second, 10*time.Millisecond)
	evs, _ := c.snapshot()
	for i := 1; i < len(evs); i++ {
		assert.GreaterOrEqual(t, evs[i].Revision, evs[i-1].Revision, "revisions never go back")
	}
}

// The same comparison over the etcd KV, on a real embedded etcd.
func TestSharedWatchMatchesPrivateEtcd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an embedded etcd")
	}
	srv := etcdtest.Start(t, etcdtest.Options{NoFsync: true})
	kv, err := etcd.New(srv.Client, etcd.Options{Prefix: "/watchhub"})
	require.NoError(t, err)
	compareSharedWithPrivate(t, kv, 0, 80)
}
