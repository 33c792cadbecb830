package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
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
)

// Compactor is implemented by stores that can discard history; the suite's
// compaction subtests need it (store.ObjectStore has it).
type Compactor interface {
	Compact(ctx context.Context, rev int64) error
}

// eventTimeout bounds every wait for a watch event. It is a deadlock guard,
// not a performance assertion.
const eventTimeout = 30 * time.Second

// RunStore runs the Store conformance suite. open must return a new, empty
// store (apart from the initial namespaces) whose scheme has the kinds of
// AddToScheme; each subtest opens its own. For the bookmark subtest, the
// store's backend should send progress events within a few seconds.
func RunStore(t *testing.T, open func(t *testing.T) store.Store) {
	for _, tc := range storeTests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newEnv(t, open(t)))
		})
	}
}

var storeTests = []struct {
	name string
	fn   func(t *testing.T, e *env)
}{
	{"InitialNamespaces", testInitialNamespaces},
	{"Create/SystemFields", testCreateSystemFields},
	{"Create/ResourceVersionSet", testCreateResourceVersionSet},
	{"Create/AlreadyExists", testCreateAlreadyExists},
	{"Create/GenerateName", testCreateGenerateName},
	{"Create/Defaulting", testCreateDefaulting},
	{"Create/Validation", testCreateValidation},
	{"Create/TooLarge", testTooLarge},
	{"Create/UnknownKind", testUnknownKind},
	{"Namespace/Missing", testNamespaceMissing},
	{"Namespace/Terminating", testNamespaceTerminating},
	{"Namespace/Required", testNamespaceRequired},
	{"Namespace/Immortal", testNamespaceImmortal},
	{"Namespace/SpecFinalizers", testNamespaceSpecFinalizers},
	{"Namespace/NameIsLabel", testNamespaceNameIsLabel},
	{"Namespace/ClusterScopedRefusesNamespace", testClusterScopedRefusesNamespace},
	{"ResourceVersion/IsRevision", testResourceVersionIsRevision},
	{"Get/NotFound", testGetNotFound},
	{"Get/AtRevision", testGetAtRevision},
	{"Update/Generation", testUpdateGeneration},
	{"Update/KeepsStatus", testUpdateKeepsStatus},
	{"Update/Conflict", testUpdateConflict},
	{"Update/Unconditional", testUpdateUnconditional},
	{"Update/NoOp", testUpdateNoOp},
	{"Update/NotFound", testUpdateNotFound},
	{"Update/Immutable", testUpdateImmutable},
	{"Update/BadResourceVersion", testUpdateBadResourceVersion},
	{"Update/ConcurrentConditional", testUpdateConcurrentConditional},
	{"Update/ConcurrentUnconditional", testUpdateConcurrentUnconditional},
	{"UpdateStatus/KeepsSpecAndMetadata", testUpdateStatusKeepsSpec},
	{"UpdateStatus/Conflict", testUpdateStatusConflict},
	{"UpdateStatus/NoStatusSubresource", testUpdateStatusNoStatus},
	{"Delete/Immediate", testDeleteImmediate},
	{"Delete/Finalizers", testDeleteFinalizers},
	{"Delete/Propagation", testDeletePropagation},
	{"Delete/Preconditions", testDeletePreconditions},
	{"Delete/BadPropagationPolicy", testDeleteBadPolicy},
	{"DryRun", testDryRun},
	{"ClusterScoped", testClusterScoped},
	{"List/Namespace", testListNamespace},
	{"List/LabelSelector", testListLabelSelector},
	{"List/FieldSelector", testListFieldSelector},
	{"List/SelectorAfterChanges", testListSelectorAfterChanges},
	{"List/Pagination", testListPagination},
	{"List/PaginationWithSelector", testListPaginationWithSelector},
	{"List/BadContinue", testListBadContinue},
	{"List/AtRevision", testListAtRevision},
	{"List/ContinueCompacted", testListContinueCompacted},
	{"Watch/Events", testWatchEvents},
	{"Watch/FromListRevision", testWatchFromListRevision},
	{"Watch/LabelSelectorTransitions", testWatchLabelTransitions},
	{"Watch/FieldSelectorTransitions", testWatchFieldTransitions},
	{"Watch/Namespace", testWatchNamespace},
	{"Watch/ObjectsAreOwned", testWatchObjectsAreOwned},
	{"Watch/ResumeUnderChurn", testWatchResumeUnderChurn},
	{"Watch/Bookmarks", testWatchBookmarks},
	{"Watch/Compacted", testWatchCompacted},
	{"Watch/UnknownKind", testWatchUnknownKind},
	{"BadInputLeavesStoreUnchanged", testBadInputLeavesStoreUnchanged},
	{"Typed", testTyped},
	{"Typed/UnknownKind", testTypedUnknownKind},
}

// ---- environment ----

type env struct {
	t       *testing.T
	ctx     context.Context
	s       store.Store
	widgets store.Typed[*Widget]
	gadgets store.Typed[*Gadget]
	nss     store.Typed[*core.Namespace]
}

func newEnv(t *testing.T, s store.Store) *env {
	t.Helper()
	require.NotNil(t, s)
	e := &env{t: t, ctx: t.Context(), s: s,
		widgets: store.For[*Widget](s), gadgets: store.For[*Gadget](s), nss: store.For[*core.Namespace](s)}
	require.NotNil(t, e.widgets.Kind(), "the store's scheme lacks Widget: use storetest.AddToScheme")
	return e
}

func widget(ns, name string, mods ...func(*Widget)) *Widget {
	w := &Widget{ObjectMeta: apis.ObjectMeta{Namespace: ns, Name: name}}
	for _, m := range mods {
		m(w)
	}
	return w
}

func withLabels(kv ...string) func(*Widget) {
	return func(w *Widget) {
		w.Labels = map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			w.Labels[kv[i]] = kv[i+1]
		}
	}
}

func (e *env) create(w *Widget) *Widget {
	e.t.Helper()
	out, err := e.widgets.Create(e.ctx, w, store.WriteOptions{})
	require.NoError(e.t, err)
	return out
}

func (e *env) get(ns, name string) *Widget {
	e.t.Helper()
	out, err := e.widgets.Get(e.ctx, apis.Key{Namespace: ns, Name: name}, store.GetOptions{})
	require.NoError(e.t, err)
	return out
}

func (e *env) namespace(name string, finalizers ...string) *core.Namespace {
	e.t.Helper()
	ns, err := e.nss.Create(e.ctx, &core.Namespace{ObjectMeta: apis.ObjectMeta{Name: name, Finalizers: finalizers}}, store.WriteOptions{})
	require.NoError(e.t, err)
	return ns
}

// revision returns the store's current revision.
func (e *env) revision() int64 {
	e.t.Helper()
	l, err := e.nss.List(e.ctx, store.ListOptions{Limit: 1})
	require.NoError(e.t, err)
	return l.Revision
}

// snapshot renders every object of the suite's kinds, resourceVersions
// included, with the current revision: equal snapshots mean nothing was written.
func (e *env) snapshot() string {
	e.t.Helper()
	var b strings.Builder
	for _, gvk := range []apis.GroupVersionKind{WidgetGVK, GadgetGVK, NamespaceGVK} {
		l, err := e.s.List(e.ctx, gvk, store.ListOptions{})
		require.NoError(e.t, err)
		fmt.Fprintf(&b, "%s@%d\n", gvk.Kind, l.Revision)
		for _, o := range l.Items {
			j, err := json.Marshal(o)
			require.NoError(e.t, err)
			fmt.Fprintf(&b, "  %s\n", j)
		}
	}
	return b.String()
}

func rv(t *testing.T, o apis.Object) int64 {
	t.Helper()
	n, err := strconv.ParseInt(o.Meta().ResourceVersion, 10, 64)
	require.NoError(t, err, "resourceVersion %q", o.Meta().ResourceVersion)
	return n
}

// hasFieldError asserts that err is an ErrInvalid naming path.
func hasFieldError(t *testing.T, err error, path string) {
	t.Helper()
	require.ErrorIs(t, err, store.ErrInvalid)
	var paths []string
	for _, fe := range store.FieldErrors(err) {
		if fe.Field == path {
			return
		}
		paths = append(paths, fe.Field)
	}
	t.Fatalf("error %q has no field error at %s (has %v)", err, path, paths)
}

func mustLabels(t *testing.T, s string) labels.Selector {
	t.Helper()
	sel, err := labels.Parse(s)
	require.NoError(t, err)
	return sel
}

func mustFields(t *testing.T, s string) fields.Selector {
	t.Helper()
	sel, err := fields.Parse(s)
	require.NoError(t, err)
	return sel
}

func names(items []*Widget) []string {
	out := make([]string, len(items))
	for i, w := range items {
		out[i] = w.Namespace + "/" + w.Name
	}
	return out
}

// watcher collects a Watch in a goroutine that ends with the subtest.
type watcher struct {
	t  *testing.T
	ch chan watchResult
}

type watchResult struct {
	ev  store.WatchEvent
	err error
}

func (e *env) watch(gvk apis.GroupVersionKind, opts store.WatchOptions) *watcher {
	e.t.Helper()
	ctx, cancel := context.WithCancel(e.ctx)
	w := &watcher{t: e.t, ch: make(chan watchResult)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev, err := range e.s.Watch(ctx, gvk, opts) {
			select {
			case w.ch <- watchResult{ev, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	e.t.Cleanup(func() { cancel(); <-done })
	return w
}

func (w *watcher) next() store.WatchEvent {
	w.t.Helper()
	select {
	case r := <-w.ch:
		require.NoError(w.t, r.err)
		return r.ev
	case <-time.After(eventTimeout):
		w.t.Fatalf("no watch event within %v", eventTimeout)
	}
	return store.WatchEvent{}
}

// nextObject skips bookmarks.
func (w *watcher) nextObject() store.WatchEvent {
	w.t.Helper()
	for {
		if ev := w.next(); ev.Type != store.WatchBookmark {
			return ev
		}
	}
}

func (w *watcher) nextErr() error {
	w.t.Helper()
	for {
		select {
		case r := <-w.ch:
			if r.err != nil {
				return r.err
			}
		case <-time.After(eventTimeout):
			w.t.Fatalf("no watch error within %v", eventTimeout)
			return nil
		}
	}
}

func (w *watcher) expect(typ store.WatchEventType, name string) store.WatchEvent {
	w.t.Helper()
	ev := w.nextObject()
	require.Equal(w.t, typ, ev.Type, "event for %s", ev.Object.Meta().Name)
	require.Equal(w.t, name, ev.Object.Meta().Name, "event %s", ev.Type)
	require.Equal(w.t, strconv.FormatInt(ev.Revision, 10), ev.Object.Meta().ResourceVersion)
	return ev
}

// ---- creates ----

func testInitialNamespaces(t *testing.T, e *env) {
	for _, name := range core.InitialNamespaces() {
		ns, err := e.nss.Get(e.ctx, apis.Key{Name: name}, store.GetOptions{})
		require.NoError(t, err, name)
		assert.Nil(t, ns.DeletionTimestamp)
	}
}

func testCreateSystemFields(t *testing.T, e *env) {
	before := time.Now().Add(-2 * time.Second)
	old := apis.NewTime(time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC))
	in := widget("default", "a", func(w *Widget) {
		w.UID = "client-uid"
		w.CreationTimestamp = old
		w.Generation = 7
		w.DeletionTimestamp = &old
		w.Spec.Replicas = 2
	})
	inCopy := *in
	a := e.create(in)
	b := e.create(widget("default", "b"))
	after := time.Now().Add(2 * time.Second)

	assert.Equal(t, inCopy, *in, "the caller's object must not be modified")
	for _, w := range []*Widget{a, b} {
		assert.NotEmpty(t, w.UID)
		assert.NotEqual(t, "client-uid", w.UID)
		assert.True(t, w.CreationTimestamp.After(before) && w.CreationTimestamp.Before(after),
			"creationTimestamp %v not within [%v, %v]", w.CreationTimestamp, before, after)
		assert.Equal(t, int64(1), w.Generation)
		assert.Nil(t, w.DeletionTimestamp)
		assert.Equal(t, WidgetGVK, w.GroupVersionKind())
	}
	assert.NotEqual(t, a.UID, b.UID)
	assert.Greater(t, rv(t, b), rv(t, a))
	assert.Equal(t, int32(2), a.Spec.Replicas)
	assert.Equal(t, a, e.get("default", "a"), "Create returns what Get reads")
}

func testCreateResourceVersionSet(t *testing.T, e *env) {
	_, err := e.widgets.Create(e.ctx, widget("default", "a", func(w *Widget) { w.ResourceVersion = "5" }), store.WriteOptions{})
	hasFieldError(t, err, "metadata.resourceVersion")
}

func testCreateAlreadyExists(t *testing.T, e *env) {
	e.create(widget("default", "a"))
	before := e.snapshot()
	_, err := e.widgets.Create(e.ctx, widget("default", "a"), store.WriteOptions{})
	require.ErrorIs(t, err, store.ErrAlreadyExists)
	assert.Contains(t, err.Error(), "widgets."+TestGroup)
	assert.Contains(t, err.Error(), "default/a")
	assert.Equal(t, before, e.snapshot())
	// The same name in another namespace is another object.
	e.namespace("other")
	e.create(widget("other", "a"))
}

func testCreateGenerateName(t *testing.T, e *env) {
	a := e.create(&Widget{ObjectMeta: apis.ObjectMeta{Namespace: "default", GenerateName: "gen-"}})
	b := e.create(&Widget{ObjectMeta: apis.ObjectMeta{Namespace: "default", GenerateName: "gen-"}})
	for _, w := range []*Widget{a, b} {
		assert.True(t, strings.HasPrefix(w.Name, "gen-"), w.Name)
		assert.Len(t, w.Name, len("gen-")+5)
		assert.Equal(t, "gen-", w.GenerateName)
	}
	assert.NotEqual(t, a.Name, b.Name)
	long := strings.Repeat("x", 70)
	c := e.create(&Widget{ObjectMeta: apis.ObjectMeta{Namespace: "default", GenerateName: long}})
	assert.Len(t, c.Name, 63, "generated names are cut to 63 characters")

	_, err := e.widgets.Create(e.ctx, &Widget{ObjectMeta: apis.ObjectMeta{Namespace: "default", GenerateName: "Bad_"}}, store.WriteOptions{})
	hasFieldError(t, err, "metadata.generateName")
}

func testCreateDefaulting(t *testing.T, e *env) {
	assert.Equal(t, DefaultColor, e.create(widget("default", "a")).Spec.Color)
	assert.Equal(t, "red", e.create(widget("default", "b", func(w *Widget) { w.Spec.Color = "red" })).Spec.Color)
	assert.Equal(t, DefaultColor, e.get("default", "a").Spec.Color)
}

func testCreateValidation(t *testing.T, e *env) {
	before := e.snapshot()
	cases := []struct {
		w    *Widget
		path string
	}{
		{widget("default", "a", func(w *Widget) { w.Spec.Replicas = -1 }), "spec.replicas"},
		{widget("default", "Bad_Name"), "metadata.name"},
		{widget("default", ""), "metadata.name"},
		{widget("default", "a/b"), "metadata.name"},
		{widget("default", "a", withLabels("bad key!", "v")), "metadata.labels"},
		{widget("default", "a", withLabels("app", "bad value!")), "metadata.labels[app]"},
		{widget("default", "a", func(w *Widget) { w.Finalizers = []string{"bad finalizer"} }), "metadata.finalizers[0]"},
		{widget("default", "a", func(w *Widget) { w.Annotations = map[string]string{"bad key!": ""} }), "metadata.annotations"},
	}
	for _, c := range cases {
		_, err := e.widgets.Create(e.ctx, c.w, store.WriteOptions{})
		hasFieldError(t, err, c.path)
		assert.Contains(t, err.Error(), c.path)
	}
	assert.Equal(t, before, e.snapshot())
}

func testTooLarge(t *testing.T, e *env) {
	big := strings.Repeat("x", 2<<20)
	before := e.snapshot()
	_, err := e.widgets.Create(e.ctx, widget("default", "big", func(w *Widget) { w.Spec.Payload = big }), store.WriteOptions{})
	require.ErrorIs(t, err, store.ErrTooLarge)
	assert.Contains(t, err.Error(), "limit")
	assert.Contains(t, err.Error(), "default/big")
	assert.Equal(t, before, e.snapshot())

	w := e.create(widget("default", "grows"))
	before = e.snapshot()
	w.Spec.Payload = big
	_, err = e.widgets.Update(e.ctx, w, store.WriteOptions{})
	require.ErrorIs(t, err, store.ErrTooLarge)
	assert.Equal(t, before, e.snapshot())

	// Just under the default limit (1.5 MiB) is fine.
	e.create(widget("default", "fits", func(w *Widget) { w.Spec.Payload = strings.Repeat("y", 1<<20) }))
}

type unregistered struct {
	apis.TypeMeta   `json:",inline"`
	apis.ObjectMeta `json:"metadata"`
}

func testUnknownKind(t *testing.T, e *env) {
	_, err := e.s.Create(e.ctx, &unregistered{ObjectMeta: apis.ObjectMeta{Name: "x"}}, store.WriteOptions{})
	require.ErrorIs(t, err, apis.ErrUnknownKind)
	_, err = e.s.Update(e.ctx, &unregistered{ObjectMeta: apis.ObjectMeta{Name: "x"}}, store.WriteOptions{})
	require.ErrorIs(t, err, apis.ErrUnknownKind)
	unknown := apis.GroupVersionKind{Group: "nope", Version: "v1", Kind: "Nope"}
	_, err = e.s.Get(e.ctx, unknown, apis.Key{Name: "x"}, store.GetOptions{})
	require.ErrorIs(t, err, apis.ErrUnknownKind)
	_, err = e.s.List(e.ctx, unknown, store.ListOptions{})
	require.ErrorIs(t, err, apis.ErrUnknownKind)
	_, err = e.s.Delete(e.ctx, unknown, apis.Key{Name: "x"}, store.DeleteOptions{})
	require.ErrorIs(t, err, apis.ErrUnknownKind)
	_, err = e.s.Create(e.ctx, nil, store.WriteOptions{})
	require.Error(t, err)
	// A typed nil is bad input too: an error, never a panic.
	_, err = e.widgets.Create(e.ctx, nil, store.WriteOptions{})
	require.Error(t, err)
	_, err = e.widgets.Update(e.ctx, nil, store.WriteOptions{})
	require.Error(t, err)
	_, err = e.widgets.UpdateStatus(e.ctx, nil, store.WriteOptions{})
	require.Error(t, err)
}

// ---- namespaces ----

func testNamespaceMissing(t *testing.T, e *env) {
	before := e.snapshot()
	_, err := e.widgets.Create(e.ctx, widget("nope", "a"), store.WriteOptions{})
	require.ErrorIs(t, err, store.ErrNotFound)
	assert.Contains(t, err.Error(), `"nope"`)
	assert.Equal(t, before, e.snapshot())
}

func testNamespaceTerminating(t *testing.T, e *env) {
	e.namespace("term", "example.com/hold")
	e.create(widget("term", "before"))
	marked, err := e.nss.Delete(e.ctx, apis.Key{Name: "term"}, store.DeleteOptions{})
	require.NoError(t, err)
	require.NotNil(t, marked.DeletionTimestamp)

	before := e.snapshot()
	_, err = e.widgets.Create(e.ctx, widget("term", "after"), store.WriteOptions{})
	hasFieldError(t, err, "metadata.namespace")
	assert.Contains(t, err.Error(), "being terminated")
	assert.Equal(t, before, e.snapshot())

	// Objects already there can still change (controllers finish their work).
	w := e.get("term", "before")
	w.Spec.Replicas = 3
	_, err = e.widgets.Update(e.ctx, w, store.WriteOptions{})
	require.NoError(t, err)

	// Releasing the namespace's finalizer deletes it; creates then find no namespace.
	marked.Finalizers = nil
	_, err = e.nss.Update(e.ctx, marked, store.WriteOptions{})
	require.NoError(t, err)
	_, err = e.nss.Get(e.ctx, apis.Key{Name: "term"}, store.GetOptions{})
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = e.widgets.Create(e.ctx, widget("term", "after"), store.WriteOptions{})
	require.ErrorIs(t, err, store.ErrNotFound)
}

func testNamespaceRequired(t *testing.T, e *env) {
	_, err := e.widgets.Create(e.ctx, widget("", "a"), store.WriteOptions{})
	hasFieldError(t, err, "metadata.namespace")
	_, err = e.widgets.Create(e.ctx, widget("Not_A_Label", "a"), store.WriteOptions{})
	require.Error(t, err)
}

func testNamespaceImmortal(t *testing.T, e *env) {
	before := e.snapshot()
	for _, name := range []string{core.NamespaceDefault, core.NamespaceSystem, core.NamespacePublic} {
		_, err := e.nss.Delete(e.ctx, apis.Key{Name: name}, store.DeleteOptions{})
		require.ErrorIs(t, err, store.ErrDenied, name)
		assert.Contains(t, err.Error(), "may not be deleted")
	}
	assert.Equal(t, before, e.snapshot())
}

// A namespace's spec.finalizers hold it like metadata finalizers: deleting it
// marks it Terminating until they are gone.
func testNamespaceSpecFinalizers(t *testing.T, e *env) {
	_, err := e.nss.Create(e.ctx, &core.Namespace{ObjectMeta: apis.ObjectMeta{Name: "held"},
		Spec: core.NamespaceSpec{Finalizers: []string{"kubernetes"}}}, store.WriteOptions{})
	require.NoError(t, err)
	e.create(widget("held", "a"))
	marked, err := e.nss.Delete(e.ctx, apis.Key{Name: "held"}, store.DeleteOptions{})
	require.NoError(t, err)
	require.NotNil(t, marked.DeletionTimestamp)
	assert.Equal(t, core.NamespaceTerminating, marked.Status.Phase)
	_, err = e.widgets.Create(e.ctx, widget("held", "b"), store.WriteOptions{})
	hasFieldError(t, err, "metadata.namespace")

	before := e.snapshot()
	again, err := e.nss.Delete(e.ctx, apis.Key{Name: "held"}, store.DeleteOptions{})
	require.NoError(t, err)
	assert.Equal(t, marked, again)
	c := *marked
	c.Spec.Finalizers = []string{"kubernetes", "example.com/more"}
	_, err = e.nss.Update(e.ctx, &c, store.WriteOptions{})
	hasFieldError(t, err, "spec.finalizers")
	assert.Equal(t, before, e.snapshot())

	marked.Spec.Finalizers = nil
	_, err = e.nss.Update(e.ctx, marked, store.WriteOptions{})
	require.NoError(t, err)
	_, err = e.nss.Get(e.ctx, apis.Key{Name: "held"}, store.GetOptions{})
	require.ErrorIs(t, err, store.ErrNotFound)
}

func testNamespaceNameIsLabel(t *testing.T, e *env) {
	_, err := e.nss.Create(e.ctx, &core.Namespace{ObjectMeta: apis.ObjectMeta{Name: "a.b"}}, store.WriteOptions{})
	hasFieldError(t, err, "metadata.name")
}

func testClusterScopedRefusesNamespace(t *testing.T, e *env) {
	before := e.snapshot()
	_, err := e.gadgets.Create(e.ctx, &Gadget{ObjectMeta: apis.ObjectMeta{Namespace: "default", Name: "g"}}, store.WriteOptions{})
	hasFieldError(t, err, "metadata.namespace")
	assert.Equal(t, before, e.snapshot())
	g, err := e.gadgets.Create(e.ctx, &Gadget{ObjectMeta: apis.ObjectMeta{Name: "g"}}, store.WriteOptions{})
	require.NoError(t, err)
	g.Namespace = "default"
	_, err = e.gadgets.Update(e.ctx, g, store.WriteOptions{})
	hasFieldError(t, err, "metadata.namespace")
}

// ---- reads and revisions ----

func testResourceVersionIsRevision(t *testing.T, e *env) {
	a := e.create(widget("default", "a"))
	assert.Equal(t, rv(t, a), e.revision())
	b := e.create(widget("default", "b"))
	assert.Equal(t, rv(t, b), e.revision())
	assert.Greater(t, rv(t, b), rv(t, a))
	a.Spec.Replicas = 1
	a2, err := e.widgets.Update(e.ctx, a, store.WriteOptions{})
	require.NoError(t, err)
	assert.Equal(t, rv(t, a2), e.revision())
	assert.Equal(t, a2, e.get("default", "a"))
}

func testGetNotFound(t *testing.T, e *env) {
	_, err := e.widgets.Get(e.ctx, apis.Key{Namespace: "default", Name: "missing"}, store.GetOptions{})
	require.ErrorIs(t, err, store.ErrNotFound)
	assert.Contains(t, err.Error(), "default/missing")
	assert.Contains(t, err.Error(), "widgets."+TestGroup)
	// A name that prefixes an existing one is not found either.
	e.create(widget("default", "abc"))
	_, err = e.widgets.Get(e.ctx, apis.Key{Namespace: "default", Name: "ab"}, store.GetOptions{})
	require.ErrorIs(t, err, store.ErrNotFound)
}

func testGetAtRevision(t *testing.T, e *env) {
	a := e.create(widget("default", "a", func(w *Widget) { w.Spec.Replicas = 1 }))
	a.Spec.Replicas = 2
	_, err := e.widgets.Update(e.ctx, a, store.WriteOptions{})
	require.NoError(t, err)
	old, err := e.widgets.Get(e.ctx, apis.Key{Namespace: "default", Name: "a"}, store.GetOptions{Revision: rv(t, a)})
	require.NoError(t, err)
	assert.Equal(t, int32(1), old.Spec.Replicas)
	assert.Equal(t, a.ResourceVersion, old.ResourceVersion)
	assert.Equal(t, int32(2), e.get("default", "a").Spec.Replicas)
}

// ---- updates ----

func testUpdateGeneration(t *testing.T, e *env) {
	w := e.create(widget("default", "a"))
	require.Equal(t, int64(1), w.Generation)

	w.Labels = map[string]string{"app": "web"}
	w.Annotations = map[string]string{"note": "metadata only"}
	w, err := e.widgets.Update(e.ctx, w, store.WriteOptions{})
	require.NoError(t, err)
	assert.Equal(t, int64(1), w.Generation, "metadata changes keep the generation")

	w.Status.Phase = "Running"
	w, err = e.widgets.Update(e.ctx, w, store.WriteOptions{})
	require.NoError(t, err)
	assert.Equal(t, int64(1), w.Generation, "status is not written by Update")
	assert.Empty(t, w.Status.Phase)

	w.Spec.Replicas = 5
	w, err = e.widgets.Update(e.ctx, w, store.WriteOptions{})
	require.NoError(t, err)
	assert.Equal(t, int64(2), w.Generation, "spec changes bump the generation")

	w.Generation = 40
	w.Spec.Replicas = 6
	w, err = e.widgets.Update(e.ctx, w, store.WriteOptions{})
	require.NoError(t, err)
	assert.Equal(t, int64(3), w.Generation, "clients cannot set the generation")
}

func testUpdateKeepsStatus(t *testing.T, e *env) {
	w := e.create(widget("default", "a"))
	w.Status.Phase = "Running"
	w, err := e.widgets.UpdateStatus(e.ctx, w, store.WriteOptions{})
	require.NoError(t, err)
	w.Status = WidgetStatus{}
	w.Spec.Replicas = 3
	w, err = e.widgets.Update(e.ctx, w, store.WriteOptions{})
	require.NoError(t, err)
	assert.Equal(t, "Running", w.Status.Phase)
	assert.Equal(t, int32(3), w.Spec.Replicas)
	assert.Equal(t, "Running", e.get("default", "a").Status.Phase)
}

func testUpdateConflict(t *testing.T, e *env) {
	w := e.create(widget("default", "a"))
	stale := *w
	w.Spec.Replicas = 1
	_, err := e.widgets.Update(e.ctx, w, store.WriteOptions{})
	require.NoError(t, err)
	before := e.snapshot()
	stale.Spec.Replicas = 2
	_, err = e.widgets.Update(e.ctx, &stale, store.WriteOptions{})
	require.ErrorIs(t, err, store.ErrConflict)
	assert.Contains(t, err.Error(), "default/a")
	assert.Equal(t, before, e.snapshot())
}

func testUpdateUnconditional(t *testing.T, e *env) {
	w := e.create(widget("default", "a"))
	w.Spec.Replicas = 1
	_, err := e.widgets.Update(e.ctx, w, store.WriteOptions{})
	require.NoError(t, err)
	blind := widget("default", "a", func(w *Widget) { w.Spec.Replicas = 9 })
	out, err := e.widgets.Update(e.ctx, blind, store.WriteOptions{})
	require.NoError(t, err)
	assert.Equal(t, int32(9), out.Spec.Replicas)
	assert.Equal(t, w.UID, out.UID, "an empty uid takes the stored one")
	assert.Equal(t, int64(3), out.Generation)
}

func testUpdateNoOp(t *testing.T, e *env) {
	w := e.create(widget("default", "a"))
	before := e.snapshot()
	out, err := e.widgets.Update(e.ctx, w, store.WriteOptions{})
	require.NoError(t, err)
	assert.Equal(t, w, out)
	out, err = e.widgets.UpdateStatus(e.ctx, w, store.WriteOptions{})
	require.NoError(t, err)
	assert.Equal(t, w, out)
	assert.Equal(t, before, e.snapshot(), "an update that changes nothing writes nothing")
}

func testUpdateNotFound(t *testing.T, e *env) {
	before := e.snapshot()
	_, err := e.widgets.Update(e.ctx, widget("default", "missing"), store.WriteOptions{})
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = e.widgets.UpdateStatus(e.ctx, widget("default", "missing"), store.WriteOptions{})
	require.ErrorIs(t, err, store.ErrNotFound)
	assert.Equal(t, before, e.snapshot())
}

func testUpdateImmutable(t *testing.T, e *env) {
	w := e.create(widget("default", "a", func(w *Widget) { w.Spec.Class = "gold" }))
	before := e.snapshot()

	c := *w
	c.UID = "another"
	_, err := e.widgets.Update(e.ctx, &c, store.WriteOptions{})
	hasFieldError(t, err, "metadata.uid")

	c = *w
	c.Spec.Class = "silver"
	_, err = e.widgets.Update(e.ctx, &c, store.WriteOptions{})
	hasFieldError(t, err, "spec.class")

	c = *w
	c.Name = "renamed"
	_, err = e.widgets.Update(e.ctx, &c, store.WriteOptions{})
	require.ErrorIs(t, err, store.ErrNotFound, "the name picks the object: it cannot be renamed")
	assert.Equal(t, before, e.snapshot())

	// Fields only the store sets are kept whatever the client sends.
	c = *w
	old := apis.NewTime(time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC))
	c.CreationTimestamp = old
	c.DeletionTimestamp = &old
	c.Labels = map[string]string{"changed": "yes"}
	out, err := e.widgets.Update(e.ctx, &c, store.WriteOptions{})
	require.NoError(t, err)
	assert.Equal(t, w.CreationTimestamp, out.CreationTimestamp)
	assert.Nil(t, out.DeletionTimestamp)
	assert.Equal(t, "yes", out.Labels["changed"])
}

func testUpdateBadResourceVersion(t *testing.T, e *env) {
	w := e.create(widget("default", "a"))
	before := e.snapshot()
	w.ResourceVersion = "not-a-number"
	_, err := e.widgets.Update(e.ctx, w, store.WriteOptions{})
	hasFieldError(t, err, "metadata.resourceVersion")
	assert.Equal(t, before, e.snapshot())
}

// Read-modify-write loops that retry on ErrConflict lose no increment.
func testUpdateConcurrentConditional(t *testing.T, e *env) {
	e.create(widget("default", "counter"))
	const workers, increments = 4, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			for range increments {
				for {
					w, err := e.widgets.Get(e.ctx, apis.Key{Namespace: "default", Name: "counter"}, store.GetOptions{})
					if err != nil {
						errs <- err
						return
					}
					w.Spec.Replicas++
					_, err = e.widgets.Update(e.ctx, w, store.WriteOptions{})
					if errors.Is(err, store.ErrConflict) {
						continue
					}
					if err != nil {
						errs <- err
						return
					}
					break
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	w := e.get("default", "counter")
	assert.Equal(t, int32(workers*increments), w.Spec.Replicas)
	assert.Equal(t, int64(1+workers*increments), w.Generation)
}

// Unconditional updates racing each other all succeed (the store retries its
// compare internally), and the last one wins whole: no field mixes writers.
func testUpdateConcurrentUnconditional(t *testing.T, e *env) {
	e.create(widget("default", "race"))
	const workers = 4
	var wg sync.WaitGroup
	errs := make(chan error, workers*5)
	for i := range workers {
		wg.Go(func() {
			for range 5 {
				w := widget("default", "race", func(w *Widget) {
					w.Spec.Replicas = int32(i)
					w.Spec.NodeName = "node-" + strconv.Itoa(i)
				})
				if _, err := e.widgets.Update(e.ctx, w, store.WriteOptions{}); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	w := e.get("default", "race")
	assert.Equal(t, "node-"+strconv.Itoa(int(w.Spec.Replicas)), w.Spec.NodeName)
}

func testUpdateStatusKeepsSpec(t *testing.T, e *env) {
	w := e.create(widget("default", "a", withLabels("app", "web")))
	c := *w
	c.Spec.Replicas = 7
	c.Labels = map[string]string{"app": "changed"}
	c.Finalizers = []string{"example.com/sneaky"}
	c.Status = WidgetStatus{Phase: "Running", ObservedGeneration: 1}
	out, err := e.widgets.UpdateStatus(e.ctx, &c, store.WriteOptions{})
	require.NoError(t, err)
	assert.Equal(t, "Running", out.Status.Phase)
	assert.Equal(t, int64(1), out.Status.ObservedGeneration)
	assert.Equal(t, int32(0), out.Spec.Replicas, "UpdateStatus cannot change the spec")
	assert.Equal(t, "web", out.Labels["app"], "UpdateStatus cannot change metadata")
	assert.Empty(t, out.Finalizers)
	assert.Equal(t, int64(1), out.Generation)
	assert.Greater(t, rv(t, out), rv(t, w))
	assert.Equal(t, out, e.get("default", "a"))
}

func testUpdateStatusConflict(t *testing.T, e *env) {
	w := e.create(widget("default", "a"))
	stale := *w
	w.Spec.Replicas = 1
	_, err := e.widgets.Update(e.ctx, w, store.WriteOptions{})
	require.NoError(t, err)
	stale.Status.Phase = "Running"
	_, err = e.widgets.UpdateStatus(e.ctx, &stale, store.WriteOptions{})
	require.ErrorIs(t, err, store.ErrConflict)
	stale.ResourceVersion = ""
	out, err := e.widgets.UpdateStatus(e.ctx, &stale, store.WriteOptions{})
	require.NoError(t, err)
	assert.Equal(t, "Running", out.Status.Phase)
	assert.Equal(t, int32(1), out.Spec.Replicas)
}

func testUpdateStatusNoStatus(t *testing.T, e *env) {
	g, err := e.gadgets.Create(e.ctx, &Gadget{ObjectMeta: apis.ObjectMeta{Name: "g"}}, store.WriteOptions{})
	require.NoError(t, err)
	_, err = e.gadgets.UpdateStatus(e.ctx, g, store.WriteOptions{})
	require.ErrorIs(t, err, store.ErrNotFound)
	assert.Contains(t, err.Error(), "status")
}

// ---- deletes ----

func testDeleteImmediate(t *testing.T, e *env) {
	w := e.create(widget("default", "a", func(w *Widget) { w.Spec.Replicas = 4 }))
	out, err := e.widgets.Delete(e.ctx, apis.Key{Namespace: "default", Name: "a"}, store.DeleteOptions{})
	require.NoError(t, err)
	assert.Equal(t, w.UID, out.UID)
	assert.Equal(t, int32(4), out.Spec.Replicas)
	assert.Greater(t, rv(t, out), rv(t, w), "the returned object carries the delete's revision")
	assert.Equal(t, rv(t, out), e.revision())
	_, err = e.widgets.Get(e.ctx, apis.Key{Namespace: "default", Name: "a"}, store.GetOptions{})
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = e.widgets.Delete(e.ctx, apis.Key{Namespace: "default", Name: "a"}, store.DeleteOptions{})
	require.ErrorIs(t, err, store.ErrNotFound)
	assert.Contains(t, err.Error(), "default/a")
	// The name is free again.
	again := e.create(widget("default", "a"))
	assert.NotEqual(t, w.UID, again.UID)
}

func testDeleteFinalizers(t *testing.T, e *env) {
	key := apis.Key{Namespace: "default", Name: "a"}
	w := e.create(widget("default", "a", func(w *Widget) { w.Finalizers = []string{"example.com/a", "example.com/b"} }))
	marked, err := e.widgets.Delete(e.ctx, key, store.DeleteOptions{})
	require.NoError(t, err)
	require.NotNil(t, marked.DeletionTimestamp)
	require.NotNil(t, marked.DeletionGracePeriodSeconds)
	assert.Equal(t, int64(0), *marked.DeletionGracePeriodSeconds)
	assert.Equal(t, w.Generation+1, marked.Generation, "marking bumps the generation")
	assert.Equal(t, marked, e.get("default", "a"), "a marked object is still there")

	// Deleting again changes nothing.
	before := e.snapshot()
	again, err := e.widgets.Delete(e.ctx, key, store.DeleteOptions{})
	require.NoError(t, err)
	assert.Equal(t, marked, again)
	assert.Equal(t, before, e.snapshot())

	// A marked object cannot gain finalizers; nor can an update unmark it.
	c := *marked
	c.Finalizers = append([]string{"example.com/new"}, c.Finalizers...)
	_, err = e.widgets.Update(e.ctx, &c, store.WriteOptions{})
	hasFieldError(t, err, "metadata.finalizers")
	c = *marked
	c.DeletionTimestamp = nil
	c.Labels = map[string]string{"x": "y"}
	out, err := e.widgets.Update(e.ctx, &c, store.WriteOptions{})
	require.NoError(t, err)
	assert.Equal(t, marked.DeletionTimestamp, out.DeletionTimestamp)

	// Removing one finalizer keeps it; removing the last deletes it.
	out.Finalizers = []string{"example.com/b"}
	out, err = e.widgets.Update(e.ctx, out, store.WriteOptions{})
	require.NoError(t, err)
	assert.Equal(t, []string{"example.com/b"}, e.get("default", "a").Finalizers)
	out.Finalizers = nil
	last, err := e.widgets.Update(e.ctx, out, store.WriteOptions{})
	require.NoError(t, err)
	assert.Equal(t, w.UID, last.UID)
	_, err = e.widgets.Get(e.ctx, key, store.GetOptions{})
	require.ErrorIs(t, err, store.ErrNotFound)
}

func testDeletePropagation(t *testing.T, e *env) {
	e.create(widget("default", "fg"))
	e.create(widget("default", "orphan"))
	e.create(widget("default", "bg", func(w *Widget) { w.Finalizers = []string{store.FinalizerOrphan} }))

	fg, err := e.widgets.Delete(e.ctx, apis.Key{Namespace: "default", Name: "fg"}, store.DeleteOptions{PropagationPolicy: store.PropagateForeground})
	require.NoError(t, err)
	assert.Equal(t, []string{store.FinalizerForegroundDeletion}, fg.Finalizers)
	assert.NotNil(t, fg.DeletionTimestamp)

	or, err := e.widgets.Delete(e.ctx, apis.Key{Namespace: "default", Name: "orphan"}, store.DeleteOptions{PropagationPolicy: store.PropagateOrphan})
	require.NoError(t, err)
	assert.Equal(t, []string{store.FinalizerOrphan}, or.Finalizers)
	assert.NotNil(t, or.DeletionTimestamp)

	// An explicit Background drops the orphan finalizer, so nothing holds the object.
	_, err = e.widgets.Delete(e.ctx, apis.Key{Namespace: "default", Name: "bg"}, store.DeleteOptions{PropagationPolicy: store.PropagateBackground})
	require.NoError(t, err)
	_, err = e.widgets.Get(e.ctx, apis.Key{Namespace: "default", Name: "bg"}, store.GetOptions{})
	require.ErrorIs(t, err, store.ErrNotFound)
}

func testDeletePreconditions(t *testing.T, e *env) {
	w := e.create(widget("default", "a"))
	key := apis.Key{Namespace: "default", Name: "a"}
	before := e.snapshot()
	_, err := e.widgets.Delete(e.ctx, key, store.DeleteOptions{UID: "wrong"})
	require.ErrorIs(t, err, store.ErrConflict)
	assert.Contains(t, err.Error(), "UID")
	_, err = e.widgets.Delete(e.ctx, key, store.DeleteOptions{ResourceVersion: "1"})
	require.ErrorIs(t, err, store.ErrConflict)
	assert.Equal(t, before, e.snapshot())
	_, err = e.widgets.Delete(e.ctx, key, store.DeleteOptions{UID: w.UID, ResourceVersion: w.ResourceVersion})
	require.NoError(t, err)
}

func testDeleteBadPolicy(t *testing.T, e *env) {
	e.create(widget("default", "a"))
	before := e.snapshot()
	_, err := e.widgets.Delete(e.ctx, apis.Key{Namespace: "default", Name: "a"}, store.DeleteOptions{PropagationPolicy: "Sideways"})
	hasFieldError(t, err, "propagationPolicy")
	assert.Equal(t, before, e.snapshot())
}

// ---- dry run ----

func testDryRun(t *testing.T, e *env) {
	dry := store.WriteOptions{DryRun: true}
	w := e.create(widget("default", "a", func(w *Widget) { w.Finalizers = []string{"example.com/hold"} }))
	before := e.snapshot()

	c, err := e.widgets.Create(e.ctx, widget("default", "b", func(w *Widget) { w.Spec.Replicas = 1 }), dry)
	require.NoError(t, err)
	assert.Equal(t, "b", c.Name)
	assert.Equal(t, DefaultColor, c.Spec.Color, "dry runs default")
	assert.Equal(t, int64(1), c.Generation)
	_, err = e.widgets.Create(e.ctx, widget("default", "a"), dry)
	require.ErrorIs(t, err, store.ErrAlreadyExists)
	_, err = e.widgets.Create(e.ctx, widget("default", "bad", func(w *Widget) { w.Spec.Replicas = -1 }), dry)
	hasFieldError(t, err, "spec.replicas")

	u := *w
	u.Spec.Replicas = 3
	out, err := e.widgets.Update(e.ctx, &u, dry)
	require.NoError(t, err)
	assert.Equal(t, int32(3), out.Spec.Replicas)
	assert.Equal(t, int64(2), out.Generation)

	u = *w
	u.Status.Phase = "Running"
	out, err = e.widgets.UpdateStatus(e.ctx, &u, dry)
	require.NoError(t, err)
	assert.Equal(t, "Running", out.Status.Phase)

	out, err = e.widgets.Delete(e.ctx, apis.Key{Namespace: "default", Name: "a"}, store.DeleteOptions{DryRun: true})
	require.NoError(t, err)
	assert.NotNil(t, out.DeletionTimestamp)

	assert.Equal(t, before, e.snapshot(), "dry runs store nothing")
	_, err = e.widgets.Get(e.ctx, apis.Key{Namespace: "default", Name: "b"}, store.GetOptions{})
	require.ErrorIs(t, err, store.ErrNotFound)
}

// ---- cluster-scoped kinds ----

func testClusterScoped(t *testing.T, e *env) {
	g, err := e.gadgets.Create(e.ctx, &Gadget{ObjectMeta: apis.ObjectMeta{Name: "g"}, Spec: GadgetSpec{Size: 1}}, store.WriteOptions{})
	require.NoError(t, err)
	assert.Equal(t, int64(1), g.Generation)
	g.Spec.Size = 2
	g, err = e.gadgets.Update(e.ctx, g, store.WriteOptions{})
	require.NoError(t, err)
	assert.Equal(t, int64(2), g.Generation)
	got, err := e.gadgets.Get(e.ctx, apis.Key{Name: "g"}, store.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, g, got)
	l, err := e.gadgets.List(e.ctx, store.ListOptions{Namespace: "default"})
	require.NoError(t, err)
	assert.Len(t, l.Items, 1, "a namespace does not narrow a cluster-scoped list")
	_, err = e.gadgets.Delete(e.ctx, apis.Key{Name: "g"}, store.DeleteOptions{})
	require.NoError(t, err)
}

// ---- lists ----

func (e *env) fixtures() {
	e.namespace("other")
	e.create(widget("default", "web-1", withLabels("app", "web", "tier", "front"), func(w *Widget) { w.Spec.NodeName = "n1" }))
	e.create(widget("default", "web-2", withLabels("app", "web"), func(w *Widget) { w.Spec.NodeName = "n2" }))
	e.create(widget("default", "db-1", withLabels("app", "db"), func(w *Widget) { w.Spec.NodeName = "n1" }))
	e.create(widget("other", "web-1", withLabels("app", "web", "tier", "back")))
	e.create(widget("other", "cache", withLabels("app", "cache")))
	db := e.get("default", "db-1")
	db.Status.Phase = "Running"
	_, err := e.widgets.UpdateStatus(e.ctx, db, store.WriteOptions{})
	require.NoError(e.t, err)
}

func testListNamespace(t *testing.T, e *env) {
	e.fixtures()
	l, err := e.widgets.List(e.ctx, store.ListOptions{})
	require.NoError(t, err)
	assert.Equal(t, []string{"default/db-1", "default/web-1", "default/web-2", "other/cache", "other/web-1"}, names(l.Items))
	assert.Equal(t, e.revision(), l.Revision)
	l, err = e.widgets.List(e.ctx, store.ListOptions{Namespace: "other"})
	require.NoError(t, err)
	assert.Equal(t, []string{"other/cache", "other/web-1"}, names(l.Items))
	l, err = e.widgets.List(e.ctx, store.ListOptions{Namespace: "empty"})
	require.NoError(t, err)
	assert.Empty(t, l.Items)
	for _, w := range l.Items {
		assert.NotEmpty(t, w.ResourceVersion)
	}
}

func testListLabelSelector(t *testing.T, e *env) {
	e.fixtures()
	cases := []struct {
		sel  string
		want []string
	}{
		{"app=web", []string{"default/web-1", "default/web-2", "other/web-1"}},
		{"app!=web", []string{"default/db-1", "other/cache"}},
		{"app in (db,cache)", []string{"default/db-1", "other/cache"}},
		{"app notin (web)", []string{"default/db-1", "other/cache"}},
		{"tier", []string{"default/web-1", "other/web-1"}},
		{"!tier", []string{"default/db-1", "default/web-2", "other/cache"}},
		{"app=web,tier=front", []string{"default/web-1"}},
		{"app=none", []string{}},
	}
	for _, c := range cases {
		l, err := e.widgets.List(e.ctx, store.ListOptions{Labels: mustLabels(t, c.sel)})
		require.NoError(t, err, c.sel)
		assert.Equal(t, c.want, names(l.Items), c.sel)
	}
}

func testListFieldSelector(t *testing.T, e *env) {
	e.fixtures()
	cases := []struct {
		sel  string
		want []string
	}{
		{"metadata.name=web-1", []string{"default/web-1", "other/web-1"}},
		{"metadata.namespace=other", []string{"other/cache", "other/web-1"}},
		{"metadata.namespace!=other", []string{"default/db-1", "default/web-1", "default/web-2"}},
		{"spec.nodeName=n1", []string{"default/db-1", "default/web-1"}},
		{"spec.nodeName!=n1", []string{"default/web-2", "other/cache", "other/web-1"}},
		{"spec.nodeName=", []string{"other/cache", "other/web-1"}},
		{"status.phase=Running", []string{"default/db-1"}},
		{"status.phase!=Running,metadata.namespace=default", []string{"default/web-1", "default/web-2"}},
	}
	for _, c := range cases {
		l, err := e.widgets.List(e.ctx, store.ListOptions{Fields: mustFields(t, c.sel)})
		require.NoError(t, err, c.sel)
		assert.Equal(t, c.want, names(l.Items), c.sel)
	}
	l, err := e.widgets.List(e.ctx, store.ListOptions{Labels: mustLabels(t, "app=web"), Fields: mustFields(t, "spec.nodeName=n1")})
	require.NoError(t, err)
	assert.Equal(t, []string{"default/web-1"}, names(l.Items))
}

// Selective lists see every write: nothing a store remembers about an
// object's labels outlives a change to them.
func testListSelectorAfterChanges(t *testing.T, e *env) {
	web := mustLabels(t, "app=web")
	count := func(sel labels.Selector) int {
		l, err := e.widgets.List(e.ctx, store.ListOptions{Labels: sel})
		require.NoError(t, err)
		return len(l.Items)
	}
	w := e.create(widget("default", "a", withLabels("app", "web")))
	require.Equal(t, 1, count(web))
	w.Labels["app"] = "db"
	w, err := e.widgets.Update(e.ctx, w, store.WriteOptions{})
	require.NoError(t, err)
	assert.Equal(t, 0, count(web))
	assert.Equal(t, 1, count(mustLabels(t, "app=db")))
	_, err = e.widgets.Delete(e.ctx, apis.KeyOf(w), store.DeleteOptions{})
	require.NoError(t, err)
	e.create(widget("default", "a", withLabels("app", "web")))
	assert.Equal(t, 1, count(web))
	assert.Equal(t, 0, count(mustLabels(t, "app=db")))
}

func testListPagination(t *testing.T, e *env) {
	e.namespace("page")
	for i := range 25 {
		e.create(widget("page", fmt.Sprintf("w-%02d", i)))
	}
	var all []string
	var revs []int64
	opts := store.ListOptions{Namespace: "page", Limit: 10}
	wantRemaining := []int64{15, 5}
	for page := 0; ; page++ {
		l, err := e.widgets.List(e.ctx, opts)
		require.NoError(t, err)
		all = append(all, names(l.Items)...)
		revs = append(revs, l.Revision)
		if page == 0 {
			// Written after the first page: the next pages do not see it.
			e.create(widget("page", "w-99"))
		}
		if l.Continue == "" {
			assert.Len(t, l.Items, 5)
			break
		}
		require.Len(t, l.Items, 10)
		require.Less(t, page, len(wantRemaining))
		assert.Equal(t, wantRemaining[page], l.RemainingCount)
		opts.Continue = l.Continue
	}
	require.Len(t, all, 25)
	for i, n := range all {
		assert.Equal(t, fmt.Sprintf("page/w-%02d", i), n)
	}
	assert.Equal(t, []int64{revs[0], revs[0], revs[0]}, revs, "every page reads the first page's revision")

	// An exact page boundary gives no empty trailing page.
	l, err := e.widgets.List(e.ctx, store.ListOptions{Namespace: "page", Limit: 26})
	require.NoError(t, err)
	assert.Len(t, l.Items, 26)
	assert.Empty(t, l.Continue)
}

func testListPaginationWithSelector(t *testing.T, e *env) {
	e.namespace("page")
	for i := range 30 {
		parity := "even"
		if i%2 == 1 {
			parity = "odd"
		}
		e.create(widget("page", fmt.Sprintf("w-%02d", i), withLabels("parity", parity)))
	}
	opts := store.ListOptions{Namespace: "page", Limit: 4, Labels: mustLabels(t, "parity=even")}
	var all []string
	for pages := 0; ; pages++ {
		require.Less(t, pages, 10)
		l, err := e.widgets.List(e.ctx, opts)
		require.NoError(t, err)
		assert.LessOrEqual(t, len(l.Items), 4)
		all = append(all, names(l.Items)...)
		if l.Continue == "" {
			break
		}
		opts.Continue = l.Continue
	}
	require.Len(t, all, 15)
	for i, n := range all {
		assert.Equal(t, fmt.Sprintf("page/w-%02d", 2*i), n)
	}
}

func testListBadContinue(t *testing.T, e *env) {
	e.fixtures()
	for _, tok := range []string{"garbage!", "bm90IGpzb24", "eyJ2IjoxLCJydiI6MCwiYWZ0ZXIiOiIifQ"} {
		_, err := e.widgets.List(e.ctx, store.ListOptions{Continue: tok})
		require.ErrorIs(t, err, store.ErrInvalid, tok)
	}
	l, err := e.widgets.List(e.ctx, store.ListOptions{Namespace: "default", Limit: 1})
	require.NoError(t, err)
	require.NotEmpty(t, l.Continue)
	_, err = e.widgets.List(e.ctx, store.ListOptions{Namespace: "other", Continue: l.Continue})
	require.ErrorIs(t, err, store.ErrInvalid, "a token only continues its own list")
	_, err = e.gadgets.List(e.ctx, store.ListOptions{Continue: l.Continue})
	require.ErrorIs(t, err, store.ErrInvalid)
	_, err = e.widgets.List(e.ctx, store.ListOptions{Namespace: "default", Continue: l.Continue, Revision: l.Revision})
	require.ErrorIs(t, err, store.ErrInvalid, "a revision cannot be given with a continue token")
	_, err = e.widgets.List(e.ctx, store.ListOptions{Limit: -1})
	require.ErrorIs(t, err, store.ErrInvalid)
}

func testListAtRevision(t *testing.T, e *env) {
	e.create(widget("default", "a"))
	rev := e.revision()
	e.create(widget("default", "b"))
	_, err := e.widgets.Delete(e.ctx, apis.Key{Namespace: "default", Name: "a"}, store.DeleteOptions{})
	require.NoError(t, err)
	l, err := e.widgets.List(e.ctx, store.ListOptions{Revision: rev})
	require.NoError(t, err)
	assert.Equal(t, []string{"default/a"}, names(l.Items))
	assert.Equal(t, rev, l.Revision)
	l, err = e.widgets.List(e.ctx, store.ListOptions{})
	require.NoError(t, err)
	assert.Equal(t, []string{"default/b"}, names(l.Items))
}

func (e *env) compactor() Compactor {
	c, ok := e.s.(Compactor)
	if !ok {
		e.t.Skipf("%T cannot compact", e.s)
	}
	return c
}

func testListContinueCompacted(t *testing.T, e *env) {
	c := e.compactor()
	for i := range 3 {
		e.create(widget("default", fmt.Sprintf("w-%d", i)))
	}
	l, err := e.widgets.List(e.ctx, store.ListOptions{Namespace: "default", Limit: 1})
	require.NoError(t, err)
	require.NotEmpty(t, l.Continue)
	e.create(widget("default", "later"))
	require.NoError(t, c.Compact(e.ctx, e.revision()))
	_, err = e.widgets.List(e.ctx, store.ListOptions{Namespace: "default", Continue: l.Continue})
	require.ErrorIs(t, err, store.ErrCompacted, "a continue past compaction must relist")
	_, err = e.widgets.List(e.ctx, store.ListOptions{Revision: l.Revision})
	require.ErrorIs(t, err, store.ErrCompacted)
}

// ---- watches ----

func testWatchEvents(t *testing.T, e *env) {
	w := e.watch(WidgetGVK, store.WatchOptions{Revision: e.revision()})
	a := e.create(widget("default", "a"))
	ev := w.expect(store.WatchAdded, "a")
	assert.Equal(t, a, ev.Object)
	assert.Equal(t, rv(t, a), ev.Revision)

	a.Spec.Replicas = 2
	a, err := e.widgets.Update(e.ctx, a, store.WriteOptions{})
	require.NoError(t, err)
	ev = w.expect(store.WatchModified, "a")
	assert.Equal(t, a, ev.Object)

	a.Status.Phase = "Running"
	a, err = e.widgets.UpdateStatus(e.ctx, a, store.WriteOptions{})
	require.NoError(t, err)
	ev = w.expect(store.WatchModified, "a")
	assert.Equal(t, "Running", ev.Object.(*Widget).Status.Phase)

	del, err := e.widgets.Delete(e.ctx, apis.Key{Namespace: "default", Name: "a"}, store.DeleteOptions{})
	require.NoError(t, err)
	ev = w.expect(store.WatchDeleted, "a")
	got := ev.Object.(*Widget)
	assert.Equal(t, "Running", got.Status.Phase, "DELETED carries the last state")
	assert.Equal(t, int32(2), got.Spec.Replicas)
	assert.Equal(t, rv(t, del), ev.Revision, "DELETED carries the delete's revision")
	assert.Greater(t, ev.Revision, rv(t, a))
}

func testWatchFromListRevision(t *testing.T, e *env) {
	e.create(widget("default", "a"))
	l, err := e.widgets.List(e.ctx, store.ListOptions{})
	require.NoError(t, err)
	e.create(widget("default", "b")) // after the list, before the watch starts
	w := e.watch(WidgetGVK, store.WatchOptions{Revision: l.Revision})
	w.expect(store.WatchAdded, "b")
	e.create(widget("default", "c"))
	w.expect(store.WatchAdded, "c")
}

func testWatchLabelTransitions(t *testing.T, e *env) {
	w := e.watch(WidgetGVK, store.WatchOptions{Revision: e.revision(), Labels: mustLabels(t, "app=web")})
	x := e.create(widget("default", "x", withLabels("app", "db"))) // never seen
	x.Labels["app"] = "web"
	x, err := e.widgets.Update(e.ctx, x, store.WriteOptions{})
	require.NoError(t, err)
	w.expect(store.WatchAdded, "x") // starts matching

	x.Spec.Replicas = 1
	x, err = e.widgets.Update(e.ctx, x, store.WriteOptions{})
	require.NoError(t, err)
	w.expect(store.WatchModified, "x")

	x.Labels["app"] = "db"
	x, err = e.widgets.Update(e.ctx, x, store.WriteOptions{})
	require.NoError(t, err)
	ev := w.expect(store.WatchDeleted, "x") // stops matching: DELETED with the new object
	assert.Equal(t, x, ev.Object)

	_, err = e.widgets.Delete(e.ctx, apis.Key{Namespace: "default", Name: "x"}, store.DeleteOptions{})
	require.NoError(t, err) // not matching: not seen
	e.create(widget("default", "marker", withLabels("app", "web")))
	w.expect(store.WatchAdded, "marker")
}

func testWatchFieldTransitions(t *testing.T, e *env) {
	w := e.watch(WidgetGVK, store.WatchOptions{Revision: e.revision(), Fields: mustFields(t, "status.phase=Running")})
	x := e.create(widget("default", "x"))
	x.Status.Phase = "Running"
	x, err := e.widgets.UpdateStatus(e.ctx, x, store.WriteOptions{})
	require.NoError(t, err)
	w.expect(store.WatchAdded, "x")
	x.Status.Phase = "Done"
	_, err = e.widgets.UpdateStatus(e.ctx, x, store.WriteOptions{})
	require.NoError(t, err)
	ev := w.expect(store.WatchDeleted, "x")
	assert.Equal(t, "Done", ev.Object.(*Widget).Status.Phase)

	// Namespace pinned by a field selector.
	e.namespace("other")
	wn := e.watch(WidgetGVK, store.WatchOptions{Revision: e.revision(), Fields: mustFields(t, "metadata.namespace=other")})
	e.create(widget("default", "skip"))
	e.create(widget("other", "seen"))
	wn.expect(store.WatchAdded, "seen")
}

func testWatchNamespace(t *testing.T, e *env) {
	e.namespace("other")
	w := e.watch(WidgetGVK, store.WatchOptions{Revision: e.revision(), Namespace: "other"})
	e.create(widget("default", "a"))
	e.create(widget("other", "b"))
	w.expect(store.WatchAdded, "b")
	// Gadgets and namespaces share no prefix with widgets.
	_, err := e.gadgets.Create(e.ctx, &Gadget{ObjectMeta: apis.ObjectMeta{Name: "g"}}, store.WriteOptions{})
	require.NoError(t, err)
	e.create(widget("other", "c"))
	w.expect(store.WatchAdded, "c")
}

// Every watcher gets its own objects: changing one cannot show in another's,
// nor in what a later watcher of the same revisions gets.
func testWatchObjectsAreOwned(t *testing.T, e *env) {
	start := e.revision()
	w1 := e.watch(WidgetGVK, store.WatchOptions{Revision: start})
	w2 := e.watch(WidgetGVK, store.WatchOptions{Revision: start})
	e.create(widget("default", "a", withLabels("app", "web"), func(w *Widget) { w.Finalizers = []string{"example.com/f"} }))
	a1 := w1.expect(store.WatchAdded, "a").Object.(*Widget)
	a1.Labels["app"] = "changed"
	a1.Finalizers[0] = "example.com/changed"
	a1.Spec.Replicas = 99
	a2 := w2.expect(store.WatchAdded, "a").Object.(*Widget)
	w3 := e.watch(WidgetGVK, store.WatchOptions{Revision: start})
	a3 := w3.expect(store.WatchAdded, "a").Object.(*Widget)
	for _, a := range []*Widget{a2, a3} {
		assert.Equal(t, "web", a.Labels["app"])
		assert.Equal(t, []string{"example.com/f"}, a.Finalizers)
		assert.Equal(t, int32(0), a.Spec.Replicas)
	}
}

// A watcher that stops and resumes from the last revision it saw, at random
// points while writers churn, sees exactly what an uninterrupted watcher sees:
// every change once, in order.
func testWatchResumeUnderChurn(t *testing.T, e *env) {
	start := e.revision()
	const ops = 150
	done := make(chan error, 1)
	go func() {
		rng := rand.New(rand.NewPCG(1, 2))
		for i := range ops {
			name := fmt.Sprintf("c-%d", rng.IntN(8))
			key := apis.Key{Namespace: "default", Name: name}
			var err error
			switch rng.IntN(3) {
			case 0:
				_, err = e.widgets.Create(e.ctx, widget("default", name, func(w *Widget) { w.Spec.Replicas = int32(i) }), store.WriteOptions{})
			case 1:
				_, err = e.widgets.Update(e.ctx, widget("default", name, func(w *Widget) { w.Spec.Replicas = int32(i) }), store.WriteOptions{})
			case 2:
				_, err = e.widgets.Delete(e.ctx, key, store.DeleteOptions{})
			}
			if err != nil && !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrAlreadyExists) {
				done <- err
				return
			}
		}
		_, err := e.widgets.Create(e.ctx, widget("default", "end"), store.WriteOptions{})
		done <- err
	}()

	type seen struct {
		rev      int64
		typ      store.WatchEventType
		name     string
		replicas int32
	}
	// collect watches from rev, taking at most max events (0: all) before
	// stopping, and reports whether it saw the end marker.
	collect := func(rev int64, max int, into *[]seen) (int64, bool) {
		ctx, cancel := context.WithTimeout(e.ctx, eventTimeout)
		defer cancel()
		n := 0
		for ev, err := range e.s.Watch(ctx, WidgetGVK, store.WatchOptions{Revision: rev}) {
			require.NoError(t, err)
			w := ev.Object.(*Widget)
			*into = append(*into, seen{ev.Revision, ev.Type, w.Name, w.Spec.Replicas})
			rev = ev.Revision
			if w.Name == "end" {
				return rev, true
			}
			if n++; max > 0 && n == max {
				return rev, false
			}
		}
		t.Fatalf("watch from %d ended early", rev)
		return rev, false
	}
	var resumed []seen
	rng := rand.New(rand.NewPCG(3, 4))
	rev := start
	for resumes := 0; ; resumes++ {
		require.Less(t, resumes, 10*ops, "no progress")
		var end bool
		if rev, end = collect(rev, 1+rng.IntN(10), &resumed); end {
			break
		}
	}
	require.NoError(t, <-done)
	var whole []seen
	collect(start, 0, &whole)
	require.NotEmpty(t, whole)
	assert.Equal(t, whole, resumed)
	for i := 1; i < len(whole); i++ {
		require.Greater(t, whole[i].rev, whole[i-1].rev, "revisions increase")
	}
}

func testWatchBookmarks(t *testing.T, e *env) {
	start := e.revision()
	w := e.watch(WidgetGVK, store.WatchOptions{Revision: start, Bookmarks: true})
	e.create(widget("default", "a"))
	w.expect(store.WatchAdded, "a")
	for {
		ev := w.next()
		if ev.Type == store.WatchBookmark {
			assert.Nil(t, ev.Object)
			assert.GreaterOrEqual(t, ev.Revision, start+1)
			return
		}
	}
}

func testWatchCompacted(t *testing.T, e *env) {
	c := e.compactor()
	start := e.revision()
	e.create(widget("default", "a"))
	e.create(widget("default", "b"))
	require.NoError(t, c.Compact(e.ctx, e.revision()))
	w := e.watch(WidgetGVK, store.WatchOptions{Revision: start})
	require.ErrorIs(t, w.nextErr(), store.ErrCompacted)
}

func testWatchUnknownKind(t *testing.T, e *env) {
	w := e.watch(apis.GroupVersionKind{Group: "nope", Version: "v1", Kind: "Nope"}, store.WatchOptions{})
	require.ErrorIs(t, w.nextErr(), apis.ErrUnknownKind)
}

// ---- bad input ----

func testBadInputLeavesStoreUnchanged(t *testing.T, e *env) {
	e.fixtures()
	w := e.get("default", "web-1")
	key := apis.Key{Namespace: "default", Name: "web-1"}
	stale := *w
	stale.ResourceVersion = "1"
	invalid := *w
	invalid.Spec.Replicas = -5
	badLabel := *w
	badLabel.Labels = map[string]string{"": "x"}
	tooBig := *w
	tooBig.Spec.Payload = strings.Repeat("z", 2<<20)
	before := e.snapshot()

	writes := []struct {
		name string
		do   func() error
	}{
		{"create invalid", func() error {
			_, err := e.widgets.Create(e.ctx, widget("default", "n", func(w *Widget) { w.Spec.Replicas = -1 }), store.WriteOptions{})
			return err
		}},
		{"create existing", func() error {
			_, err := e.widgets.Create(e.ctx, widget("default", "web-1"), store.WriteOptions{})
			return err
		}},
		{"create in missing namespace", func() error { _, err := e.widgets.Create(e.ctx, widget("gone", "n"), store.WriteOptions{}); return err }},
		{"create too large", func() error {
			_, err := e.widgets.Create(e.ctx, widget("default", "n", func(w *Widget) { w.Spec.Payload = tooBig.Spec.Payload }), store.WriteOptions{})
			return err
		}},
		{"update stale", func() error { _, err := e.widgets.Update(e.ctx, &stale, store.WriteOptions{}); return err }},
		{"update invalid", func() error { _, err := e.widgets.Update(e.ctx, &invalid, store.WriteOptions{}); return err }},
		{"update bad label", func() error { _, err := e.widgets.Update(e.ctx, &badLabel, store.WriteOptions{}); return err }},
		{"update too large", func() error { _, err := e.widgets.Update(e.ctx, &tooBig, store.WriteOptions{}); return err }},
		{"update missing", func() error {
			_, err := e.widgets.Update(e.ctx, widget("default", "n"), store.WriteOptions{})
			return err
		}},
		{"status stale", func() error { _, err := e.widgets.UpdateStatus(e.ctx, &stale, store.WriteOptions{}); return err }},
		{"status too large", func() error {
			c := *w
			c.Status.Phase = tooBig.Spec.Payload
			_, err := e.widgets.UpdateStatus(e.ctx, &c, store.WriteOptions{})
			return err
		}},
		{"delete wrong uid", func() error { _, err := e.widgets.Delete(e.ctx, key, store.DeleteOptions{UID: "x"}); return err }},
		{"delete wrong rv", func() error {
			_, err := e.widgets.Delete(e.ctx, key, store.DeleteOptions{ResourceVersion: "1"})
			return err
		}},
		{"delete bad policy", func() error {
			_, err := e.widgets.Delete(e.ctx, key, store.DeleteOptions{PropagationPolicy: "x"})
			return err
		}},
		{"delete missing", func() error {
			_, err := e.widgets.Delete(e.ctx, apis.Key{Namespace: "default", Name: "n"}, store.DeleteOptions{})
			return err
		}},
		{"unknown kind", func() error { _, err := e.s.Create(e.ctx, &unregistered{}, store.WriteOptions{}); return err }},
	}
	for _, wr := range writes {
		require.Error(t, wr.do(), wr.name)
		require.Equal(t, before, e.snapshot(), "after %s", wr.name)
	}
}

// ---- typed view ----

func testTyped(t *testing.T, e *env) {
	e.fixtures()
	l, err := e.widgets.List(e.ctx, store.ListOptions{Namespace: "default", Labels: mustLabels(t, "app=web")})
	require.NoError(t, err)
	require.Len(t, l.Items, 2)
	assert.Equal(t, "n1", l.Items[0].Spec.NodeName, "typed items need no assertion")

	w := e.watch(WidgetGVK, store.WatchOptions{Revision: l.Revision}) // untyped, for comparison
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	typed := make(chan store.TypedEvent[*Widget], 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev, err := range e.widgets.Watch(ctx, store.WatchOptions{Revision: l.Revision}) {
			if err != nil {
				return
			}
			select {
			case typed <- ev:
			case <-ctx.Done():
				return
			}
		}
	}()
	defer func() { cancel(); <-done }()
	created := e.create(widget("default", "typed", func(w *Widget) { w.Spec.Replicas = 3 }))
	ev := w.expect(store.WatchAdded, "typed")
	select {
	case tev := <-typed:
		assert.Equal(t, store.WatchAdded, tev.Type)
		assert.Equal(t, int32(3), tev.Object.Spec.Replicas)
		assert.Equal(t, created, tev.Object)
		assert.Equal(t, ev.Revision, tev.Revision)
	case <-time.After(eventTimeout):
		t.Fatal("no typed watch event")
	}
}

func testTypedUnknownKind(t *testing.T, e *env) {
	u := store.For[*unregistered](e.s)
	assert.Nil(t, u.Kind())
	key := apis.Key{Name: "x"}
	_, err := u.Get(e.ctx, key, store.GetOptions{})
	require.ErrorIs(t, err, apis.ErrUnknownKind)
	_, err = u.List(e.ctx, store.ListOptions{})
	require.ErrorIs(t, err, apis.ErrUnknownKind)
	_, err = u.Create(e.ctx, &unregistered{}, store.WriteOptions{})
	require.ErrorIs(t, err, apis.ErrUnknownKind)
	_, err = u.Update(e.ctx, &unregistered{}, store.WriteOptions{})
	require.ErrorIs(t, err, apis.ErrUnknownKind)
	_, err = u.UpdateStatus(e.ctx, &unregistered{}, store.WriteOptions{})
	require.ErrorIs(t, err, apis.ErrUnknownKind)
	_, err = u.Delete(e.ctx, key, store.DeleteOptions{})
	require.ErrorIs(t, err, apis.ErrUnknownKind)
	for _, err := range u.Watch(e.ctx, store.WatchOptions{}) {
		require.ErrorIs(t, err, apis.ErrUnknownKind)
	}
	_, err = store.For[*Widget](nil).Get(e.ctx, key, store.GetOptions{})
	require.Error(t, err)
}
