package datapath_test

import (
	"context"
	"fmt"
	"net/netip"
	"syscall"
	"testing"

	"github.com/go-logr/logr/funcr"
	"github.com/go-logr/logr/testr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/gantry-sdk/gantry/proxy"
	"github.com/gantry-sdk/gantry/proxy/datapath"
	"github.com/gantry-sdk/gantry/proxy/ebpf"
	"github.com/gantry-sdk/gantry/proxy/nftables"
	"github.com/gantry-sdk/gantry/proxy/proxytest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var tableSeq int

func newDatapath(t *testing.T, kind datapath.Kind) (proxy.Datapath, func()) {
	proxytest.RequireRoot(t)
	proxytest.RequireTool(t, "nft")
	tableSeq++
	opts := datapath.Options{Force: kind, NFTables: nftables.Options{Table: fmt.Sprintf("gantry-test-%s-%d", kind, tableSeq)}}
	enter := func() {}
	if kind == datapath.EBPF {
		if err := ebpf.Probe(); err != nil {
			proxytest.Unavailable(t, "%v", err)
		}
		root, err := ebpf.CgroupRoot()
		require.NoError(t, err)
		cg := proxytest.NewCgroup(t, root)
		opts.EBPF.CgroupPath = cg.Path
		enter = func() { cg.Enter(t) }
	}
	dp, ch, err := datapath.New(context.Background(), testr.New(t), opts)
	require.NoError(t, err)
	require.Equal(t, kind, ch.Kind)
	t.Cleanup(func() { require.NoError(t, dp.Close()) })
	return dp, enter
}

func itoa(i int) string {
	return string(rune('0'+i/100%10)) + string(rune('0'+i/10%10)) + string(rune('0'+i%10))
}

func TestSuiteEBPF(t *testing.T) {
	proxytest.Run(t, proxytest.Harness{
		New:          func(t *testing.T) (proxy.Datapath, func()) { return newDatapath(t, datapath.EBPF) },
		VIPs:         netip.MustParsePrefix("127.100.1.0/24"),
		NoBackendErr: syscall.EPERM,
	})
}

func TestSuiteNFTables(t *testing.T) {
	proxytest.Run(t, proxytest.Harness{
		New:          func(t *testing.T) (proxy.Datapath, func()) { return newDatapath(t, datapath.NFTables) },
		VIPs:         netip.MustParsePrefix("127.100.2.0/24"),
		NoBackendErr: syscall.EHOSTUNREACH,
	})
}

// Without Force, New probes: on a machine where the eBPF probe passes it
// picks eBPF and logs one line saying so.
func TestSelection(t *testing.T) {
	proxytest.RequireRoot(t)
	proxytest.RequireTool(t, "nft")
	root, err := ebpf.CgroupRoot()
	if err != nil {
		proxytest.Unavailable(t, "%v", err)
	}
	var lines []string
	log := funcr.New(func(prefix, args string) { lines = append(lines, args) }, funcr.Options{})
	opts := datapath.Options{
		EBPF:     ebpf.Options{CgroupPath: proxytest.NewCgroup(t, root).Path},
		NFTables: nftables.Options{Table: "gantry-test-select"},
	}
	dp, ch, err := datapath.New(context.Background(), log, opts)
	require.NoError(t, err)
	require.NoError(t, dp.Close())
	want := datapath.EBPF
	if ebpf.Probe() != nil {
		want = datapath.NFTables
	}
	assert.Equal(t, want, ch.Kind)
	assert.NotEmpty(t, ch.Reason)
	require.Len(t, lines, 1)
	assert.Contains(t, lines[0], `"msg"="proxy datapath selected"`)
	assert.Contains(t, lines[0], `"kind"="`+string(want)+`"`)

	_, _, err = datapath.New(context.Background(), log, datapath.Options{Force: "ipvs"})
	assert.ErrorIs(t, err, proxy.ErrInvalid)
}
