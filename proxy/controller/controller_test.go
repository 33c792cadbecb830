package controller_test

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/apis/discovery"
	"github.com/gantry-sdk/gantry/controllers/endpointslice"
	"github.com/gantry-sdk/gantry/controllers/serviceip"
	"github.com/gantry-sdk/gantry/informer"
	"github.com/gantry-sdk/gantry/proxy"
	"github.com/gantry-sdk/gantry/proxy/controller"
	"github.com/gantry-sdk/gantry/proxy/datapath"
	"github.com/gantry-sdk/gantry/proxy/ebpf"
	"github.com/gantry-sdk/gantry/proxy/nftables"
	"github.com/gantry-sdk/gantry/proxy/proxytest"
	"github.com/gantry-sdk/gantry/store"
	"github.com/gantry-sdk/gantry/store/memory"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var nodeAddr = netip.MustParseAddr("127.0.0.1")

type tabler interface{ Table() *proxy.Table }

// cluster is a store with the allocators, the EndpointSlice controller and
// the proxy controller over a real datapath, and this process inside the
// datapath's cgroup.
type cluster struct {
	s    store.Store
	svcs store.Typed[*core.Service]
	pods store.Typed[*core.Pod]
	dp   proxy.Datapath
}

var tableSeq int

func newDatapath(t testing.TB) (proxy.Datapath, func()) {
	t.Helper()
	proxytest.RequireRoot(t)
	proxytest.RequireTool(t, "nft")
	if err := ebpf.Probe(); err != nil {
		proxytest.Unavailable(t, "%v", err)
	}
	root, err := ebpf.CgroupRoot()
	require.NoError(t, err)
	cg := proxytest.NewCgroup(t, root)
	tableSeq++
	dp, _, err := datapath.New(context.Background(), logr.Discard(), datapath.Options{
		Force: datapath.EBPF, EBPF: ebpf.Options{CgroupPath: cg.Path},
		NFTables: nftables.Options{Table: fmt.Sprintf("gantry-svc-%d", tableSeq)},
	})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, dp.Close()) })
	return dp, func() { cg.Enter(t) }
}

func newCluster(t testing.TB, dp proxy.Datapath, opts controller.Options) *cluster {
	t.Helper()
	scheme := apis.NewScheme()
	require.NoError(t, core.AddToScheme(scheme))
	require.NoError(t, discovery.AddToScheme(scheme))
	kv := memory.New(memory.Options{})
	alloc, err := serviceip.New(kv, serviceip.Options{CIDR: netip.MustParsePrefix("127.100.0.0/16")})
	require.NoError(t, err)
	s, err := store.New(kv, scheme, store.Options{Mutating: []store.Admitter{alloc}})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	f := informer.NewFactory(s, informer.FactoryOptions{})
	es, err := endpointslice.New(s, f, endpointslice.Options{})
	require.NoError(t, err)
	opts.NodeAddrs = []netip.Addr{nodeAddr}
	pc, err := controller.New(dp, f, opts)
	require.NoError(t, err)
	f.Start(ctx)
	done := make(chan error, 2)
	go func() { done <- es.Run(ctx) }()
	go func() { done <- pc.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		<-done
		f.Wait()
		_ = kv.Close()
	})
	return &cluster{s: s, svcs: store.For[*core.Service](s), pods: store.For[*core.Pod](s), dp: dp}
}

func (c *cluster) addPod(t testing.TB, name string, backend netip.AddrPort, labels map[string]string) {
	t.Helper()
	ctx := context.Background()
	p := &core.Pod{ObjectMeta: apis.ObjectMeta{Namespace: "default", Name: name, Labels: labels}}
	p.Spec.NodeName = "node-1"
	p.Spec.Containers = []core.Container{{Name: "c", Image: "img", Ports: []core.ContainerPort{
		{Name: "http", ContainerPort: int32(backend.Port())},
		{Name: "dns", ContainerPort: int32(backend.Port()), Protocol: core.ProtocolUDP},
	}}}
	got, err := c.pods.Create(ctx, p, store.WriteOptions{})
	require.NoError(t, err)
	got.Status.Phase = core.PodRunning
	got.Status.PodIP = backend.Addr().String()
	got.Status.Conditions = []core.PodCondition{{Type: core.PodReady, Status: apis.ConditionTrue}}
	_, err = c.pods.UpdateStatus(ctx, got, store.WriteOptions{})
	require.NoError(t, err)
}

func (c *cluster) setReady(t *testing.T, name string, ready bool) {
	t.Helper()
	ctx := context.Background()
	p, err := c.pods.Get(ctx, apis.Key{Namespace: "default", Name: name}, store.GetOptions{})
	require.NoError(t, err)
	st := apis.ConditionFalse
	if ready {
		st = apis.ConditionTrue
	}
	p.Status.Conditions = []core.PodCondition{{Type: core.PodReady, Status: st}}
	_, err = c.pods.UpdateStatus(ctx, p, store.WriteOptions{})
	require.NoError(t, err)
}

// reaches asks addr until the set of backends answering is exactly want
// (each seen, none other in the last 30 answers).
func reaches(t *testing.T, addr netip.AddrPort, want ...netip.AddrPort) {
	t.Helper()
	wantSet := map[netip.AddrPort]bool{}
	for _, w := range want {
		wantSet[w] = true
	}
	deadline := time.Now().Add(10 * time.Second)
	var last []netip.AddrPort
	for time.Now().Before(deadline) {
		seen := map[netip.AddrPort]bool{}
		ok := true
		last = last[:0]
		for range 30 {
			b, peer, err := proxytest.AskTCP(addr)
			if err != nil {
				ok = false
				break
			}
			require.Equal(t, addr, peer, "getpeername shows the VIP")
			last = append(last, b)
			if !wantSet[b] {
				ok = false
				break
			}
			seen[b] = true
		}
		if ok && len(seen) == len(wantSet) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s: want backends %v, last answers %v", addr, want, last)
}

func TestEndToEnd(t *testing.T) {
	dp, enter := newDatapath(t)
	c := newCluster(t, dp, controller.Options{})
	ctx := context.Background()
	var backends []*proxytest.Server
	for i := range 3 {
		backends = append(backends, proxytest.Serve(t, netip.AddrFrom4([4]byte{127, 0, 0, byte(2 + i)})))
	}
	app := map[string]string{"app": "web"}
	svc := &core.Service{ObjectMeta: apis.ObjectMeta{Namespace: "default", Name: "web"}}
	svc.Spec.ClusterIP = "127.100.3.10"
	svc.Spec.Type = core.ServiceTypeNodePort
	svc.Spec.Selector = app
	svc.Spec.Ports = []core.ServicePort{
		{Name: "http", Port: 80, TargetPort: apis.IntOrStringFromString("http")},
		{Name: "dns", Port: 53, Protocol: core.ProtocolUDP, TargetPort: apis.IntOrStringFromString("dns")},
	}
	svc, err := c.svcs.Create(ctx, svc, store.WriteOptions{})
	require.NoError(t, err)
	for i, b := range backends {
		c.addPod(t, fmt.Sprintf("web-%d", i), b.Addr, app)
	}
	enter()
	vip := netip.MustParseAddrPort("127.100.3.10:80")
	reaches(t, vip, backends[0].Addr, backends[1].Addr, backends[2].Addr)
	// UDP and the NodePort frontend on the node address.
	got, from, err := proxytest.AskUDP(netip.MustParseAddrPort("127.100.3.10:53"))
	require.NoError(t, err)
	assert.Contains(t, []netip.AddrPort{backends[0].Addr, backends[1].Addr, backends[2].Addr}, got)
	assert.Equal(t, "127.100.3.10:53", from.String())
	reaches(t, netip.AddrPortFrom(nodeAddr, uint16(svc.Spec.Ports[0].NodePort)), backends[0].Addr, backends[1].Addr, backends[2].Addr)

	// A pod turning unready leaves the rotation, and comes back.
	c.setReady(t, "web-1", false)
	reaches(t, vip, backends[0].Addr, backends[2].Addr)
	c.setReady(t, "web-1", true)
	reaches(t, vip, backends[0].Addr, backends[1].Addr, backends[2].Addr)

	// Deleting a pod stops traffic to it.
	zero := int64(0)
	_, err = c.pods.Delete(ctx, apis.Key{Namespace: "default", Name: "web-2"}, store.DeleteOptions{GracePeriodSeconds: &zero})
	require.NoError(t, err)
	reaches(t, vip, backends[0].Addr, backends[1].Addr)

	// Session affinity: every connection from this client goes to one backend.
	svc, err = c.svcs.Get(ctx, apis.KeyOf(svc), store.GetOptions{})
	require.NoError(t, err)
	timeout := int32(60)
	svc.Spec.SessionAffinity = core.ServiceAffinityClientIP
	svc.Spec.SessionAffinityConfig = &core.SessionAffinityConfig{ClientIP: &core.ClientIPConfig{TimeoutSeconds: &timeout}}
	_, err = c.svcs.Update(ctx, svc, store.WriteOptions{})
	require.NoError(t, err)
	tbl := dp.(tabler).Table()
	require.Eventually(t, func() bool {
		e, ok := dp.(tabler).Table().Get(proxy.Frontend{Kind: proxy.ClusterIP, Addr: vip.Addr(), Port: 80, Protocol: proxy.TCP})
		return ok && e.Service.Affinity == proxy.Affinity{ClientIP: true, Timeout: time.Minute}
	}, 10*time.Second, 10*time.Millisecond)
	_ = tbl
	first, _, err := proxytest.AskTCP(vip)
	require.NoError(t, err)
	for range 20 {
		b, _, err := proxytest.AskTCP(vip)
		require.NoError(t, err)
		require.Equal(t, first, b)
	}

	// Deleting the Service removes every frontend.
	_, err = c.svcs.Delete(ctx, apis.KeyOf(svc), store.DeleteOptions{})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return dp.(tabler).Table().Len() == 0 }, 10*time.Second, 10*time.Millisecond)
}

// Services that exist before the controller starts are programmed by the
// initial Sync; headless and ExternalName ones are skipped.
func TestInitialSync(t *testing.T) {
	dp, _ := newDatapath(t)
	// Something stale in the datapath, left by a previous run: Sync removes it.
	stale := proxy.Frontend{Addr: netip.MustParseAddr("127.100.9.9"), Port: 9, Protocol: proxy.TCP}
	require.NoError(t, dp.Apply(context.Background(), []proxy.ServiceChange{{Service: proxy.Service{Frontend: stale}}}))

	scheme := apis.NewScheme()
	require.NoError(t, core.AddToScheme(scheme))
	require.NoError(t, discovery.AddToScheme(scheme))
	kv := memory.New(memory.Options{})
	defer kv.Close()
	alloc, err := serviceip.New(kv, serviceip.Options{CIDR: netip.MustParsePrefix("127.100.0.0/16")})
	require.NoError(t, err)
	s, err := store.New(kv, scheme, store.Options{Mutating: []store.Admitter{alloc}})
	require.NoError(t, err)
	ctx := context.Background()
	svcs := store.For[*core.Service](s)
	mk := func(name, ip string, typ core.ServiceType) {
		v := &core.Service{ObjectMeta: apis.ObjectMeta{Namespace: "default", Name: name}}
		v.Spec.ClusterIP, v.Spec.Type = ip, typ
		v.Spec.Ports = []core.ServicePort{{Port: 80}}
		if typ == core.ServiceTypeExternalName {
			v.Spec.ExternalName, v.Spec.Ports = "example.com", nil
		}
		_, err := svcs.Create(ctx, v, store.WriteOptions{})
		require.NoError(t, err)
	}
	mk("a", "", "")
	mk("b", "", "")
	mk("headless", core.ClusterIPNone, "")
	mk("ext", "", core.ServiceTypeExternalName)

	applied := make(chan int, 10)
	runCtx, cancel := context.WithCancel(ctx)
	f := informer.NewFactory(s, informer.FactoryOptions{})
	pc, err := controller.New(dp, f, controller.Options{OnApplied: func(n int) { applied <- n }})
	require.NoError(t, err)
	f.Start(runCtx)
	done := make(chan error, 1)
	go func() { done <- pc.Run(runCtx) }()
	defer func() { cancel(); <-done; f.Wait() }()
	select {
	case n := <-applied:
		assert.Equal(t, 2, n, "one frontend for each of a and b")
	case <-time.After(10 * time.Second):
		t.Fatal("no sync")
	}
	tbl := dp.(tabler).Table()
	assert.Equal(t, 2, tbl.Len())
	_, ok := tbl.Get(stale)
	assert.False(t, ok, "sync removed the stale frontend")
	// Nothing more is applied: the replayed adds match what Sync programmed.
	select {
	case n := <-applied:
		t.Fatalf("unexpected apply of %d changes after sync", n)
	case <-time.After(300 * time.Millisecond):
	}
}
