package endpointslice_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/apis/discovery"
	"github.com/gantry-sdk/gantry/controllers/endpointslice"
	"github.com/gantry-sdk/gantry/informer"
	"github.com/gantry-sdk/gantry/store"
	"github.com/gantry-sdk/gantry/store/memory"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type env struct {
	s      store.Store
	pods   store.Typed[*core.Pod]
	svcs   store.Typed[*core.Service]
	slices store.Typed[*discovery.EndpointSlice]
}

func start(t *testing.T, opts endpointslice.Options) (context.Context, *env) {
	t.Helper()
	scheme := apis.NewScheme()
	require.NoError(t, core.AddToScheme(scheme))
	require.NoError(t, discovery.AddToScheme(scheme))
	kv := memory.New(memory.Options{})
	s, err := store.New(kv, scheme, store.Options{})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	f := informer.NewFactory(s, informer.FactoryOptions{})
	c, err := endpointslice.New(s, f, opts)
	require.NoError(t, err)
	f.Start(ctx)
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		f.Wait()
		_ = kv.Close()
	})
	return ctx, &env{s: s, pods: store.For[*core.Pod](s), svcs: store.For[*core.Service](s), slices: store.For[*discovery.EndpointSlice](s)}
}

func pod(name, ip string, ready bool, labels map[string]string) *core.Pod {
	p := &core.Pod{ObjectMeta: apis.ObjectMeta{Namespace: "default", Name: name, Labels: labels}}
	p.Spec.NodeName = "node-1"
	p.Spec.Containers = []core.Container{{Name: "c", Image: "img", Ports: []core.ContainerPort{{Name: "http", ContainerPort: 8080}}}}
	p.Status.PodIP = ip
	p.Status.Phase = core.PodRunning
	st := apis.ConditionFalse
	if ready {
		st = apis.ConditionTrue
	}
	p.Status.Conditions = []core.PodCondition{{Type: core.PodReady, Status: st}}
	return p
}

func (e *env) createPod(t *testing.T, ctx context.Context, p *core.Pod) {
	t.Helper()
	status := p.Status
	got, err := e.pods.Create(ctx, p, store.WriteOptions{})
	require.NoError(t, err)
	got.Status = status
	_, err = e.pods.UpdateStatus(ctx, got, store.WriteOptions{})
	require.NoError(t, err)
}

func (e *env) setReady(t *testing.T, ctx context.Context, name string, ready bool) {
	t.Helper()
	p, err := e.pods.Get(ctx, apis.Key{Namespace: "default", Name: name}, store.GetOptions{})
	require.NoError(t, err)
	st := apis.ConditionFalse
	if ready {
		st = apis.ConditionTrue
	}
	p.Status.Conditions = []core.PodCondition{{Type: core.PodReady, Status: st}}
	_, err = e.pods.UpdateStatus(ctx, p, store.WriteOptions{})
	require.NoError(t, err)
}

// endpoints is "ip ready/serving/terminating" for every endpoint of the
// service's slices, sorted, with the slice count.
func (e *env) endpoints(t *testing.T, ctx context.Context, svc string) ([]string, []*discovery.EndpointSlice) {
	t.Helper()
	l, err := e.slices.List(ctx, store.ListOptions{Namespace: "default"})
	require.NoError(t, err)
	var out []string
	var mine []*discovery.EndpointSlice
	for _, es := range l.Items {
		if es.Labels[discovery.LabelServiceName] != svc {
			continue
		}
		mine = append(mine, es)
		for _, ep := range es.Endpoints {
			out = append(out, fmt.Sprintf("%s %v/%v/%v", ep.Addresses[0], *ep.Conditions.Ready, *ep.Conditions.Serving, *ep.Conditions.Terminating))
		}
	}
	slices.Sort(out)
	return out, mine
}

func (e *env) waitEndpoints(t *testing.T, ctx context.Context, svc string, want ...string) []*discovery.EndpointSlice {
	t.Helper()
	slices.Sort(want)
	var got []string
	var es []*discovery.EndpointSlice
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		got, es = e.endpoints(t, ctx, svc)
		if slices.Equal(got, want) && len(es) > 0 {
			return es
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("endpoints of %s: got %q, want %q", svc, got, want)
	return nil
}

func service(name string, selector map[string]string, ports ...core.ServicePort) *core.Service {
	s := &core.Service{ObjectMeta: apis.ObjectMeta{Namespace: "default", Name: name}}
	s.Spec.Selector = selector
	s.Spec.ClusterIP = core.ClusterIPNone
	s.Spec.Ports = ports
	return s
}

func TestReadinessAndDeletes(t *testing.T) {
	ctx, e := start(t, endpointslice.Options{})
	web := map[string]string{"app": "web"}
	svc, err := e.svcs.Create(ctx, service("web", web,
		core.ServicePort{Name: "http", Port: 80, TargetPort: apis.IntOrStringFromString("http")},
		core.ServicePort{Name: "metrics", Port: 9090, TargetPort: apis.IntOrStringFromInt(9091)}), store.WriteOptions{})
	require.NoError(t, err)
	e.createPod(t, ctx, pod("web-0", "10.1.0.1", true, web))
	e.createPod(t, ctx, pod("web-1", "10.1.0.2", false, web))
	e.createPod(t, ctx, pod("other", "10.1.0.3", true, map[string]string{"app": "db"}))
	e.createPod(t, ctx, pod("no-ip", "", true, web))

	es := e.waitEndpoints(t, ctx, "web", "10.1.0.1 true/true/false", "10.1.0.2 false/false/false")
	require.Len(t, es, 1)
	s := es[0]
	assert.Equal(t, discovery.AddressTypeIPv4, s.AddressType)
	assert.Equal(t, endpointslice.ManagedBy, s.Labels[discovery.LabelManagedBy])
	require.Len(t, s.OwnerReferences, 1)
	assert.Equal(t, svc.UID, s.OwnerReferences[0].UID)
	assert.True(t, *s.OwnerReferences[0].Controller)
	ports := map[string]int32{}
	for _, p := range s.Ports {
		ports[*p.Name] = *p.Port
	}
	assert.Equal(t, map[string]int32{"http": 8080, "metrics": 9091}, ports) // the named port resolved
	ep := s.Endpoints[0]
	assert.Equal(t, "node-1", *ep.NodeName)
	assert.Equal(t, "Pod", ep.TargetRef.Kind)
	rv := s.ResourceVersion

	// A change that does not concern the service writes nothing.
	e.setReady(t, ctx, "other", false)
	e.createPod(t, ctx, pod("x", "10.1.0.9", true, map[string]string{"app": "x"}))
	time.Sleep(200 * time.Millisecond)
	_, es = e.endpoints(t, ctx, "web")
	require.Len(t, es, 1)
	assert.Equal(t, rv, es[0].ResourceVersion, "unchanged slice was rewritten")

	// Readiness flips.
	e.setReady(t, ctx, "web-0", false)
	e.setReady(t, ctx, "web-1", true)
	e.waitEndpoints(t, ctx, "web", "10.1.0.1 false/false/false", "10.1.0.2 true/true/false")

	// Labels changing moves a pod in and out.
	p, err := e.pods.Get(ctx, apis.Key{Namespace: "default", Name: "other"}, store.GetOptions{})
	require.NoError(t, err)
	p.Labels = web
	_, err = e.pods.Update(ctx, p, store.WriteOptions{})
	require.NoError(t, err)
	e.waitEndpoints(t, ctx, "web", "10.1.0.1 false/false/false", "10.1.0.2 true/true/false", "10.1.0.3 false/false/false")

	// A graceful delete marks the endpoint terminating; the final delete removes it.
	_, err = e.pods.Delete(ctx, apis.Key{Namespace: "default", Name: "web-1"}, store.DeleteOptions{})
	require.NoError(t, err)
	e.waitEndpoints(t, ctx, "web", "10.1.0.1 false/false/false", "10.1.0.2 false/true/true", "10.1.0.3 false/false/false")
	zero := int64(0)
	_, err = e.pods.Delete(ctx, apis.Key{Namespace: "default", Name: "web-1"}, store.DeleteOptions{GracePeriodSeconds: &zero})
	require.NoError(t, err)
	e.waitEndpoints(t, ctx, "web", "10.1.0.1 false/false/false", "10.1.0.3 false/false/false")

	// Deleting the Service deletes its slices.
	_, err = e.svcs.Delete(ctx, apis.KeyOf(svc), store.DeleteOptions{})
	require.NoError(t, err)
	require.Eventually(t, func() bool { _, es := e.endpoints(t, ctx, "web"); return len(es) == 0 }, 10*time.Second, 10*time.Millisecond)
}

func TestSplitsSlices(t *testing.T) {
	ctx, e := start(t, endpointslice.Options{MaxEndpointsPerSlice: 3})
	app := map[string]string{"app": "big"}
	_, err := e.svcs.Create(ctx, service("big", app, core.ServicePort{Name: "p", Port: 80}), store.WriteOptions{})
	require.NoError(t, err)
	var want []string
	for i := range 7 {
		e.createPod(t, ctx, pod(fmt.Sprintf("p%d", i), fmt.Sprintf("10.2.0.%d", i+1), true, app))
		want = append(want, fmt.Sprintf("10.2.0.%d true/true/false", i+1))
	}
	es := e.waitEndpoints(t, ctx, "big", want...)
	assert.Len(t, es, 3)
	for _, s := range es {
		assert.LessOrEqual(t, len(s.Endpoints), 3)
	}
}
