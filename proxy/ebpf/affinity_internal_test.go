package ebpf

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/gantry-sdk/gantry/proxy"
	"github.com/gantry-sdk/gantry/proxy/proxytest"
)

// netnsCookie is the cookie of this process's network namespace, the client
// identity the programs use for ClientIP affinity.
func netnsCookie(t *testing.T) uint64 {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
	require.NoError(t, err)
	defer unix.Close(fd)
	c, err := unix.GetsockoptUint64(fd, unix.SOL_SOCKET, unix.SO_NETNS_COOKIE)
	if err != nil {
		proxytest.Unavailable(t, "SO_NETNS_COOKIE: %v", err)
	}
	return c
}

func monotonicNow() uint64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return uint64(ts.Nano())
}

// A remembered choice is honoured while fresh and ignored once older than
// the service's timeout.
func TestAffinityTimeout(t *testing.T) {
	proxytest.RequireRoot(t)
	if err := Probe(); err != nil {
		proxytest.Unavailable(t, "%v", err)
	}
	root, err := CgroupRoot()
	require.NoError(t, err)
	cg := proxytest.NewCgroup(t, root)
	d, err := New(Options{CgroupPath: cg.Path})
	require.NoError(t, err)
	defer d.Close()
	cg.Enter(t)

	x := proxytest.Serve(t, netip.MustParseAddr("127.0.0.2"))
	y := proxytest.Serve(t, netip.MustParseAddr("127.0.0.3"))
	f := proxy.Frontend{Addr: netip.MustParseAddr("127.100.3.9"), Port: 80, Protocol: proxy.TCP}
	timeout := time.Minute
	require.NoError(t, d.Apply(context.Background(), []proxy.ServiceChange{{Service: proxy.Service{
		Frontend: f, Affinity: proxy.Affinity{ClientIP: true, Timeout: timeout},
		Backends: []proxy.Backend{{Addr: x.Addr, Ready: true}, {Addr: y.Addr, Ready: true}},
	}}}))
	key := affinityKey{NetnsCookie: netnsCookie(t), ServiceID: d.state[f].id}
	remember := func(b netip.AddrPort, age time.Duration) {
		v := affinityValue{Port: port(b.Port()), TS: monotonicNow() - uint64(age)}
		a4 := b.Addr().As4()
		copy(v.Addr[:], a4[:])
		require.NoError(t, d.affinity.Put(key, v))
	}

	for range 20 {
		remember(x.Addr, 0)
		got, _, err := proxytest.AskTCP(f.AddrPort())
		require.NoError(t, err)
		require.Equal(t, x.Addr, got, "a fresh choice is honoured")
	}
	seen := map[netip.AddrPort]int{}
	for range 30 {
		remember(x.Addr, 2*timeout)
		got, _, err := proxytest.AskTCP(f.AddrPort())
		require.NoError(t, err)
		seen[got]++
	}
	assert.Positive(t, seen[y.Addr], "an expired choice is ignored: %v", seen)

	// The connect that re-chose refreshed the entry.
	var v affinityValue
	require.NoError(t, d.affinity.Lookup(key, &v))
	assert.Less(t, monotonicNow()-v.TS, uint64(timeout))
}
