package store_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/apis/fields"
	"github.com/gantry-sdk/gantry/store"
	"github.com/gantry-sdk/gantry/store/storetest"
)

func coreScheme(t testing.TB) *apis.Scheme {
	sch := apis.NewScheme()
	require.NoError(t, core.AddToScheme(sch))
	require.NoError(t, storetest.AddToScheme(sch)) // keeps core's Namespace
	return sch
}

// The suite also holds with the real core group registered (its Namespace
// defaulting and validation instead of the suite's own).
func TestStoreConformanceCoreScheme(t *testing.T) {
	storetest.RunStore(t, func(t *testing.T) store.Store {
		s, err := store.New(newKV(t), coreScheme(t), store.Options{})
		require.NoError(t, err)
		return s
	})
}

// Pods through the store: core defaulting and validation, the selectable
// fields the scheduler and the node agent use, and graceful deletion.
func TestCorePods(t *testing.T) {
	s, err := store.New(newKV(t), coreScheme(t), store.Options{})
	require.NoError(t, err)
	ctx := t.Context()
	pods := store.For[*core.Pod](s)
	pod := func(name, node string) *core.Pod {
		p := &core.Pod{ObjectMeta: apis.ObjectMeta{Namespace: "default", Name: name}}
		p.Spec.NodeName = node
		p.Spec.Containers = []core.Container{{Name: "app", Image: "busybox"}}
		return p
	}

	_, err = pods.Create(ctx, &core.Pod{ObjectMeta: apis.ObjectMeta{Namespace: "default", Name: "empty"}}, store.WriteOptions{})
	hasField(t, err, "spec.containers")

	bound, err := pods.Create(ctx, pod("bound", "node-1"), store.WriteOptions{})
	require.NoError(t, err)
	require.NotNil(t, bound.Spec.TerminationGracePeriodSeconds, "core defaulting ran")
	_, err = pods.Create(ctx, pod("pending", ""), store.WriteOptions{})
	require.NoError(t, err)
	bound.Status.Phase = core.PodRunning
	_, err = pods.UpdateStatus(ctx, bound, store.WriteOptions{})
	require.NoError(t, err)

	for sel, want := range map[string][]string{
		"spec.nodeName=node-1":  {"bound"},
		"spec.nodeName=":        {"pending"},
		"status.phase=Running":  {"bound"},
		"status.phase!=Running": {"pending"},
	} {
		fs, err := fields.Parse(sel)
		require.NoError(t, err)
		l, err := pods.List(ctx, store.ListOptions{Fields: fs})
		require.NoError(t, err, sel)
		var got []string
		for _, p := range l.Items {
			got = append(got, p.Name)
		}
		assert.Equal(t, want, got, sel)
	}

	// A bound pod is deleted gracefully (terminationGracePeriodSeconds);
	// the node agent finishes with grace 0. An unbound one goes at once.
	marked, err := pods.Delete(ctx, apis.Key{Namespace: "default", Name: "bound"}, store.DeleteOptions{})
	require.NoError(t, err)
	require.NotNil(t, marked.DeletionTimestamp)
	assert.Equal(t, *bound.Spec.TerminationGracePeriodSeconds, *marked.DeletionGracePeriodSeconds)
	zero := int64(0)
	_, err = pods.Delete(ctx, apis.Key{Namespace: "default", Name: "bound"}, store.DeleteOptions{GracePeriodSeconds: &zero})
	require.NoError(t, err)
	_, err = pods.Delete(ctx, apis.Key{Namespace: "default", Name: "pending"}, store.DeleteOptions{})
	require.NoError(t, err)
	l, err := pods.List(ctx, store.ListOptions{})
	require.NoError(t, err)
	assert.Empty(t, l.Items)
}

func hasField(t *testing.T, err error, path string) {
	t.Helper()
	require.ErrorIs(t, err, store.ErrInvalid)
	for _, fe := range store.FieldErrors(err) {
		if len(fe.Field) >= len(path) && fe.Field[:len(path)] == path {
			return
		}
	}
	t.Fatalf("%v: no field error under %s", err, path)
}
