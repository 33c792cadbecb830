package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/builtin"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/store"
	"github.com/gantry-sdk/gantry/store/etcd"
	"github.com/gantry-sdk/gantry/store/etcd/etcdtest"
)

// bindBackends opens a store with the built-in kinds over the memory KV
// and, unless -short, over a real embedded etcd.
func bindBackends(t *testing.T) map[string]func(t *testing.T, opts store.Options) *store.ObjectStore {
	scheme, err := builtin.NewScheme()
	require.NoError(t, err)
	backends := map[string]func(t *testing.T, opts store.Options) *store.ObjectStore{
		"memory": func(t *testing.T, opts store.Options) *store.ObjectStore {
			s, err := store.New(newKV(t), scheme, opts)
			require.NoError(t, err)
			return s
		},
	}
	if !testing.Short() {
		srv := etcdtest.Start(t, etcdtest.Options{NoFsync: true})
		n := 0
		backends["etcd"] = func(t *testing.T, opts store.Options) *store.ObjectStore {
			n++
			kv, err := etcd.New(srv.Client, etcd.Options{Prefix: fmt.Sprintf("/bindtest-%d", n)})
			require.NoError(t, err)
			s, err := store.New(kv, scheme, opts)
			require.NoError(t, err)
			return s
		}
	}
	return backends
}

func bindPod(name string) *core.Pod {
	return &core.Pod{
		ObjectMeta: apis.ObjectMeta{Namespace: "default", Name: name, Labels: map[string]string{"app": "web"}},
		Spec:       core.PodSpec{Containers: []core.Container{{Name: "c", Image: "busybox"}}},
	}
}

// BindPod sets nodeName and PodScheduled=True in one write (one watch
// event), replacing an earlier PodScheduled=False and the nomination.
func TestBindPod(t *testing.T) {
	for name, open := range bindBackends(t) {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			clock := time.Date(2026, 11, 22, 1, 2, 3, 456789, time.Local)
			s := open(t, store.Options{Clock: func() time.Time { return clock }})
			pods := store.For[*core.Pod](s)
			created, err := pods.Create(ctx, bindPod("p"), store.WriteOptions{})
			require.NoError(t, err)
			created.Status.NominatedNodeName = "n0"
			created.Status.Conditions = []core.PodCondition{{Type: core.PodScheduled, Status: apis.ConditionFalse, Reason: "Unschedulable", Message: "0/1 nodes"}}
			pending, err := pods.UpdateStatus(ctx, created, store.WriteOptions{})
			require.NoError(t, err)
			from, err := strconv.ParseInt(pending.ResourceVersion, 10, 64)
			require.NoError(t, err)
			watchCtx, stopWatch := context.WithCancel(ctx)
			defer stopWatch()
			events := make(chan store.TypedEvent[*core.Pod], 4)
			go func() {
				for ev, err := range pods.Watch(watchCtx, store.WatchOptions{Revision: from}) {
					if err != nil {
						return
					}
					events <- ev
				}
			}()

			rev, err := s.BindPod(ctx, store.Binding{Pod: apis.Key{Namespace: "default", Name: "p"}, UID: created.UID, NodeName: "n1"}, store.WriteOptions{})
			require.NoError(t, err)
			got, err := pods.Get(ctx, apis.Key{Namespace: "default", Name: "p"}, store.GetOptions{})
			require.NoError(t, err)
			require.Equal(t, strconv.FormatInt(rev, 10), got.ResourceVersion)
			require.Equal(t, "n1", got.Spec.NodeName)
			require.Empty(t, got.Status.NominatedNodeName)
			require.Equal(t, []core.PodCondition{{Type: core.PodScheduled, Status: apis.ConditionTrue,
				LastTransitionTime: apis.NewTime(clock.Truncate(time.Second).Local())}}, got.Status.Conditions)
			require.Equal(t, pending.Generation, got.Generation, "a binding is no spec change of the user's")

			select {
			case ev := <-events:
				require.Equal(t, store.WatchModified, ev.Type)
				require.Equal(t, rev, ev.Revision)
				require.Equal(t, got, ev.Object)
			case <-time.After(10 * time.Second):
				t.Fatal("no watch event for the binding")
			}
			select {
			case ev := <-events:
				t.Fatalf("a second event %s at %d: a binding is one write", ev.Type, ev.Revision)
			case <-time.After(100 * time.Millisecond):
			}
		})
	}
}

// The pod kept as the shared decoded value after BindPod is exactly what
// decoding the written bytes gives.
func TestBindPodCachesWhatDecodingGives(t *testing.T) {
	ctx := context.Background()
	s := bindBackends(t)["memory"](t, store.Options{Clock: func() time.Time { return time.Now().Add(123 * time.Microsecond) }})
	pods := store.For[*core.Pod](s)
	p := bindPod("p")
	p.Spec.Containers[0].Env = []core.EnvVar{{Name: "A", Value: "<&>"}}
	_, err := pods.Create(ctx, p, store.WriteOptions{})
	require.NoError(t, err)
	key := apis.Key{Namespace: "default", Name: "p"}
	rev, err := s.BindPod(ctx, store.Binding{Pod: key, NodeName: "n1"}, store.WriteOptions{})
	require.NoError(t, err)
	cached, data, ok := s.CachedDecoded(pods.Kind(), key)
	require.True(t, ok)
	fresh := pods.Kind().New()
	require.NoError(t, json.Unmarshal(data, fresh))
	fresh.Meta().ResourceVersion = strconv.FormatInt(rev, 10)
	fresh.Type().SetGroupVersionKind(pods.Kind().GVK)
	require.True(t, reflect.DeepEqual(fresh, cached), "cached %#v\ndecoded %#v", cached, fresh)
}

func TestBindPodRefusals(t *testing.T) {
	ctx := context.Background()
	key := apis.Key{Namespace: "default", Name: "p"}
	tests := []struct {
		name    string
		setup   func(t *testing.T, pods store.Typed[*core.Pod]) store.Binding
		want    error
		message string
	}{
		{"missing", func(*testing.T, store.Typed[*core.Pod]) store.Binding {
			return store.Binding{Pod: key, NodeName: "n1"}
		}, store.ErrNotFound, ""},
		{"bad node name", func(t *testing.T, pods store.Typed[*core.Pod]) store.Binding {
			return store.Binding{Pod: key, NodeName: "Node_1"}
		}, store.ErrInvalid, "target.name"},
		{"no node name", func(t *testing.T, pods store.Typed[*core.Pod]) store.Binding {
			return store.Binding{Pod: key}
		}, store.ErrInvalid, "target.name"},
		{"already bound", func(t *testing.T, pods store.Typed[*core.Pod]) store.Binding {
			p := bindPod("p")
			p.Spec.NodeName = "n0"
			_, err := pods.Create(ctx, p, store.WriteOptions{})
			require.NoError(t, err)
			return store.Binding{Pod: key, NodeName: "n1"}
		}, store.ErrConflict, `already assigned to node "n0"`},
		{"other uid", func(t *testing.T, pods store.Typed[*core.Pod]) store.Binding {
			_, err := pods.Create(ctx, bindPod("p"), store.WriteOptions{})
			require.NoError(t, err)
			return store.Binding{Pod: key, UID: "not-the-uid", NodeName: "n1"}
		}, store.ErrConflict, "uid"},
		{"stale resourceVersion", func(t *testing.T, pods store.Typed[*core.Pod]) store.Binding {
			c, err := pods.Create(ctx, bindPod("p"), store.WriteOptions{})
			require.NoError(t, err)
			c.Labels["v"] = "2"
			_, err = pods.Update(ctx, c, store.WriteOptions{})
			require.NoError(t, err)
			return store.Binding{Pod: key, ResourceVersion: c.ResourceVersion, NodeName: "n1"}
		}, store.ErrConflict, "resourceVersion"},
		{"gated", func(t *testing.T, pods store.Typed[*core.Pod]) store.Binding {
			p := bindPod("p")
			p.Spec.SchedulingGates = []core.PodSchedulingGate{{Name: "example.com/wait"}}
			_, err := pods.Create(ctx, p, store.WriteOptions{})
			require.NoError(t, err)
			return store.Binding{Pod: key, NodeName: "n1"}
		}, store.ErrConflict, "schedulingGates"},
		{"being deleted", func(t *testing.T, pods store.Typed[*core.Pod]) store.Binding {
			p := bindPod("p")
			p.Finalizers = []string{"example.com/keep"}
			_, err := pods.Create(ctx, p, store.WriteOptions{})
			require.NoError(t, err)
			_, err = pods.Delete(ctx, key, store.DeleteOptions{})
			require.NoError(t, err)
			return store.Binding{Pod: key, NodeName: "n1"}
		}, store.ErrConflict, "being deleted"},
	}
	for name, open := range bindBackends(t) {
		for _, tt := range tests {
			t.Run(name+"/"+tt.name, func(t *testing.T) {
				s := open(t, store.Options{})
				pods := store.For[*core.Pod](s)
				b := tt.setup(t, pods)
				before, _ := pods.Get(ctx, key, store.GetOptions{})
				_, err := s.BindPod(ctx, b, store.WriteOptions{})
				require.ErrorIs(t, err, tt.want)
				require.ErrorContains(t, err, tt.message)
				after, _ := pods.Get(ctx, key, store.GetOptions{})
				require.Equal(t, before, after, "a refused binding writes nothing")
			})
		}
	}
}

// Validating admission sees the binding (and may refuse it); a dry run
// writes nothing.
func TestBindPodAdmissionAndDryRun(t *testing.T) {
	ctx := context.Background()
	key := apis.Key{Namespace: "default", Name: "p"}
	var seen []store.AdmissionRequest
	deny := store.AdmitFunc(func(_ context.Context, req store.AdmissionRequest) error {
		if req.Subresource != store.SubresourceBinding {
			return nil
		}
		seen = append(seen, req)
		if req.Object.(*core.Pod).Spec.NodeName == "forbidden" {
			return errors.New("node forbidden")
		}
		return nil
	})
	s := bindBackends(t)["memory"](t, store.Options{Validating: []store.Admitter{deny}})
	pods := store.For[*core.Pod](s)
	created, err := pods.Create(ctx, bindPod("p"), store.WriteOptions{})
	require.NoError(t, err)

	_, err = s.BindPod(ctx, store.Binding{Pod: key, NodeName: "forbidden"}, store.WriteOptions{})
	require.ErrorIs(t, err, store.ErrDenied)
	require.ErrorContains(t, err, "pods/binding")
	require.Len(t, seen, 1)
	require.Equal(t, store.OperationUpdate, seen[0].Operation)
	require.Empty(t, seen[0].OldObject.(*core.Pod).Spec.NodeName)

	rev, err := s.BindPod(ctx, store.Binding{Pod: key, NodeName: "n1"}, store.WriteOptions{DryRun: true})
	require.NoError(t, err)
	require.Equal(t, created.ResourceVersion, strconv.FormatInt(rev, 10))
	got, err := pods.Get(ctx, key, store.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, created, got)
}

// Writes kept as decoded, raced by watches and reads that may see them
// before their writers hear back: every kept object equals its decoding,
// and watchers see every binding once, as written.
func TestKeptWritesUnderConcurrentWatch(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	scheme, err := builtin.NewScheme()
	require.NoError(t, err)
	s, err := store.New(newKV(t), scheme, store.Options{})
	require.NoError(t, err)
	checked := s.VerifyWritten(t.Errorf)
	pods := store.For[*core.Pod](s)
	const n = 50
	for i := range n {
		_, err := pods.Create(ctx, bindPod(fmt.Sprintf("p%02d", i)), store.WriteOptions{})
		require.NoError(t, err)
	}
	l, err := pods.List(ctx, store.ListOptions{})
	require.NoError(t, err)
	seen := make(chan *core.Pod, n)
	go func() {
		for ev, err := range pods.Watch(ctx, store.WatchOptions{Revision: l.Revision}) {
			if err != nil {
				return
			}
			if ev.Type == store.WatchModified {
				seen <- ev.Object
			}
		}
	}()
	errs := make(chan error, n)
	for i := range n {
		go func() {
			key := apis.Key{Namespace: "default", Name: fmt.Sprintf("p%02d", i)}
			_, err := s.BindPod(ctx, store.Binding{Pod: key, NodeName: fmt.Sprintf("n%d", i%3)}, store.WriteOptions{})
			if err == nil {
				_, err = pods.Get(ctx, key, store.GetOptions{})
			}
			errs <- err
		}()
	}
	for range n {
		require.NoError(t, <-errs)
	}
	got := map[string]bool{}
	for range n {
		select {
		case p := <-seen:
			require.NotEmpty(t, p.Spec.NodeName)
			require.True(t, p.Status.GetPodCondition(core.PodScheduled).Status == apis.ConditionTrue)
			require.False(t, got[p.Name], "pod %s seen twice", p.Name)
			got[p.Name] = true
		case <-time.After(10 * time.Second):
			t.Fatalf("saw %d of %d bindings", len(got), n)
		}
	}
	require.GreaterOrEqual(t, checked.Load(), int64(n))
}
