package proxytest

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/proxy"
)

// Harness adapts one datapath to the Suite.
type Harness struct {
	// New returns a fresh datapath for one subtest (closed by its cleanups)
	// and a function that puts this process where the datapath translates its
	// sockets (for eBPF: into the attached cgroup; it leaves at cleanup).
	New func(t *testing.T) (dp proxy.Datapath, enterClient func())
	// VIPs is a /24 inside 127.100.0.0/16 that no other test uses at the same time.
	VIPs netip.Prefix
	// NoBackendErr is how a local TCP connect to a service without backends fails.
	NoBackendErr syscall.Errno
}

// Run is the behaviour every Datapath must show, on loopback addresses and in
// network namespaces it creates.
func Run(t *testing.T, h Harness) {
	vip := h.VIPs.Addr()
	nextVIP := func() netip.Addr { vip = vip.Next(); return vip }
	ctx := context.Background()
	loop := func(n byte) netip.Addr { return netip.AddrFrom4([4]byte{127, 0, 0, n}) }

	// three backends on three loopback addresses
	servers := func(t *testing.T) []*Server {
		return []*Server{Serve(t, loop(2)), Serve(t, loop(3)), Serve(t, loop(4))}
	}
	backends := func(ss []*Server) []proxy.Backend {
		out := make([]proxy.Backend, len(ss))
		for i, s := range ss {
			out[i] = proxy.Backend{Addr: s.Addr, Ready: true, Serving: true}
		}
		return out
	}
	upsert := func(t *testing.T, dp proxy.Datapath, s proxy.Service) {
		t.Helper()
		require.NoError(t, dp.Apply(ctx, []proxy.ServiceChange{{Service: s}}))
	}
	// askN connects n times and counts answers by backend; every connection
	// must report the VIP as its peer.
	askN := func(t *testing.T, f proxy.Frontend, n int) map[netip.AddrPort]int {
		t.Helper()
		seen := map[netip.AddrPort]int{}
		for range n {
			got, peer, err := AskTCP(f.AddrPort())
			require.NoError(t, err)
			require.Equal(t, f.AddrPort(), peer, "getpeername shows the service address")
			seen[got]++
		}
		return seen
	}
	tcp := func(a netip.Addr, port uint16) proxy.Frontend {
		return proxy.Frontend{Addr: a, Port: port, Protocol: proxy.TCP}
	}

	t.Run("Spread", func(t *testing.T) {
		dp, enter := h.New(t)
		ss := servers(t)
		f := tcp(nextVIP(), 80)
		upsert(t, dp, proxy.Service{Frontend: f, Backends: backends(ss)})
		enter()
		seen := askN(t, f, 60)
		for _, s := range ss {
			assert.Positive(t, seen[s.Addr], "backend %s got no connection: %v", s.Addr, seen)
		}
	})

	t.Run("UDPBothWays", func(t *testing.T) {
		dp, enter := h.New(t)
		ss := servers(t)
		f := proxy.Frontend{Addr: nextVIP(), Port: 53, Protocol: proxy.UDP}
		upsert(t, dp, proxy.Service{Frontend: f, Backends: backends(ss)})
		enter()
		seen := map[netip.AddrPort]int{}
		for range 30 {
			got, from, err := AskUDP(f.AddrPort())
			require.NoError(t, err)
			require.Equal(t, f.AddrPort(), from, "the reply comes from the service address")
			seen[got]++
		}
		// eBPF picks by socket cookie, nftables at random: either way 30
		// sockets land on more than one backend.
		assert.GreaterOrEqual(t, len(seen), 2, "unconnected sockets spread: %v", seen)
		got, peer, from, err := AskConnectedUDP(f.AddrPort())
		require.NoError(t, err)
		assert.Contains(t, []netip.AddrPort{ss[0].Addr, ss[1].Addr, ss[2].Addr}, got)
		assert.Equal(t, f.AddrPort(), peer)
		assert.Equal(t, f.AddrPort(), from)
	})

	t.Run("RemovedBackendGetsNoTraffic", func(t *testing.T) {
		dp, enter := h.New(t)
		ss := servers(t)
		f := tcp(nextVIP(), 80)
		upsert(t, dp, proxy.Service{Frontend: f, Backends: backends(ss)})
		enter()
		require.Len(t, askN(t, f, 30), 3)
		upsert(t, dp, proxy.Service{Frontend: f, Backends: backends(ss[:2])})
		seen := askN(t, f, 40)
		assert.Zero(t, seen[ss[2].Addr], "removed backend still gets traffic: %v", seen)
		assert.Len(t, seen, 2)
	})

	t.Run("NotReadyLeavesRotation", func(t *testing.T) {
		dp, enter := h.New(t)
		ss := servers(t)
		f := tcp(nextVIP(), 80)
		bs := backends(ss)
		upsert(t, dp, proxy.Service{Frontend: f, Backends: bs})
		enter()
		require.Len(t, askN(t, f, 30), 3)
		bs[1].Ready = false
		upsert(t, dp, proxy.Service{Frontend: f, Backends: bs})
		seen := askN(t, f, 40)
		assert.Zero(t, seen[ss[1].Addr], "unready backend still gets traffic: %v", seen)
		bs[1].Ready = true
		upsert(t, dp, proxy.Service{Frontend: f, Backends: bs})
		assert.Len(t, askN(t, f, 40), 3, "ready again: back in rotation")
	})

	t.Run("SessionAffinity", func(t *testing.T) {
		dp, enter := h.New(t)
		ss := servers(t)
		f := tcp(nextVIP(), 80)
		upsert(t, dp, proxy.Service{Frontend: f, Backends: backends(ss),
			Affinity: proxy.Affinity{ClientIP: true, Timeout: time.Hour}})
		enter()
		seen := askN(t, f, 30)
		require.Len(t, seen, 1, "one client, one backend: %v", seen)
		var first netip.AddrPort
		for a := range seen {
			first = a
		}
		// The remembered backend leaves: the client moves to another one and stays.
		var rest []*Server
		for _, s := range ss {
			if s.Addr != first {
				rest = append(rest, s)
			}
		}
		upsert(t, dp, proxy.Service{Frontend: f, Backends: backends(rest),
			Affinity: proxy.Affinity{ClientIP: true, Timeout: time.Hour}})
		seen = askN(t, f, 30)
		require.Len(t, seen, 1, "%v", seen)
		assert.Zero(t, seen[first])
	})

	t.Run("NoBackendsFailsLocally", func(t *testing.T) {
		dp, enter := h.New(t)
		ss := servers(t)
		f := tcp(nextVIP(), 80)
		bs := backends(ss)
		upsert(t, dp, proxy.Service{Frontend: f, Backends: bs})
		enter()
		require.Len(t, askN(t, f, 20), 3)
		for i := range bs {
			bs[i].Ready, bs[i].Serving = false, false
		}
		upsert(t, dp, proxy.Service{Frontend: f, Backends: bs})
		_, _, err := AskTCP(f.AddrPort())
		require.Error(t, err)
		assert.True(t, errors.Is(err, h.NoBackendErr), "want %v, got %v", h.NoBackendErr, err)
	})

	t.Run("DeletedServiceIsNotTranslated", func(t *testing.T) {
		dp, enter := h.New(t)
		ss := servers(t)
		f := tcp(nextVIP(), 80)
		upsert(t, dp, proxy.Service{Frontend: f, Backends: backends(ss)})
		enter()
		require.Len(t, askN(t, f, 20), 3)
		require.NoError(t, dp.Apply(ctx, []proxy.ServiceChange{{Op: proxy.Delete, Service: proxy.Service{Frontend: f}}}))
		_, _, err := AskTCP(f.AddrPort())
		assert.True(t, errors.Is(err, syscall.ECONNREFUSED), "nothing listens on the VIP itself: %v", err)
	})

	t.Run("IPv6", func(t *testing.T) {
		dp, enter := h.New(t)
		lo6 := netip.IPv6Loopback()
		ss := []*Server{Serve(t, lo6), Serve(t, lo6)}
		// The VIP is a port of ::1 held bound (not listening) by this test,
		// so that nothing else can answer there.
		hold, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv6loopback})
		if err != nil {
			Unavailable(t, "no IPv6 loopback: %v", err)
		}
		vipPort := uint16(hold.Addr().(*net.TCPAddr).Port)
		require.NoError(t, hold.Close())
		f := tcp(lo6, vipPort)
		upsert(t, dp, proxy.Service{Frontend: f, Backends: backends(ss)})
		enter()
		seen := askN(t, f, 40)
		assert.Len(t, seen, 2, "%v", seen)
	})

	t.Run("NodePortFromOtherNetns", func(t *testing.T) {
		dp, _ := h.New(t) // this process stays outside: traffic arrives from the namespace
		ns := NewNetns(t)
		ss := []*Server{Serve(t, ns.NodeAddr), Serve(t, ns.NodeAddr)}
		f := proxy.Frontend{Kind: proxy.NodePort, Addr: ns.NodeAddr, Port: 30080, Protocol: proxy.TCP}
		upsert(t, dp, proxy.Service{Frontend: f, Backends: backends(ss)})
		seen := map[netip.AddrPort]int{}
		for range 30 {
			var got, peer netip.AddrPort
			require.NoError(t, ns.Do(func() (err error) {
				got, peer, err = AskTCP(f.AddrPort())
				return err
			}))
			assert.Equal(t, f.AddrPort(), peer)
			seen[got]++
		}
		assert.Len(t, seen, 2, "%v", seen)
		upsert(t, dp, proxy.Service{Frontend: f})
		err := ns.Do(func() error { _, _, err := AskTCP(f.AddrPort()); return err })
		assert.Error(t, err, "no backends: refused")
	})

	t.Run("Sync", func(t *testing.T) {
		dp, enter := h.New(t)
		ss := servers(t)
		a, b, c := tcp(nextVIP(), 80), tcp(nextVIP(), 80), tcp(nextVIP(), 81)
		upsert(t, dp, proxy.Service{Frontend: a, Backends: backends(ss[:1])})
		upsert(t, dp, proxy.Service{Frontend: b, Backends: backends(ss[1:2])})
		require.NoError(t, dp.Sync(ctx, []proxy.Service{
			{Frontend: b, Backends: backends(ss[2:])},
			{Frontend: c, Backends: backends(ss[:1])},
		}))
		enter()
		_, _, err := AskTCP(a.AddrPort())
		assert.True(t, errors.Is(err, syscall.ECONNREFUSED), "a is gone: %v", err)
		assert.Equal(t, map[netip.AddrPort]int{ss[2].Addr: 5}, askN(t, b, 5))
		assert.Equal(t, map[netip.AddrPort]int{ss[0].Addr: 5}, askN(t, c, 5))
	})
}
