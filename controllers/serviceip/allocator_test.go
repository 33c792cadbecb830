package serviceip_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/controllers/serviceip"
	"github.com/gantry-sdk/gantry/store"
	"github.com/gantry-sdk/gantry/store/memory"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var testCIDR = netip.MustParsePrefix("127.100.0.0/16")

func newStore(t testing.TB, kv store.KV, opts serviceip.Options) (store.Typed[*core.Service], *serviceip.Allocator, store.Store) {
	t.Helper()
	scheme := apis.NewScheme()
	require.NoError(t, core.AddToScheme(scheme))
	alloc, err := serviceip.New(kv, opts)
	require.NoError(t, err)
	s, err := store.New(kv, scheme, store.Options{Mutating: []store.Admitter{alloc}})
	require.NoError(t, err)
	return store.For[*core.Service](s), alloc, s
}

func memKV(t testing.TB) store.KV {
	kv := memory.New(memory.Options{})
	t.Cleanup(func() { _ = kv.Close() })
	return kv
}

func svc(name, ip string, ports ...int32) *core.Service {
	s := &core.Service{ObjectMeta: apis.ObjectMeta{Namespace: "default", Name: name}}
	s.Spec.ClusterIP = ip
	s.Spec.Selector = map[string]string{"app": name}
	for i, p := range ports {
		s.Spec.Ports = append(s.Spec.Ports, core.ServicePort{Name: fmt.Sprintf("p%d", i), Port: p})
	}
	if len(ports) == 0 {
		s.Spec.Ports = []core.ServicePort{{Port: 80}}
	}
	return s
}

func nodePortSvc(name string, nodePorts ...int32) *core.Service {
	s := svc(name, "")
	s.Spec.Type = core.ServiceTypeNodePort
	s.Spec.Ports = nil
	for i, np := range nodePorts {
		s.Spec.Ports = append(s.Spec.Ports, core.ServicePort{Name: fmt.Sprintf("p%d", i), Port: int32(80 + i), NodePort: np})
	}
	return s
}

func fieldOf(t *testing.T, err error) string {
	t.Helper()
	require.Error(t, err)
	require.ErrorIs(t, err, store.ErrDenied)
	require.ErrorIs(t, err, store.ErrInvalid)
	errs := store.FieldErrors(err)
	require.Len(t, errs, 1, "%v", err)
	return errs[0].Field
}

func TestClusterIP(t *testing.T) {
	ctx := context.Background()
	services, _, _ := newStore(t, memKV(t), serviceip.Options{CIDR: testCIDR})

	auto, err := services.Create(ctx, svc("auto", ""), store.WriteOptions{})
	require.NoError(t, err)
	ip := netip.MustParseAddr(auto.Spec.ClusterIP)
	assert.True(t, testCIDR.Contains(ip), ip)
	assert.Equal(t, []string{auto.Spec.ClusterIP}, auto.Spec.ClusterIPs)

	req, err := services.Create(ctx, svc("requested", "127.100.0.10"), store.WriteOptions{})
	require.NoError(t, err)
	assert.Equal(t, "127.100.0.10", req.Spec.ClusterIP)

	_, err = services.Create(ctx, svc("taken", "127.100.0.10"), store.WriteOptions{})
	assert.Equal(t, "spec.clusterIP", fieldOf(t, err))
	assert.ErrorContains(t, err, "already allocated")

	for _, bad := range []string{"10.0.0.1", "127.100.0.0", "127.100.255.255"} {
		_, err = services.Create(ctx, svc("out", bad), store.WriteOptions{})
		assert.Equal(t, "spec.clusterIP", fieldOf(t, err), bad)
		assert.ErrorContains(t, err, "not in the valid range", bad)
	}

	headless, err := services.Create(ctx, svc("headless", core.ClusterIPNone), store.WriteOptions{})
	require.NoError(t, err)
	assert.Equal(t, core.ClusterIPNone, headless.Spec.ClusterIP)

	ext := svc("ext", "")
	ext.Spec.Type, ext.Spec.ExternalName, ext.Spec.Selector = core.ServiceTypeExternalName, "example.com", nil
	ext, err = services.Create(ctx, ext, store.WriteOptions{})
	require.NoError(t, err)
	assert.Empty(t, ext.Spec.ClusterIP)

	// An update that leaves clusterIP empty keeps the allocated one.
	auto.Spec.ClusterIP, auto.Spec.ClusterIPs = "", nil
	auto.Spec.Ports[0].Port = 81
	upd, err := services.Update(ctx, auto, store.WriteOptions{})
	require.NoError(t, err)
	assert.Equal(t, ip.String(), upd.Spec.ClusterIP)

	// Dry run reserves nothing.
	dry, err := services.Create(ctx, svc("dry", "127.100.0.20"), store.WriteOptions{DryRun: true})
	require.NoError(t, err)
	assert.Equal(t, "127.100.0.20", dry.Spec.ClusterIP)
	_, err = services.Create(ctx, svc("after-dry", "127.100.0.20"), store.WriteOptions{})
	require.NoError(t, err)
}

func TestReleaseOnDelete(t *testing.T) {
	ctx := context.Background()
	services, alloc, _ := newStore(t, memKV(t), serviceip.Options{CIDR: testCIDR})
	_, err := services.Create(ctx, svc("a", "127.100.0.10"), store.WriteOptions{})
	require.NoError(t, err)
	np, err := services.Create(ctx, nodePortSvc("np", 30080, 0), store.WriteOptions{})
	require.NoError(t, err)
	rs, err := alloc.Reservations(ctx)
	require.NoError(t, err)
	assert.Len(t, rs, 4) // two IPs, two node ports

	_, err = services.Delete(ctx, apis.Key{Namespace: "default", Name: "a"}, store.DeleteOptions{})
	require.NoError(t, err)
	_, err = services.Delete(ctx, apis.KeyOf(np), store.DeleteOptions{})
	require.NoError(t, err)
	rs, err = alloc.Reservations(ctx)
	require.NoError(t, err)
	assert.Empty(t, rs)

	// Both are free again.
	_, err = services.Create(ctx, svc("b", "127.100.0.10"), store.WriteOptions{})
	require.NoError(t, err)
	_, err = services.Create(ctx, nodePortSvc("np2", 30080), store.WriteOptions{})
	require.NoError(t, err)
}

func TestNodePorts(t *testing.T) {
	ctx := context.Background()
	services, alloc, _ := newStore(t, memKV(t), serviceip.Options{CIDR: testCIDR})

	s, err := services.Create(ctx, nodePortSvc("np", 0, 30080), store.WriteOptions{})
	require.NoError(t, err)
	auto := s.Spec.Ports[0].NodePort
	assert.GreaterOrEqual(t, auto, int32(30000))
	assert.LessOrEqual(t, auto, int32(32767))
	assert.Equal(t, int32(30080), s.Spec.Ports[1].NodePort)

	_, err = services.Create(ctx, nodePortSvc("clash", 30081, 30080), store.WriteOptions{})
	assert.Equal(t, "spec.ports[1].nodePort", fieldOf(t, err))
	_, err = services.Create(ctx, nodePortSvc("low", 80), store.WriteOptions{})
	assert.Equal(t, "spec.ports[0].nodePort", fieldOf(t, err))
	// The refused create gave back what it had reserved (30081 and its IP).
	_, err = services.Create(ctx, nodePortSvc("ok", 30081), store.WriteOptions{})
	require.NoError(t, err)

	// An update that leaves nodePort empty keeps it; switching to ClusterIP releases it.
	s.Spec.Ports[0].NodePort = 0
	s, err = services.Update(ctx, s, store.WriteOptions{})
	require.NoError(t, err)
	assert.Equal(t, auto, s.Spec.Ports[0].NodePort)
	s.Spec.Type = core.ServiceTypeClusterIP
	s.Spec.ExternalTrafficPolicy = ""
	s, err = services.Update(ctx, s, store.WriteOptions{})
	require.NoError(t, err)
	assert.Zero(t, s.Spec.Ports[0].NodePort)
	rs, err := alloc.Reservations(ctx)
	require.NoError(t, err)
	for _, r := range rs {
		assert.NotEqual(t, int32(30080), r.NodePort)
		assert.NotEqual(t, auto, r.NodePort)
	}
}

// Many goroutines create Services at once, half of them asking for the same
// few addresses: every address is held by one Service only, and exactly one
// create wins each requested address.
func TestConcurrentCreates(t *testing.T) {
	ctx := context.Background()
	kv := memKV(t)
	// Two allocators over one KV: as two API processes.
	services1, _, _ := newStore(t, kv, serviceip.Options{CIDR: netip.MustParsePrefix("127.100.0.0/24")})
	services2, _, _ := newStore(t, kv, serviceip.Options{CIDR: netip.MustParsePrefix("127.100.0.0/24")})
	const n = 120
	var wg sync.WaitGroup
	ips := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := svc(fmt.Sprintf("s%d", i), "")
			if i%2 == 1 {
				s.Spec.ClusterIP = fmt.Sprintf("127.100.0.%d", 1+i%5)
			}
			services := services1
			if i%3 == 0 {
				services = services2
			}
			got, err := services.Create(ctx, s, store.WriteOptions{})
			errs[i] = err
			if err == nil {
				ips[i] = got.Spec.ClusterIP
			}
		}()
	}
	wg.Wait()
	seen := map[string]int{}
	for i := range n {
		if errs[i] != nil {
			require.Equal(t, 1, i%2, "automatic allocation failed: %v", errs[i])
			require.Equal(t, "spec.clusterIP", fieldOf(t, errs[i]))
			continue
		}
		seen[ips[i]]++
	}
	for ip, c := range seen {
		assert.Equal(t, 1, c, "%s held by %d services", ip, c)
	}
	// Every automatic create succeeded; a requested address has at most one
	// winner (none if an automatic create took it first).
	won := 0
	for i := 1; i < n; i += 2 {
		if errs[i] == nil {
			won++
		}
	}
	assert.Len(t, seen, n/2+won)
	assert.LessOrEqual(t, won, 5)
	assert.Positive(t, won)
}

func TestFull(t *testing.T) {
	ctx := context.Background()
	services, _, _ := newStore(t, memKV(t), serviceip.Options{CIDR: netip.MustParsePrefix("127.100.0.0/29"), NodePortMin: 30000, NodePortMax: 30001})
	for i := range 6 {
		_, err := services.Create(ctx, svc(fmt.Sprintf("s%d", i), ""), store.WriteOptions{})
		require.NoError(t, err)
	}
	_, err := services.Create(ctx, svc("one-too-many", ""), store.WriteOptions{})
	require.ErrorIs(t, err, serviceip.ErrFull)
	require.ErrorIs(t, err, store.ErrDenied)

	_, err = services.Delete(ctx, apis.Key{Namespace: "default", Name: "s0"}, store.DeleteOptions{})
	require.NoError(t, err)
	_, err = services.Create(ctx, nodePortSvc("np", 0, 0), store.WriteOptions{})
	require.NoError(t, err)
	_, err = services.Create(ctx, nodePortSvc("np2", 0), store.WriteOptions{})
	require.ErrorIs(t, err, serviceip.ErrFull) // no IP left either way
}

// A restart over the same durable KV keeps every allocation.
func TestRestartKeepsAllocations(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	kv, err := memory.Open(dir, memory.Options{})
	require.NoError(t, err)
	services, _, _ := newStore(t, kv, serviceip.Options{CIDR: testCIDR})
	a, err := services.Create(ctx, svc("a", ""), store.WriteOptions{})
	require.NoError(t, err)
	np, err := services.Create(ctx, nodePortSvc("np", 0), store.WriteOptions{})
	require.NoError(t, err)
	require.NoError(t, kv.Close())

	kv, err = memory.Open(dir, memory.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = kv.Close() })
	services, _, _ = newStore(t, kv, serviceip.Options{CIDR: testCIDR})
	_, err = services.Create(ctx, svc("b", a.Spec.ClusterIP), store.WriteOptions{})
	assert.Equal(t, "spec.clusterIP", fieldOf(t, err))
	_, err = services.Create(ctx, nodePortSvc("np2", np.Spec.Ports[0].NodePort), store.WriteOptions{})
	assert.Equal(t, "spec.ports[0].nodePort", fieldOf(t, err))
}

// A create the store refuses after admission leaves a reservation; Repair frees it.
func TestRepair(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1_000_000, 0)
	clock := func() time.Time { return now }
	services, alloc, s := newStore(t, memKV(t), serviceip.Options{CIDR: testCIDR, Clock: clock, RepairGrace: time.Minute})
	_, err := services.Create(ctx, svc("kept", "127.100.0.5"), store.WriteOptions{})
	require.NoError(t, err)
	bad := svc("bad", "127.100.0.6")
	bad.Spec.Ports[0].Port = -1 // refused by validation, after the allocator ran
	_, err = services.Create(ctx, bad, store.WriteOptions{})
	require.ErrorIs(t, err, store.ErrInvalid)
	_, err = services.Create(ctx, svc("other", "127.100.0.6"), store.WriteOptions{})
	require.Error(t, err)
	assert.False(t, errors.Is(err, serviceip.ErrFull))

	// Young reservations may belong to creates in flight: left alone.
	freed, err := alloc.Repair(ctx, s)
	require.NoError(t, err)
	assert.Equal(t, 0, freed)
	now = now.Add(2 * time.Minute)
	freed, err = alloc.Repair(ctx, s)
	require.NoError(t, err)
	assert.Equal(t, 1, freed)
	_, err = services.Create(ctx, svc("other", "127.100.0.6"), store.WriteOptions{})
	require.NoError(t, err)
}

// More automatic creates than addresses and node ports, at once: every free
// value goes to exactly one Service and the rest are refused with ErrFull.
func TestConcurrentExhaustion(t *testing.T) {
	ctx := context.Background()
	services, alloc, _ := newStore(t, memKV(t), serviceip.Options{
		CIDR: netip.MustParsePrefix("127.100.0.0/28"), NodePortMin: 30000, NodePortMax: 30019,
	})
	const n = 30
	var wg sync.WaitGroup
	errs := make([]error, n)
	got := make([]*core.Service, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = services.Create(ctx, nodePortSvc(fmt.Sprintf("s%d", i), 0), store.WriteOptions{})
		}()
	}
	wg.Wait()
	ips, ports := map[string]bool{}, map[int32]bool{}
	ok := 0
	for i := range n {
		if errs[i] != nil {
			require.ErrorIs(t, errs[i], serviceip.ErrFull)
			continue
		}
		ok++
		require.False(t, ips[got[i].Spec.ClusterIP], "IP %s twice", got[i].Spec.ClusterIP)
		require.False(t, ports[got[i].Spec.Ports[0].NodePort], "port %d twice", got[i].Spec.Ports[0].NodePort)
		ips[got[i].Spec.ClusterIP], ports[got[i].Spec.Ports[0].NodePort] = true, true
	}
	assert.Equal(t, 14, ok) // a /28 less network and broadcast
	rs, err := alloc.Reservations(ctx)
	require.NoError(t, err)
	assert.Len(t, rs, 2*14, "refused creates gave back what they had reserved")
}
