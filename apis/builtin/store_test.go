package builtin_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/apps"
	"github.com/gantry-sdk/gantry/apis/builtin"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/apis/field"
	"github.com/gantry-sdk/gantry/store"
	"github.com/gantry-sdk/gantry/store/memory"
)

func newStore(t *testing.T) *store.ObjectStore {
	t.Helper()
	kv := memory.New(memory.Options{})
	t.Cleanup(func() { _ = kv.Close() })
	s, err := builtin.NewScheme()
	require.NoError(t, err)
	st, err := store.New(kv, s, store.Options{})
	require.NoError(t, err)
	return st
}

func fieldsOf(err error) []string {
	var out []string
	for _, e := range field.AsList(err) {
		out = append(out, e.Field)
	}
	return out
}

// TestKindsThroughTheStore writes the manifests through the object store,
// which runs each kind's defaulting and validation on every write, and
// exercises the update rules that controllers, the scheduler and the
// kubelet rely on.
func TestKindsThroughTheStore(t *testing.T) {
	ctx := t.Context()
	st := newStore(t)
	s := st.Scheme()
	codec := apis.Codec{Scheme: s, Strict: true}

	objs, _, err := codec.DecodeAll(readManifest(t, "deployment-gobackend.yaml"))
	require.NoError(t, err)
	for _, obj := range objs {
		obj.Meta().Namespace = core.NamespaceDefault
		_, err := st.Create(ctx, obj, store.WriteOptions{})
		require.NoError(t, err)
	}

	deps := store.For[*apps.Deployment](st)
	key := apis.Key{Namespace: "default", Name: "test-k8s-backend"}
	d, err := deps.Get(ctx, key, store.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, int32(600), *d.Spec.ProgressDeadlineSeconds, "defaulted on create")
	assert.Equal(t, "25%", d.Spec.Strategy.RollingUpdate.MaxSurge.String())

	// Scaling and a new image are ordinary updates.
	d.Spec.Replicas = new(int32(5))
	d.Spec.Template.Spec.Containers[0].Image = "ccr.ccs.tencentyun.com/lisa/go:v2"
	d, err = deps.Update(ctx, d, store.WriteOptions{})
	require.NoError(t, err)
	assert.Equal(t, int64(2), d.Generation)

	// The selector is immutable.
	d.Spec.Selector = &apis.LabelSelector{MatchLabels: map[string]string{"app": "other"}}
	d.Spec.Template.Labels = map[string]string{"app": "other"}
	_, err = deps.Update(ctx, d, store.WriteOptions{})
	require.ErrorIs(t, err, store.ErrInvalid)
	assert.Contains(t, fieldsOf(err), "spec.selector")

	// A Service keeps its cluster IP; an update without one is the allocator's to fill.
	svcs := store.For[*core.Service](st)
	svc, err := svcs.Get(ctx, apis.Key{Namespace: "default", Name: "gobackend"}, store.GetOptions{})
	require.NoError(t, err)
	svc.Spec.ClusterIP, svc.Spec.ClusterIPs = "10.96.0.50", []string{"10.96.0.50"}
	svc, err = svcs.Update(ctx, svc, store.WriteOptions{})
	require.NoError(t, err)
	svc.Spec.ClusterIP, svc.Spec.ClusterIPs = "10.96.0.51", []string{"10.96.0.51"}
	_, err = svcs.Update(ctx, svc, store.WriteOptions{})
	require.ErrorIs(t, err, store.ErrInvalid)
	assert.Contains(t, fieldsOf(err), "spec.clusterIP")

	// Pods: the scheduler binds with an update of spec.nodeName, the kubelet
	// writes status; other spec changes are refused.
	pods := store.For[*core.Pod](st)
	obj, _, err := codec.Decode(readManifest(t, "pod-configmap-volume.yaml"))
	require.NoError(t, err)
	pod := obj.(*core.Pod)
	pod.Namespace = "default"
	pod, err = pods.Create(ctx, pod, store.WriteOptions{})
	require.NoError(t, err)
	assert.Equal(t, core.PodPending, pod.Status.Phase)
	assert.Equal(t, core.PodQOSBestEffort, pod.Status.QOSClass)

	pod.Spec.NodeName = "node-1"
	pod, err = pods.Update(ctx, pod, store.WriteOptions{})
	require.NoError(t, err)
	pod.Status.Phase = core.PodRunning
	pod.Status.PodIP = "10.244.1.9"
	pod, err = pods.UpdateStatus(ctx, pod, store.WriteOptions{})
	require.NoError(t, err)
	assert.Equal(t, core.PodRunning, pod.Status.Phase)

	list, err := pods.List(ctx, store.ListOptions{Namespace: "default"})
	require.NoError(t, err)
	require.Len(t, list.Items, 1)

	pod.Spec.NodeName = "node-2"
	_, err = pods.Update(ctx, pod, store.WriteOptions{})
	require.ErrorIs(t, err, store.ErrInvalid)
	assert.Contains(t, fieldsOf(err), "spec.nodeName")

	// Invalid objects are refused with the field at fault, and nothing is stored.
	bad := &core.Service{ObjectMeta: apis.ObjectMeta{Name: "np", Namespace: "default"}, Spec: core.ServiceSpec{
		Type: core.ServiceTypeNodePort, Ports: []core.ServicePort{{Port: 80, NodePort: 29999}},
	}}
	_, err = svcs.Create(ctx, bad, store.WriteOptions{})
	require.ErrorIs(t, err, store.ErrInvalid)
	assert.Contains(t, fieldsOf(err), "spec.ports[0].nodePort")
	_, err = svcs.Get(ctx, apis.Key{Namespace: "default", Name: "np"}, store.GetOptions{})
	require.ErrorIs(t, err, store.ErrNotFound)

	// Cluster-scoped kinds refuse a namespace.
	_, err = store.For[*core.Node](st).Create(ctx, &core.Node{ObjectMeta: apis.ObjectMeta{Name: "node-1", Namespace: "default"}}, store.WriteOptions{})
	require.ErrorIs(t, err, store.ErrInvalid)
	n, err := store.For[*core.Node](st).Create(ctx, &core.Node{ObjectMeta: apis.ObjectMeta{Name: "node-1"}}, store.WriteOptions{})
	require.NoError(t, err)
	assert.Equal(t, "node-1", n.Name)
}
