package scheduler

import (
	"context"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/builtin"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/store"
	"github.com/gantry-sdk/gantry/store/memory"
)

func TestDefaultBinderComparesOnResourceVersion(t *testing.T) {
	ctx := context.Background()
	scheme, err := builtin.NewScheme()
	require.NoError(t, err)
	kv := memory.New(memory.Options{})
	defer kv.Close()
	s, err := store.New(kv, scheme, store.Options{})
	require.NoError(t, err)
	pods := store.For[*core.Pod](s)
	created, err := pods.Create(ctx, mkPod("p", "", ""), store.WriteOptions{})
	require.NoError(t, err)

	// The status changes after the scheduler read the pod: the compare
	// fails, the binder reads again and binds.
	cp := *created
	cp.Status.Message = "seen"
	_, err = pods.UpdateStatus(ctx, &cp, store.WriteOptions{})
	require.NoError(t, err)
	b := NewDefaultBinder(s, nil)
	require.True(t, b.Bind(ctx, nil, created, "n1").IsSuccess())
	got, err := pods.Get(ctx, apis.Key{Namespace: "default", Name: "p"}, store.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, "n1", got.Spec.NodeName)
	cond := got.Status.GetPodCondition(core.PodScheduled)
	require.NotNil(t, cond)
	require.Equal(t, apis.ConditionTrue, cond.Status)

	// Binding again to another node fails: nodeName is set once.
	st := b.Bind(ctx, nil, created, "n2")
	require.Equal(t, Error, st.Code())
	require.Contains(t, st.Err().Error(), "already bound to n1")
	// Binding to the same node is idempotent.
	require.True(t, b.Bind(ctx, nil, created, "n1").IsSuccess())
}

// plainStore is the real store without its optional interfaces, as a
// store behind an API client would be: the binder then binds in two writes.
type plainStore struct{ store.Store }

func TestDefaultBinderBindsInOneWrite(t *testing.T) {
	ctx := context.Background()
	scheme, err := builtin.NewScheme()
	require.NoError(t, err)
	for name, wrap := range map[string]func(store.Store) store.Store{
		"PodBinder":     func(s store.Store) store.Store { return s },
		"Update+Status": func(s store.Store) store.Store { return plainStore{s} },
	} {
		t.Run(name, func(t *testing.T) {
			kv := memory.New(memory.Options{})
			defer kv.Close()
			s, err := store.New(kv, scheme, store.Options{})
			require.NoError(t, err)
			pods := store.For[*core.Pod](s)
			created, err := pods.Create(ctx, mkPod("p", "", ""), store.WriteOptions{})
			require.NoError(t, err)
			before, err := kv.Range(ctx, "", store.RangeOptions{Limit: 1})
			require.NoError(t, err)

			b := NewDefaultBinder(wrap(s), nil)
			require.True(t, b.Bind(ctx, nil, created, "n1").IsSuccess())
			got, err := pods.Get(ctx, apis.Key{Namespace: "default", Name: "p"}, store.GetOptions{})
			require.NoError(t, err)
			require.Equal(t, "n1", got.Spec.NodeName)
			cond := got.Status.GetPodCondition(core.PodScheduled)
			require.NotNil(t, cond)
			require.Equal(t, apis.ConditionTrue, cond.Status)
			writes := map[string]int64{"PodBinder": 1, "Update+Status": 2}[name]
			rv, err := strconv.ParseInt(got.ResourceVersion, 10, 64)
			require.NoError(t, err)
			require.Equal(t, before.Revision+writes, rv)

			// Deleted and recreated under the same name: not the pod scheduled.
			_, err = pods.Delete(ctx, apis.Key{Namespace: "default", Name: "p"}, store.DeleteOptions{GracePeriodSeconds: new(int64)})
			require.NoError(t, err)
			_, err = pods.Create(ctx, mkPod("p", "", ""), store.WriteOptions{})
			require.NoError(t, err)
			st := b.Bind(ctx, nil, created, "n1")
			require.Equal(t, Error, st.Code())
			require.Contains(t, st.Err().Error(), "deleted or replaced")
		})
	}
}
