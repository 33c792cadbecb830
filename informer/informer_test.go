package informer

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/store"
	"github.com/gantry-sdk/gantry/store/memory"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// widget is a user-defined kind for the tests.
type widget struct {
	apis.TypeMeta   `json:",inline"`
	apis.ObjectMeta `json:"metadata"`
	Spec            widgetSpec `json:"spec"`
}

type widgetSpec struct {
	Node  string `json:"node,omitempty"`
	Value int    `json:"value"`
	Blob  string `json:"blob,omitempty"`
}

var widgetGVK = apis.GroupVersionKind{Group: "example.com", Version: "v1", Kind: "Widget"}

func newScheme(t testing.TB) *apis.Scheme {
	s := apis.NewScheme()
	require.NoError(t, apis.Register[core.Namespace](s, apis.Kind[*core.Namespace]{
		GroupVersionKind: apis.GroupVersionKind{Version: "v1", Kind: "Namespace"}, Scope: apis.ClusterScoped,
	}))
	require.NoError(t, apis.Register[widget](s, apis.Kind[*widget]{GroupVersionKind: widgetGVK}))
	return s
}

type testEnv struct {
	kv    *memory.KV
	store *store.ObjectStore
	typed store.Typed[*widget]
}

func newEnv(t testing.TB) *testEnv {
	kv := memory.New(memory.Options{ProgressInterval: 50 * time.Millisecond})
	t.Cleanup(func() { _ = kv.Close() })
	s, err := store.New(kv, newScheme(t), store.Options{})
	require.NoError(t, err)
	return &testEnv{kv: kv, store: s, typed: store.For[*widget](s)}
}

func (e *testEnv) create(t testing.TB, ns, name string, spec widgetSpec) *widget {
	w, err := e.typed.Create(t.Context(), &widget{ObjectMeta: apis.ObjectMeta{Namespace: ns, Name: name}, Spec: spec}, store.WriteOptions{})
	require.NoError(t, err)
	return w
}

// run runs inf until the test ends.
func run[T apis.Object](t testing.TB, inf *Informer[T]) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		assert.NoError(t, inf.Run(ctx))
	}()
	t.Cleanup(func() { cancel(); <-done })
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	require.NoError(t, inf.WaitForSync(wctx))
}

// mirror rebuilds the cache from handler calls alone, and checks that the
// calls are consistent with it: no add of a known key, no update or delete
// of an unknown one, and updates carry the previous state as old.
type mirror struct {
	mu       sync.Mutex
	objs     map[apis.Key]*widget
	problems []string
	calls    int
}

func newMirror() *mirror { return &mirror{objs: map[apis.Key]*widget{}} }

func (m *mirror) OnAdd(obj *widget) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	k := apis.KeyOf(obj)
	if _, ok := m.objs[k]; ok {
		m.problems = append(m.problems, "add of known "+k.String())
	}
	m.objs[k] = obj
}

func (m *mirror) OnUpdate(old, obj *widget) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	k := apis.KeyOf(obj)
	cur, ok := m.objs[k]
	switch {
	case !ok:
		m.problems = append(m.problems, "update of unknown "+k.String())
	case cur.ResourceVersion != old.ResourceVersion:
		m.problems = append(m.problems, fmt.Sprintf("update of %s: old rv %s, handler last saw %s", k, old.ResourceVersion, cur.ResourceVersion))
	case old.ResourceVersion == obj.ResourceVersion:
		m.problems = append(m.problems, fmt.Sprintf("update of %s repeats rv %s", k, obj.ResourceVersion))
	}
	m.objs[k] = obj
}

func (m *mirror) OnDelete(obj *widget) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	k := apis.KeyOf(obj)
	if _, ok := m.objs[k]; !ok {
		m.problems = append(m.problems, "delete of unknown "+k.String())
	}
	delete(m.objs, k)
}

func (m *mirror) snapshot() (map[apis.Key]string, []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[apis.Key]string{}
	for k, o := range m.objs {
		out[k] = o.ResourceVersion
	}
	return out, append([]string(nil), m.problems...)
}

func versions(items []*widget) map[apis.Key]string {
	out := map[apis.Key]string{}
	for _, o := range items {
		out[apis.KeyOf(o)] = o.ResourceVersion
	}
	return out
}

func TestInformerListsThenWatches(t *testing.T) {
	env := newEnv(t)
	env.create(t, "default", "a", widgetSpec{Node: "n1"})
	env.create(t, "kube-system", "b", widgetSpec{Node: "n2"})
	inf := New[*widget](env.store, Options[*widget]{CheckMutations: true, Indexes: []Index[*widget]{{
		Name: "node", Func: func(w *widget) []string { return []string{w.Spec.Node} },
	}}})
	assert.False(t, inf.Synced())
	m := newMirror()
	remove := inf.AddHandler(m)
	defer remove()
	run(t, inf)
	assert.True(t, inf.Synced())
	assert.Equal(t, 2, inf.Len())

	c := env.create(t, "default", "c", widgetSpec{Node: "n1"})
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	require.NoError(t, inf.WaitForObject(ctx, c), "read-your-writes")
	got, ok := inf.Get(apis.Key{Namespace: "default", Name: "c"})
	require.True(t, ok)
	assert.Equal(t, c.ResourceVersion, got.ResourceVersion)

	byNode, err := inf.ByIndex("node", "n1")
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"a", "c"}, names(byNode))
	assert.ElementsMatch(t, []string{"a", "c"}, names(inf.ListNamespace("default")))
	byNamespace, err := inf.ByIndex(NamespaceIndex, "default")
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"a", "c"}, names(byNamespace))
	assert.Empty(t, inf.ListNamespace("elsewhere"))
	_, err = inf.ByIndex("nope", "x")
	assert.ErrorIs(t, err, ErrUnknownIndex)
	assert.ErrorIs(t, inf.AddIndex(Index[*widget]{Name: NamespaceIndex}), ErrIndexExists, "the built-in index's name is taken")

	// Move c to n2: the index follows.
	c.Spec.Node = "n2"
	c, err = env.typed.Update(t.Context(), c, store.WriteOptions{})
	require.NoError(t, err)
	require.NoError(t, inf.WaitForObject(ctx, c))
	byNode, _ = inf.ByIndex("node", "n2")
	assert.ElementsMatch(t, []string{"b", "c"}, names(byNode))

	// Delete: handlers get the last known object.
	var deleted *widget
	removeDel := inf.AddHandler(HandlerFuncs[*widget]{Delete: func(w *widget) { deleted = w }})
	gone, err := env.typed.Delete(t.Context(), apis.KeyOf(c), store.DeleteOptions{})
	require.NoError(t, err)
	require.NoError(t, inf.WaitForObject(ctx, gone))
	removeDel()
	require.NotNil(t, deleted)
	assert.Equal(t, "n2", deleted.Spec.Node)
	_, ok = inf.Get(apis.KeyOf(c))
	assert.False(t, ok)
	byNode, _ = inf.ByIndex("node", "n2")
	assert.ElementsMatch(t, []string{"b"}, names(byNode))

	mv, problems := m.snapshot()
	assert.Empty(t, problems)
	assert.Equal(t, versions(inf.List()), mv)
	assert.ErrorIs(t, inf.Run(t.Context()), ErrAlreadyRunning)

	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, inf.RegisterMetrics(reg))
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP informer_cached_objects Number of objects in the informer's cache
# TYPE informer_cached_objects gauge
informer_cached_objects{group="example.com",kind="Widget"} 2
`)))
	assert.Error(t, inf.RegisterMetrics(reg), "registering twice fails")
	assert.NoError(t, inf.CheckMutations())
}

func names(ws []*widget) []string {
	var out []string
	for _, w := range ws {
		out = append(out, w.Name)
	}
	return out
}

func TestInformerAddHandlerReplaysCache(t *testing.T) {
	env := newEnv(t)
	env.create(t, "default", "a", widgetSpec{})
	env.create(t, "default", "b", widgetSpec{})
	inf := New[*widget](env.store, Options[*widget]{})
	run(t, inf)
	m := newMirror()
	remove := inf.AddHandler(m)
	mv, problems := m.snapshot()
	assert.Empty(t, problems)
	assert.Len(t, mv, 2)
	remove()
	env.create(t, "default", "c", widgetSpec{})
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	l, err := env.typed.List(ctx, store.ListOptions{})
	require.NoError(t, err)
	require.NoError(t, inf.WaitForRevision(ctx, l.Revision))
	mv, _ = m.snapshot()
	assert.Len(t, mv, 2, "a removed handler is not called")
}

func TestInformerTransformAndAddIndex(t *testing.T) {
	env := newEnv(t)
	env.create(t, "default", "a", widgetSpec{Node: "n1", Blob: "large payload"})
	inf := New[*widget](env.store, Options[*widget]{Transform: func(w *widget) *widget {
		w.Spec.Blob = ""
		w.ManagedFields = nil
		return w
	}})
	run(t, inf)
	got, ok := inf.Get(apis.Key{Namespace: "default", Name: "a"})
	require.True(t, ok)
	assert.Empty(t, got.Spec.Blob)
	assert.Equal(t, "n1", got.Spec.Node)

	require.NoError(t, inf.AddIndex(Index[*widget]{Name: "node", Func: func(w *widget) []string { return []string{w.Spec.Node} }}))
	assert.ErrorIs(t, inf.AddIndex(Index[*widget]{Name: "node"}), ErrIndexExists)
	byNode, err := inf.ByIndex("node", "n1")
	require.NoError(t, err)
	assert.Equal(t, []string{"a"}, names(byNode))
}

func TestInformerWaitForRevisionHonoursContext(t *testing.T) {
	env := newEnv(t)
	inf := New[*widget](env.store, Options[*widget]{})
	run(t, inf)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, inf.WaitForRevision(ctx, 1<<40), context.DeadlineExceeded)
}

// flakyStore is the real store with its watches cut short at random: some
// end cleanly (a closed stream), some with an error (a reset connection).
type flakyStore struct {
	store.Store
	mu      sync.Mutex
	rng     *rand.Rand
	watches int
	// hold, when set, makes every watch wait until it is closed, and never cut.
	hold chan struct{}
}

var errReset = errors.New("flaky: connection reset")

func (f *flakyStore) Watch(ctx context.Context, gvk apis.GroupVersionKind, opts store.WatchOptions) iter.Seq2[store.WatchEvent, error] {
	f.mu.Lock()
	f.watches++
	budget := f.rng.IntN(40)
	if f.hold != nil {
		budget = 1 << 30
	}
	hold := f.hold
	fail := f.rng.IntN(2) == 0
	f.mu.Unlock()
	inner := f.Store.Watch(ctx, gvk, opts)
	return func(yield func(store.WatchEvent, error) bool) {
		if hold != nil {
			select {
			case <-hold:
			case <-ctx.Done():
				return
			}
		}
		n := 0
		for ev, err := range inner {
			if n == budget {
				if fail {
					yield(store.WatchEvent{}, errReset)
				}
				return
			}
			n++
			if !yield(ev, err) {
				return
			}
		}
	}
}

// TestInformerConvergesUnderChurn: random creates, updates and deletes with
// forced compactions and watches dropped at random; the cache must end equal
// to the store, and the handlers' view equal to the cache, with no
// inconsistent call along the way.
func TestInformerConvergesUnderChurn(t *testing.T) {
	for seed := range uint64(3) {
		t.Run(strconv.FormatUint(seed, 10), func(t *testing.T) {
			env := newEnv(t)
			rng := rand.New(rand.NewPCG(seed, 7))
			flaky := &flakyStore{Store: env.store, rng: rand.New(rand.NewPCG(seed, 8))}
			logger, relists, _ := relistCounter()
			inf := New[*widget](flaky, Options[*widget]{RetryBackoff: time.Millisecond, Logger: logger, CheckMutations: true})
			var histMu sync.Mutex
			hist := map[apis.Key][]string{}
			rec := func(op string, w *widget) {
				histMu.Lock()
				hist[apis.KeyOf(w)] = append(hist[apis.KeyOf(w)], op+w.ResourceVersion+"@"+strconv.FormatInt(inf.Revision(), 10))
				histMu.Unlock()
			}
			defer inf.AddHandler(HandlerFuncs[*widget]{Add: func(w *widget) { rec("A", w) }, Update: func(_, w *widget) { rec("U", w) }, Delete: func(w *widget) { rec("D", w) }})()
			_ = logger
			m := newMirror()
			defer inf.AddHandler(m)()
			run(t, inf)

			ctx := t.Context()
			live := map[string]*widget{}
			for i := range 1000 {
				name := "w" + strconv.Itoa(rng.IntN(60))
				ns := []string{"default", "kube-system"}[rng.IntN(2)]
				k := ns + "/" + name
				cur, exists := live[k]
				switch {
				case !exists:
					live[k] = env.create(t, ns, name, widgetSpec{Value: i})
				case rng.IntN(3) == 0:
					_, err := env.typed.Delete(ctx, apis.KeyOf(cur), store.DeleteOptions{})
					require.NoError(t, err)
					delete(live, k)
				default:
					cur.Spec.Value = i
					upd, err := env.typed.Update(ctx, cur, store.WriteOptions{})
					require.NoError(t, err)
					live[k] = upd
				}
				if rng.IntN(100) == 0 {
					l, err := env.typed.List(ctx, store.ListOptions{})
					require.NoError(t, err)
					require.NoError(t, env.store.Compact(ctx, l.Revision))
				}
				if i%20 == 19 {
					// Let the informer catch up now and then, so that its
					// watches (and their drops) happen during the churn
					// rather than only in one relist at the end.
					l, err := env.typed.List(ctx, store.ListOptions{Limit: 1})
					require.NoError(t, err)
					wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
					require.NoError(t, inf.WaitForRevision(wctx, l.Revision))
					cancel()
				}
			}
			final, err := env.typed.List(ctx, store.ListOptions{})
			require.NoError(t, err)
			wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			require.NoError(t, inf.WaitForRevision(wctx, final.Revision))

			want := versions(final.Items)
			got := versions(inf.List())
			for k, v := range want {
				if got[k] != v {
					histMu.Lock()
					t.Logf("%s want %s got %s: %v", k, v, got[k], hist[k])
					histMu.Unlock()
					break
				}
			}
			assert.Equal(t, want, versions(inf.List()), "cache equals the store")
			mv, problems := m.snapshot()
			assert.Empty(t, problems)
			assert.Equal(t, want, mv, "handlers saw every final state")
			flaky.mu.Lock()
			assert.Greater(t, flaky.watches, 5, "watches were dropped and resumed")
			flaky.mu.Unlock()
			assert.Positive(t, relists.Load(), "a broken watch forced a relist")
			assert.NoError(t, inf.CheckMutations())
		})
	}
}

// relistCounter returns a logger that counts the informer's relists, and
// those caused by a compacted revision.
func relistCounter() (logr.Logger, *atomic.Int64, *atomic.Int64) {
	var relists, compacted atomic.Int64
	return funcr.New(func(prefix, args string) {
		if strings.Contains(args, `"msg"="Relisting"`) {
			relists.Add(1)
			if strings.Contains(args, `"compacted"=true`) {
				compacted.Add(1)
			}
		}
	}, funcr.Options{}), &relists, &compacted
}

// TestInformerRelistsAfterCompaction holds the informer's watch until the
// revision it resumes from is compacted away: it must relist, and handlers
// must see the changes made meanwhile exactly once.
func TestInformerRelistsAfterCompaction(t *testing.T) {
	env := newEnv(t)
	keep := env.create(t, "default", "keep", widgetSpec{Value: 1})
	change := env.create(t, "default", "change", widgetSpec{Value: 1})
	drop := env.create(t, "default", "drop", widgetSpec{Value: 1})
	hold := make(chan struct{})
	flaky := &flakyStore{Store: env.store, rng: rand.New(rand.NewPCG(1, 1)), hold: hold}
	logger, relists, compacted := relistCounter()
	inf := New[*widget](flaky, Options[*widget]{RetryBackoff: time.Millisecond, Logger: logger, CheckMutations: true})
	m := newMirror()
	defer inf.AddHandler(m)()
	run(t, inf) // listed; the watch now waits on hold

	ctx := t.Context()
	change.Spec.Value = 2
	_, err := env.typed.Update(ctx, change, store.WriteOptions{})
	require.NoError(t, err)
	_, err = env.typed.Delete(ctx, apis.KeyOf(drop), store.DeleteOptions{})
	require.NoError(t, err)
	env.create(t, "default", "new", widgetSpec{Value: 1})
	final, err := env.typed.List(ctx, store.ListOptions{})
	require.NoError(t, err)
	require.NoError(t, env.store.Compact(ctx, final.Revision))
	close(hold)

	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	require.NoError(t, inf.WaitForRevision(wctx, final.Revision))
	assert.Equal(t, int64(1), compacted.Load(), "the compacted watch caused one relist")
	assert.Equal(t, int64(1), relists.Load())
	want := versions(final.Items)
	assert.Equal(t, want, versions(inf.List()))
	mv, problems := m.snapshot()
	assert.Empty(t, problems)
	assert.Equal(t, want, mv)
	m.mu.Lock()
	assert.Equal(t, 3+3, m.calls, "3 initial adds, then one update, one delete, one add")
	m.mu.Unlock()
	got, _ := inf.Get(apis.KeyOf(keep))
	assert.Equal(t, keep.ResourceVersion, got.ResourceVersion)
	assert.NoError(t, inf.CheckMutations())
}

func TestFactorySharesOneInformerPerKind(t *testing.T) {
	env := newEnv(t)
	env.create(t, "default", "a", widgetSpec{})
	f := NewFactory(env.store, FactoryOptions{CheckMutations: true})
	a, b := Shared[*widget](f), Shared[*widget](f)
	require.Same(t, a, b)
	ns := Shared[*core.Namespace](f)
	ctx, cancel := context.WithCancel(t.Context())
	f.Start(ctx)
	f.Start(ctx) // a second Start does not run them twice
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	require.NoError(t, f.WaitForSync(wctx))
	assert.Equal(t, 1, a.Len())
	assert.Len(t, ns.List(), len(core.InitialNamespaces()))
	assert.NoError(t, f.CheckMutations())
	a.List()[0].Spec.Value = 42 // a consumer breaking the rule
	assert.ErrorIs(t, f.CheckMutations(), ErrMutated)
	cancel()
	f.Wait()
}

// TestCheckMutations: with Options.CheckMutations, modifying a cached
// object is reported, whether the object is still cached or has since been
// replaced by a newer state or deleted.
func TestCheckMutations(t *testing.T) {
	env := newEnv(t)
	env.create(t, "default", "clean", widgetSpec{Value: 1})
	env.create(t, "default", "touched", widgetSpec{Value: 1})
	replaced := env.create(t, "kube-system", "replaced", widgetSpec{Value: 1})
	deleted := env.create(t, "kube-system", "deleted", widgetSpec{Value: 1})
	inf := New[*widget](env.store, Options[*widget]{CheckMutations: true})
	run(t, inf)
	require.NoError(t, inf.CheckMutations())

	// Consumers modify three shared objects, as a buggy handler or lister would.
	for _, k := range []apis.Key{{Namespace: "default", Name: "touched"}, apis.KeyOf(replaced), apis.KeyOf(deleted)} {
		obj, ok := inf.Get(k)
		require.True(t, ok)
		obj.Labels = map[string]string{"set-by": "a consumer"}
	}
	// Two of them then leave the cache, where no later check could see them.
	replaced.Spec.Value = 2
	upd, err := env.typed.Update(t.Context(), replaced, store.WriteOptions{})
	require.NoError(t, err)
	gone, err := env.typed.Delete(t.Context(), apis.KeyOf(deleted), store.DeleteOptions{})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	require.NoError(t, inf.WaitForObject(ctx, upd))
	require.NoError(t, inf.WaitForObject(ctx, gone))

	err = inf.CheckMutations()
	require.ErrorIs(t, err, ErrMutated)
	msg := err.Error()
	for _, k := range []string{"default/touched", "kube-system/replaced", "kube-system/deleted"} {
		assert.Contains(t, msg, k)
	}
	assert.NotContains(t, msg, "default/clean")

	plain := New[*widget](env.store, Options[*widget]{})
	assert.ErrorIs(t, plain.CheckMutations(), ErrNotCheckingMutations, "nothing to compare without the option")
}
