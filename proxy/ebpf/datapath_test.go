package ebpf_test

import (
	"context"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/gantry-sdk/gantry/proxy"
	"github.com/gantry-sdk/gantry/proxy/ebpf"
	"github.com/gantry-sdk/gantry/proxy/proxytest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// newDatapath attaches a datapath to a fresh child cgroup and moves this
// process into it for the rest of the test.
func newDatapath(t *testing.T, opts ebpf.Options) *ebpf.Datapath {
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

func TestConnectThroughVIP(t *testing.T) {
	d := newDatapath(t, ebpf.Options{})
	b := proxytest.Serve(t, netip.MustParseAddr("127.0.0.2"))
	vip := proxy.Frontend{Addr: netip.MustParseAddr("127.100.3.1"), Port: 80, Protocol: proxy.TCP}
	require.NoError(t, d.Apply(context.Background(), []proxy.ServiceChange{{Service: proxy.Service{
		Frontend: vip, Backends: []proxy.Backend{{Addr: b.Addr, Ready: true}},
	}}}))
	got, peer, err := proxytest.AskTCP(vip.AddrPort())
	require.NoError(t, err)
	require.Equal(t, b.Addr, got)
	require.Equal(t, vip.AddrPort(), peer)
}
