package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/apis/field"
	"github.com/gantry-sdk/gantry/store"
	"github.com/gantry-sdk/gantry/store/memory"
	"github.com/gantry-sdk/gantry/store/storetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type Widget = storetest.Widget

func newKV(t testing.TB) *memory.KV {
	kv := memory.New(memory.Options{ProgressInterval: 50 * time.Millisecond})
	t.Cleanup(func() { _ = kv.Close() })
	return kv
}

func openStore(t testing.TB, opts store.Options) (*store.ObjectStore, *memory.KV) {
	kv := newKV(t)
	s, err := store.New(kv, storetest.NewScheme(), opts)
	require.NoError(t, err)
	return s, kv
}

func TestStoreConformance(t *testing.T) {
	storetest.RunStore(t, func(t *testing.T) store.Store {
		s, _ := openStore(t, store.Options{})
		return s
	})
}

func TestNewNeedsKVAndScheme(t *testing.T) {
	_, err := store.New(nil, storetest.NewScheme(), store.Options{})
	require.Error(t, err)
	_, err = store.New(newKV(t), nil, store.Options{})
	require.Error(t, err)
}

// New on a KV that already has the namespaces (a restart) keeps them.
func TestNewKeepsExistingNamespaces(t *testing.T) {
	kv := newKV(t)
	s1, err := store.New(kv, storetest.NewScheme(), store.Options{})
	require.NoError(t, err)
	ns1, err := store.For[*core.Namespace](s1).Get(t.Context(), apis.Key{Name: "default"}, store.GetOptions{})
	require.NoError(t, err)
	s2, err := store.New(kv, storetest.NewScheme(), store.Options{})
	require.NoError(t, err)
	ns2, err := store.For[*core.Namespace](s2).Get(t.Context(), apis.Key{Name: "default"}, store.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, ns1, ns2)
}

func TestKeyLayoutAndEncoding(t *testing.T) {
	for _, prefix := range []string{"", "/registry"} {
		t.Run("prefix="+prefix, func(t *testing.T) {
			s, kv := openStore(t, store.Options{KeyPrefix: prefix})
			ctx := t.Context()
			_, err := store.For[*Widget](s).Create(ctx, &Widget{ObjectMeta: apis.ObjectMeta{Namespace: "default", Name: "a"}}, store.WriteOptions{})
			require.NoError(t, err)
			_, err = store.For[*storetest.Gadget](s).Create(ctx, &storetest.Gadget{ObjectMeta: apis.ObjectMeta{Name: "g"}}, store.WriteOptions{})
			require.NoError(t, err)

			page, err := kv.Range(ctx, prefix+"/", store.RangeOptions{})
			require.NoError(t, err)
			var keys []string
			for _, e := range page.KVs {
				keys = append(keys, e.Key)
			}
			assert.Equal(t, []string{
				prefix + "/core/namespaces/default",
				prefix + "/core/namespaces/kube-node-lease",
				prefix + "/core/namespaces/kube-public",
				prefix + "/core/namespaces/kube-system",
				prefix + "/test.gantry.dev/gadgets/g",
				prefix + "/test.gantry.dev/widgets/default/a",
			}, keys)

			var stored map[string]any
			require.NoError(t, json.Unmarshal(page.KVs[5].Value, &stored))
			assert.Equal(t, "test.gantry.dev/v1", stored["apiVersion"])
			assert.Equal(t, "Widget", stored["kind"])
			meta := stored["metadata"].(map[string]any)
			assert.NotContains(t, meta, "resourceVersion", "the KV's mod revision is the resourceVersion")
			assert.Equal(t, "a", meta["name"])
		})
	}
}

func TestClockAndUIDOptions(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	var n atomic.Int64
	s, _ := openStore(t, store.Options{
		Clock:  func() time.Time { return now },
		NewUID: func() string { return "uid-" + strconv.FormatInt(n.Add(1), 10) },
	})
	widgets := store.For[*Widget](s)
	w, err := widgets.Create(t.Context(), &Widget{ObjectMeta: apis.ObjectMeta{Namespace: "default", Name: "a", Finalizers: []string{"example.com/x"}}}, store.WriteOptions{})
	require.NoError(t, err)
	assert.Equal(t, "uid-5", w.UID, "four initial namespaces, then this")
	assert.True(t, w.CreationTimestamp.Equal(now))
	now = now.Add(time.Hour)
	w, err = widgets.Delete(t.Context(), apis.KeyOf(w), store.DeleteOptions{})
	require.NoError(t, err)
	require.NotNil(t, w.DeletionTimestamp)
	assert.True(t, w.DeletionTimestamp.Equal(now))
}

func TestMaxObjectSizeOption(t *testing.T) {
	s, _ := openStore(t, store.Options{MaxObjectSize: 512})
	_, err := store.For[*Widget](s).Create(t.Context(), &Widget{
		ObjectMeta: apis.ObjectMeta{Namespace: "default", Name: "a"},
		Spec:       storetest.WidgetSpec{Payload: string(make([]byte, 600))},
	}, store.WriteOptions{})
	require.ErrorIs(t, err, store.ErrTooLarge)
	assert.Contains(t, err.Error(), "limit of 512 bytes")
}

// prefixCodec marks its output, to show the store writes through Options.Codec.
type prefixCodec struct{}

func (prefixCodec) Encode(obj apis.Object) ([]byte, error) {
	b, err := json.Marshal(obj)
	return append([]byte("P:"), b...), err
}

func (prefixCodec) Decode(data []byte, into apis.Object) error {
	if len(data) < 2 || string(data[:2]) != "P:" {
		return errors.New("prefixCodec: missing prefix")
	}
	return json.Unmarshal(data[2:], into)
}

func TestCodecOption(t *testing.T) {
	s, kv := openStore(t, store.Options{Codec: prefixCodec{}})
	w, err := store.For[*Widget](s).Create(t.Context(), &Widget{ObjectMeta: apis.ObjectMeta{Namespace: "default", Name: "a"}}, store.WriteOptions{})
	require.NoError(t, err)
	page, err := kv.Range(t.Context(), "/test.gantry.dev/widgets/default/a", store.RangeOptions{})
	require.NoError(t, err)
	require.Len(t, page.KVs, 1)
	assert.Equal(t, "P:", string(page.KVs[0].Value[:2]))
	got, err := store.For[*Widget](s).Get(t.Context(), apis.KeyOf(w), store.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, w, got)
}

// A value the codec cannot decode is reported with its key, never a panic.
func TestCorruptValue(t *testing.T) {
	s, kv := openStore(t, store.Options{})
	ctx := t.Context()
	key := "/test.gantry.dev/widgets/default/bad"
	_, err := kv.Txn(ctx, store.Txn{Then: []store.Op{store.Put(key, []byte("{not json"))}})
	require.NoError(t, err)
	widgets := store.For[*Widget](s)
	_, err = widgets.Get(ctx, apis.Key{Namespace: "default", Name: "bad"}, store.GetOptions{})
	require.ErrorContains(t, err, key)
	_, err = widgets.List(ctx, store.ListOptions{})
	require.ErrorContains(t, err, key)
}

func TestAdmission(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	record := store.AdmitFunc(func(_ context.Context, req store.AdmissionRequest) error {
		mu.Lock()
		defer mu.Unlock()
		s := string(req.Operation)
		if req.Subresource != "" {
			s += "/" + req.Subresource
		}
		s += " " + req.Key.String()
		if req.OldObject != nil {
			s += " old=" + req.OldObject.Meta().ResourceVersion
		}
		if req.DryRun {
			s += " dry"
		}
		seen = append(seen, s)
		return nil
	})
	mutate := store.AdmitFunc(func(_ context.Context, req store.AdmissionRequest) error {
		if req.Object == nil || req.Kind.GVK != storetest.WidgetGVK {
			return nil
		}
		m := req.Object.Meta()
		if m.Labels == nil {
			m.Labels = map[string]string{}
		}
		m.Labels["admitted"] = "yes"
		if req.Operation == store.OperationCreate {
			m.UID = "forged" // reset by the store
		}
		if req.Operation == store.OperationUpdate {
			req.Object.(*Widget).Status.Phase = "Forged" // not kept on the main path
		}
		return nil
	})
	deny := store.AdmitFunc(func(_ context.Context, req store.AdmissionRequest) error {
		if req.Object != nil && req.Object.Meta().Annotations["deny"] == "plain" {
			return errors.New("not today")
		}
		if req.Object != nil && req.Object.Meta().Annotations["deny"] == "field" {
			return &store.InvalidError{Kind: req.Kind.GVK.Kind, Name: req.Key.Name,
				Errors: field.ErrorList{field.Forbidden(field.NewPath("metadata", "annotations", "deny"), "policy")}}
		}
		if req.Operation == store.OperationDelete && req.OldObject.Meta().Labels["protected"] == "true" {
			return errors.New("protected")
		}
		return nil
	})
	s, _ := openStore(t, store.Options{Mutating: []store.Admitter{record, mutate}, Validating: []store.Admitter{deny}})
	ctx := t.Context()
	widgets := store.For[*Widget](s)
	seen = nil // drop the initial namespaces

	w, err := widgets.Create(ctx, &Widget{ObjectMeta: apis.ObjectMeta{Namespace: "default", Name: "a"}}, store.WriteOptions{})
	require.NoError(t, err)
	assert.Equal(t, "yes", w.Labels["admitted"])
	assert.NotEqual(t, "forged", w.UID)
	w.Spec.Replicas = 1
	w, err = widgets.Update(ctx, w, store.WriteOptions{})
	require.NoError(t, err)
	assert.Empty(t, w.Status.Phase, "mutating admission cannot change status through Update")
	w.Status.Phase = "Running"
	w, err = widgets.UpdateStatus(ctx, w, store.WriteOptions{})
	require.NoError(t, err)
	assert.Equal(t, "Forged", w.Status.Phase, "status admission may change status")
	_, err = widgets.Create(ctx, &Widget{ObjectMeta: apis.ObjectMeta{Namespace: "default", Name: "b"}}, store.WriteOptions{DryRun: true})
	require.NoError(t, err)

	_, err = widgets.Create(ctx, &Widget{ObjectMeta: apis.ObjectMeta{Namespace: "default", Name: "c", Annotations: map[string]string{"deny": "plain"}}}, store.WriteOptions{})
	require.ErrorIs(t, err, store.ErrDenied)
	assert.ErrorContains(t, err, "not today")
	assert.ErrorContains(t, err, "default/c")
	c := *w
	c.Annotations = map[string]string{"deny": "field"}
	_, err = widgets.Update(ctx, &c, store.WriteOptions{})
	require.ErrorIs(t, err, store.ErrDenied)
	require.ErrorIs(t, err, store.ErrInvalid)
	assert.Equal(t, "metadata.annotations.deny", store.FieldErrors(err)[0].Field)
	w.Labels["protected"] = "true"
	w, err = widgets.Update(ctx, w, store.WriteOptions{})
	require.NoError(t, err)
	before, err := widgets.List(ctx, store.ListOptions{})
	require.NoError(t, err)
	_, err = widgets.Delete(ctx, apis.KeyOf(w), store.DeleteOptions{})
	require.ErrorIs(t, err, store.ErrDenied)
	after, err := widgets.List(ctx, store.ListOptions{})
	require.NoError(t, err)
	assert.Equal(t, before, after, "a denied write changes nothing")

	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{
		"CREATE default/a",
		"UPDATE default/a old=" + strconv.FormatInt(rvOf(t, w)-3, 10),
		"UPDATE/status default/a old=" + strconv.FormatInt(rvOf(t, w)-2, 10),
		"CREATE default/b dry",
		"CREATE default/c",
		"UPDATE default/a old=" + strconv.FormatInt(rvOf(t, w)-1, 10),
		"UPDATE default/a old=" + strconv.FormatInt(rvOf(t, w)-1, 10),
		"DELETE default/a old=" + strconv.FormatInt(rvOf(t, w), 10),
	}, seen)
}

func rvOf(t *testing.T, o apis.Object) int64 {
	n, err := strconv.ParseInt(o.Meta().ResourceVersion, 10, 64)
	require.NoError(t, err)
	return n
}

func TestGracefulDeletion(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	grace := func(k *apis.KindInfo, _ apis.Object, requested *int64) int64 {
		if k.GVK != storetest.WidgetGVK {
			return 0
		}
		if requested != nil {
			return *requested
		}
		return 30
	}
	s, _ := openStore(t, store.Options{Clock: func() time.Time { return now }, GracePeriod: grace})
	ctx := t.Context()
	widgets := store.For[*Widget](s)
	key := apis.Key{Namespace: "default", Name: "a"}
	_, err := widgets.Create(ctx, &Widget{ObjectMeta: apis.ObjectMeta{Namespace: "default", Name: "a"}}, store.WriteOptions{})
	require.NoError(t, err)

	marked, err := widgets.Delete(ctx, key, store.DeleteOptions{})
	require.NoError(t, err)
	require.NotNil(t, marked.DeletionTimestamp)
	assert.True(t, marked.DeletionTimestamp.Equal(now.Add(30*time.Second)))
	assert.Equal(t, int64(30), *marked.DeletionGracePeriodSeconds)
	assert.Equal(t, int64(2), marked.Generation)

	// Same or longer period: nothing changes.
	again, err := widgets.Delete(ctx, key, store.DeleteOptions{GracePeriodSeconds: ptr(int64(60))})
	require.NoError(t, err)
	assert.Equal(t, marked, again)

	// A shorter period moves the deadline.
	shorter, err := widgets.Delete(ctx, key, store.DeleteOptions{GracePeriodSeconds: ptr(int64(10))})
	require.NoError(t, err)
	assert.True(t, shorter.DeletionTimestamp.Equal(now.Add(10*time.Second)))
	assert.Equal(t, int64(10), *shorter.DeletionGracePeriodSeconds)

	// An update during the grace period does not delete it, even without finalizers.
	shorter.Labels = map[string]string{"x": "y"}
	_, err = widgets.Update(ctx, shorter, store.WriteOptions{})
	require.NoError(t, err)

	// Grace 0 (the node agent, when the containers are gone) deletes.
	_, err = widgets.Delete(ctx, key, store.DeleteOptions{GracePeriodSeconds: ptr(int64(0))})
	require.NoError(t, err)
	_, err = widgets.Get(ctx, key, store.GetOptions{})
	require.ErrorIs(t, err, store.ErrNotFound)

	// With a finalizer, grace 0 leaves it marked until the finalizer goes.
	_, err = widgets.Create(ctx, &Widget{ObjectMeta: apis.ObjectMeta{Namespace: "default", Name: "a", Finalizers: []string{"example.com/f"}}}, store.WriteOptions{})
	require.NoError(t, err)
	_, err = widgets.Delete(ctx, key, store.DeleteOptions{})
	require.NoError(t, err)
	held, err := widgets.Delete(ctx, key, store.DeleteOptions{GracePeriodSeconds: ptr(int64(0))})
	require.NoError(t, err)
	assert.Equal(t, int64(0), *held.DeletionGracePeriodSeconds)
	held.Finalizers = nil
	_, err = widgets.Update(ctx, held, store.WriteOptions{})
	require.NoError(t, err)
	_, err = widgets.Get(ctx, key, store.GetOptions{})
	require.ErrorIs(t, err, store.ErrNotFound)
}

func ptr[T any](v T) *T { return &v }

// fakePod has the fields DefaultGracePeriod reads, to test it without the core group.
type fakePod struct {
	apis.TypeMeta   `json:",inline"`
	apis.ObjectMeta `json:"metadata"`
	Spec            struct {
		NodeName                      string `json:"nodeName,omitempty"`
		TerminationGracePeriodSeconds *int64 `json:"terminationGracePeriodSeconds,omitempty"`
	} `json:"spec"`
	Status struct {
		Phase string `json:"phase,omitempty"`
	} `json:"status"`
}

func TestDefaultGracePeriod(t *testing.T) {
	sch := apis.NewScheme()
	require.NoError(t, apis.Register[fakePod](sch, apis.Kind[*fakePod]{GroupVersionKind: apis.GroupVersionKind{Version: "v1", Kind: "Pod"}}))
	require.NoError(t, apis.Register[Widget](sch, apis.Kind[*Widget]{GroupVersionKind: storetest.WidgetGVK}))
	podKind, err := sch.Lookup(apis.GroupVersionKind{Version: "v1", Kind: "Pod"})
	require.NoError(t, err)
	widgetKind, err := sch.Lookup(storetest.WidgetGVK)
	require.NoError(t, err)

	pod := func(node, phase string, tgps *int64) *fakePod {
		p := &fakePod{}
		p.Spec.NodeName, p.Status.Phase, p.Spec.TerminationGracePeriodSeconds = node, phase, tgps
		return p
	}
	cases := []struct {
		name      string
		kind      *apis.KindInfo
		obj       apis.Object
		requested *int64
		want      int64
	}{
		{"spec period", podKind, pod("n1", "Running", ptr(int64(30))), nil, 30},
		{"requested wins", podKind, pod("n1", "Running", ptr(int64(30))), ptr(int64(5)), 5},
		{"no spec period", podKind, pod("n1", "Running", nil), nil, 0},
		{"unscheduled", podKind, pod("", "Pending", ptr(int64(30))), nil, 0},
		{"succeeded", podKind, pod("n1", "Succeeded", ptr(int64(30))), nil, 0},
		{"failed", podKind, pod("n1", "Failed", ptr(int64(30))), ptr(int64(9)), 0},
		{"other kinds", widgetKind, &Widget{}, ptr(int64(30)), 0},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, store.DefaultGracePeriod(c.kind, c.obj, c.requested), c.name)
	}
}

// A namespace deleted while creates race into it never ends up with objects
// created after its deletion: the create's compare on the namespace fails.
func TestNamespaceDeleteRacesCreates(t *testing.T) {
	s, _ := openStore(t, store.Options{})
	ctx := t.Context()
	nss := store.For[*core.Namespace](s)
	widgets := store.For[*Widget](s)
	for round := range 20 {
		ns := fmt.Sprintf("race-%d", round)
		_, err := nss.Create(ctx, &core.Namespace{ObjectMeta: apis.ObjectMeta{Name: ns}}, store.WriteOptions{})
		require.NoError(t, err)
		var wg sync.WaitGroup
		var created sync.Map
		for i := range 4 {
			wg.Go(func() {
				for j := 0; ; j++ {
					w, err := widgets.Create(ctx, &Widget{ObjectMeta: apis.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("w-%d-%d", i, j)}}, store.WriteOptions{})
					if err != nil {
						return // the namespace is gone
					}
					created.Store(w.Name, w)
				}
			})
		}
		deleted, err := nss.Delete(ctx, apis.Key{Name: ns}, store.DeleteOptions{})
		require.NoError(t, err)
		wg.Wait()
		deleteRev := rvOf(t, deleted)
		created.Range(func(_, v any) bool {
			assert.Less(t, rvOf(t, v.(*Widget)), deleteRev, "created after its namespace was deleted")
			return true
		})
	}
}

// Watches end when their context does, leaving no goroutine behind (goleak
// checks at exit).
func TestWatchEndsWithContext(t *testing.T) {
	s, _ := openStore(t, store.Options{})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range store.For[*Widget](s).Watch(ctx, store.WatchOptions{}) {
		}
	}()
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("watch did not end with its context")
	}
}

// FuzzListContinue: any continue token is either accepted or refused with
// ErrInvalid (or ErrCompacted/ErrFutureRevision for a well-formed one), never a panic.
func FuzzListContinue(f *testing.F) {
	f.Add("")
	f.Add("eyJ2IjoxLCJydiI6NSwiYWZ0ZXIiOiIvdGVzdC5nYW50cnkuZGV2L3dpZGdldHMvZGVmYXVsdC9hIn0")
	f.Add("eyJ2IjoxLCJydiI6MCwiYWZ0ZXIiOiIifQ")
	f.Add("!!!")
	s, _ := openStore(f, store.Options{})
	for i := range 3 {
		_, err := store.For[*Widget](s).Create(context.Background(), &Widget{ObjectMeta: apis.ObjectMeta{Namespace: "default", Name: fmt.Sprintf("w-%d", i)}}, store.WriteOptions{})
		require.NoError(f, err)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		_, err := s.List(context.Background(), storetest.WidgetGVK, store.ListOptions{Namespace: "default", Continue: tok, Limit: 1})
		if err != nil && !errors.Is(err, store.ErrInvalid) && !errors.Is(err, store.ErrFutureRevision) && !errors.Is(err, store.ErrCompacted) {
			t.Fatalf("unexpected error kind: %v", err)
		}
	})
}

// FuzzStoredValue: whatever bytes sit under an object's key, reads and
// watches return an error or an object, never a panic.
func FuzzStoredValue(f *testing.F) {
	f.Add([]byte(`{"metadata":{"name":"a","namespace":"default"},"spec":{"replicas":1}}`))
	f.Add([]byte(`{"metadata":{"creationTimestamp":"yesterday"}}`))
	f.Add([]byte(`null`))
	f.Add([]byte{0xff, 0x00})
	s, kv := openStore(f, store.Options{})
	key := "/test.gantry.dev/widgets/default/a"
	f.Fuzz(func(t *testing.T, value []byte) {
		ctx := context.Background()
		rev, err := kv.Txn(ctx, store.Txn{Then: []store.Op{store.Put(key, value)}})
		require.NoError(t, err)
		_, _ = s.Get(ctx, storetest.WidgetGVK, apis.Key{Namespace: "default", Name: "a"}, store.GetOptions{})
		_, _ = s.List(ctx, storetest.WidgetGVK, store.ListOptions{})
		wctx, cancel := context.WithCancel(ctx)
		for _, err := range s.Watch(wctx, storetest.WidgetGVK, store.WatchOptions{Revision: rev - 1}) {
			_ = err
			break
		}
		cancel()
	})
}
