package ebpf_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/gantry-sdk/gantry/apis/field"
	"github.com/gantry-sdk/gantry/proxy"
	"github.com/gantry-sdk/gantry/proxy/ebpf"
	"github.com/gantry-sdk/gantry/proxy/proxytest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// newDatapath attaches a datapath to a fresh child cgroup and moves this
// process into it for the rest of the test.
func newDatapath(t testing.TB, opts ebpf.Options) *ebpf.Datapath {
	t.Helper()
	proxytest.RequireRoot(t)
	if err := ebpf.Probe(); err != nil {
		proxytest.Unavailable(t, "%v", err)
	}
	root, err := ebpf.CgroupRoot()
	require.NoError(t, err)
	cg := proxytest.NewCgroup(t, root)
	opts.CgroupPath = cg.Path
	d, err := ebpf.New(opts)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, d.Close()) })
	cg.Enter(t)
	return d
}

func ready(ss ...*proxytest.Server) []proxy.Backend {
	out := make([]proxy.Backend, len(ss))
	for i, s := range ss {
		out[i] = proxy.Backend{Addr: s.Addr, Ready: true, Serving: true}
	}
	return out
}

var ctx = context.Background()

func lo(n byte) netip.Addr { return netip.AddrFrom4([4]byte{127, 0, 0, n}) }

func TestConnectThroughVIP(t *testing.T) {
	d := newDatapath(t, ebpf.Options{})
	b := proxytest.Serve(t, lo(2))
	vip := proxy.Frontend{Addr: netip.MustParseAddr("127.100.3.1"), Port: 80, Protocol: proxy.TCP}
	require.NoError(t, d.Apply(ctx, []proxy.ServiceChange{{Service: proxy.Service{Frontend: vip, Backends: ready(b)}}}))
	got, peer, err := proxytest.AskTCP(vip.AddrPort())
	require.NoError(t, err)
	assert.Equal(t, b.Addr, got)
	assert.Equal(t, vip.AddrPort(), peer)
}

// A service replaced again and again while connections go on: every connect
// reaches a backend of the old set or of the new one, never fails, and each
// set is reached.
func TestReplacementIsAtomic(t *testing.T) {
	d := newDatapath(t, ebpf.Options{})
	// Two backends (inline in the service entry) and six (in the backend
	// map): every replacement also switches representation.
	a := []*proxytest.Server{proxytest.Serve(t, lo(2)), proxytest.Serve(t, lo(3))}
	var b []*proxytest.Server
	for i := range 6 {
		b = append(b, proxytest.Serve(t, lo(byte(4+i))))
	}
	valid := map[netip.AddrPort]bool{}
	for _, s := range append(append([]*proxytest.Server{}, a...), b...) {
		valid[s.Addr] = true
	}
	vip := proxy.Frontend{Addr: netip.MustParseAddr("127.100.3.2"), Port: 80, Protocol: proxy.TCP}
	sets := [][]proxy.Backend{ready(a...), ready(b...)}
	require.NoError(t, d.Apply(ctx, []proxy.ServiceChange{{Service: proxy.Service{Frontend: vip, Backends: sets[0]}}}))

	var (
		stop  atomic.Bool
		wg    sync.WaitGroup
		conns atomic.Int64
		seen  sync.Map
		bad   = make(chan error, 1)
	)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				got, _, err := proxytest.AskTCP(vip.AddrPort())
				if err == nil && !valid[got] {
					err = errors.New("unknown backend " + got.String())
				}
				if err != nil {
					select {
					case bad <- err:
					default:
					}
					return
				}
				conns.Add(1)
				seen.Store(got, true)
			}
		}()
	}
	reached := func(ss []*proxytest.Server) bool {
		for _, s := range ss {
			if _, ok := seen.Load(s.Addr); ok {
				return true
			}
		}
		return false
	}
	// At least 400 replacements, and on until connections reached both sets
	// (bounded, for a very slow machine).
	deadline := time.Now().Add(20 * time.Second)
	for i := 0; i < 400 || (!(reached(a) && reached(b)) && time.Now().Before(deadline)); i++ {
		require.NoError(t, d.Apply(ctx, []proxy.ServiceChange{{Service: proxy.Service{Frontend: vip, Backends: sets[i%2]}}}))
	}
	stop.Store(true)
	wg.Wait()
	select {
	case err := <-bad:
		t.Fatalf("a connect during replacement failed: %v", err)
	default:
	}
	assert.Positive(t, conns.Load())
	assert.True(t, reached(a) && reached(b), "connections reached both sets")
}

func TestUDPPerSocket(t *testing.T) {
	d := newDatapath(t, ebpf.Options{})
	ss := []*proxytest.Server{proxytest.Serve(t, lo(2)), proxytest.Serve(t, lo(3)), proxytest.Serve(t, lo(4))}
	vip := proxy.Frontend{Addr: netip.MustParseAddr("127.100.3.3"), Port: 53, Protocol: proxy.UDP}
	require.NoError(t, d.Apply(ctx, []proxy.ServiceChange{{Service: proxy.Service{Frontend: vip, Backends: ready(ss...)}}}))
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	defer c.Close()
	seen := map[string]int{}
	buf := make([]byte, 100)
	for range 10 {
		_, err := c.WriteToUDPAddrPort([]byte("?"), vip.AddrPort())
		require.NoError(t, err)
		require.NoError(t, c.SetReadDeadline(time.Now().Add(3*time.Second)))
		n, from, err := c.ReadFromUDPAddrPort(buf)
		require.NoError(t, err)
		assert.Equal(t, vip.AddrPort(), from)
		seen[string(buf[:n])]++
	}
	assert.Len(t, seen, 1, "one socket, one backend: %v", seen)
}

func TestInvalidChangeAppliesNothing(t *testing.T) {
	d := newDatapath(t, ebpf.Options{})
	good := proxy.Service{Frontend: proxy.Frontend{Addr: lo(100), Port: 80, Protocol: proxy.TCP}}
	bad := proxy.Service{Frontend: proxy.Frontend{Addr: lo(101), Port: 80, Protocol: proxy.TCP},
		Backends: []proxy.Backend{{Addr: netip.MustParseAddrPort("[::1]:80"), Ready: true}}}
	err := d.Apply(ctx, []proxy.ServiceChange{{Service: good}, {Service: bad}})
	require.ErrorIs(t, err, proxy.ErrInvalid)
	require.NotEmpty(t, field.AsList(err))
	assert.Equal(t, "backends[0].addr", field.AsList(err)[0].Field)
	assert.Zero(t, d.Table().Len())
}

func TestFull(t *testing.T) {
	d := newDatapath(t, ebpf.Options{MaxBackends: 4})
	s := proxy.Service{Frontend: proxy.Frontend{Addr: lo(100), Port: 80, Protocol: proxy.TCP}}
	for i := range 5 {
		s.Backends = append(s.Backends, proxy.Backend{Addr: netip.AddrPortFrom(lo(2), uint16(8000+i)), Ready: true})
	}
	require.ErrorIs(t, d.Apply(ctx, []proxy.ServiceChange{{Service: s}}), proxy.ErrFull)
	assert.Zero(t, d.Table().Len())
	s.Backends = s.Backends[:2]
	require.NoError(t, d.Apply(ctx, []proxy.ServiceChange{{Service: s}}))
	assert.Equal(t, 1, d.Table().Len())

	d2 := newDatapath(t, ebpf.Options{MaxServices: 2})
	var changes []proxy.ServiceChange
	for i := range 3 {
		changes = append(changes, proxy.ServiceChange{Service: proxy.Service{
			Frontend: proxy.Frontend{Addr: lo(byte(100 + i)), Port: 80, Protocol: proxy.TCP}}})
	}
	require.ErrorIs(t, d2.Apply(ctx, changes), proxy.ErrFull)
	require.NoError(t, d2.Apply(ctx, changes[:2]))
	require.ErrorIs(t, d2.Apply(ctx, changes[2:]), proxy.ErrFull)
	require.NoError(t, d2.Apply(ctx, []proxy.ServiceChange{{Op: proxy.Delete, Service: changes[0].Service}}))
	require.NoError(t, d2.Apply(ctx, changes[2:]), "a deleted service frees its room")
}

func TestCloseDetaches(t *testing.T) {
	proxytest.RequireRoot(t)
	if err := ebpf.Probe(); err != nil {
		proxytest.Unavailable(t, "%v", err)
	}
	root, err := ebpf.CgroupRoot()
	require.NoError(t, err)
	cg := proxytest.NewCgroup(t, root)
	d, err := ebpf.New(ebpf.Options{CgroupPath: cg.Path})
	require.NoError(t, err)
	cg.Enter(t)
	b := proxytest.Serve(t, lo(2))
	vip := proxy.Frontend{Addr: netip.MustParseAddr("127.100.3.4"), Port: 80, Protocol: proxy.TCP}
	require.NoError(t, d.Apply(ctx, []proxy.ServiceChange{{Service: proxy.Service{Frontend: vip, Backends: ready(b)}}}))
	_, _, err = proxytest.AskTCP(vip.AddrPort())
	require.NoError(t, err)
	require.NoError(t, d.Close())
	_, _, err = proxytest.AskTCP(vip.AddrPort())
	assert.ErrorIs(t, err, syscall.ECONNREFUSED, "detached: the VIP itself answers nothing")
	assert.ErrorIs(t, d.Apply(ctx, nil), proxy.ErrClosed)
}
