package nftables_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/proxy"
	"github.com/gantry-sdk/gantry/proxy/nftables"
	"github.com/gantry-sdk/gantry/proxy/proxytest"
)

func newDatapath(t *testing.T, opts nftables.Options) *nftables.Datapath {
	t.Helper()
	proxytest.RequireRoot(t)
	proxytest.RequireTool(t, "nft")
	opts.Table = fmt.Sprintf("gantry-nft-test-%d", os.Getpid())
	d, err := nftables.New(context.Background(), opts)
	require.NoError(t, err)
	t.Cleanup(func() {
		require.NoError(t, d.Close())
		err := exec.Command("nft", "list", "table", "inet", opts.Table).Run()
		assert.Error(t, err, "Close deletes the table")
	})
	return d
}

// objects counts the chains and sets of the table beyond the fixed ones.
func objects(t *testing.T, table string) (chains, sets, elements int) {
	t.Helper()
	out, err := exec.Command("nft", "list", "table", "inet", table).CombinedOutput()
	require.NoError(t, err, "%s", out)
	chains = len(regexp.MustCompile(`(?m)^\tchain (svc|ep)-`).FindAll(out, -1))
	sets = len(regexp.MustCompile(`(?m)^\tset aff-`).FindAll(out, -1))
	elements = len(regexp.MustCompile(`127\.100\.9\.\d+ \. tcp \. 80`).FindAll(out, -1))
	return chains, sets, elements
}

func svc(i int, backends int, affinity time.Duration) proxy.Service {
	s := proxy.Service{Frontend: proxy.Frontend{Addr: netip.AddrFrom4([4]byte{127, 100, 9, byte(i)}), Port: 80, Protocol: proxy.TCP}}
	if affinity > 0 {
		s.Affinity = proxy.Affinity{ClientIP: true, Timeout: affinity}
	}
	for j := range backends {
		s.Backends = append(s.Backends, proxy.Backend{Addr: netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, byte(2 + j)}), 8080), Ready: true})
	}
	return s
}

// Every change leaves exactly the objects the services need: no chain or
// affinity set is left behind by updates and deletes.
func TestNoLeftovers(t *testing.T) {
	d := newDatapath(t, nftables.Options{})
	table := fmt.Sprintf("gantry-nft-test-%d", os.Getpid())
	ctx := context.Background()
	steps := []struct {
		name                   string
		services               []proxy.Service
		chains, sets, elements int
	}{
		// elements: one per service in the service map or the no-endpoint
		// set, plus one per slot of the services without affinity.
		{"three services", []proxy.Service{svc(1, 3, 0), svc(2, 2, 0), svc(3, 0, 0)}, 0, 0, 3 + 3 + 2},
		{"affinity on", []proxy.Service{svc(1, 3, time.Hour), svc(2, 2, 0), svc(3, 0, 0)}, 1 + 3, 3, 3 + 2},
		{"timeout changed", []proxy.Service{svc(1, 3, 2*time.Hour), svc(2, 2, 0), svc(3, 0, 0)}, 1 + 3, 3, 3 + 2},
		{"backends down and up", []proxy.Service{svc(1, 1, 2*time.Hour), svc(2, 0, 0), svc(3, 2, 0)}, 1 + 1, 1, 3 + 2},
		{"all gone", nil, 0, 0, 0},
	}
	for _, s := range steps {
		require.NoError(t, d.Sync(ctx, s.services), s.name)
		c, st, e := objects(t, table)
		assert.Equal(t, s.chains, c, "%s: chains", s.name)
		assert.Equal(t, s.sets, st, "%s: affinity sets", s.name)
		assert.Equal(t, s.elements, e, "%s: map and set elements", s.name)
		assert.Equal(t, len(s.services), d.Table().Len())
	}
}

// A transaction that fails changes nothing: state and Table stay as they were.
func TestFailedTransactionKeepsState(t *testing.T) {
	d := newDatapath(t, nftables.Options{})
	ctx := context.Background()
	require.NoError(t, d.Apply(ctx, []proxy.ServiceChange{{Service: svc(1, 2, 0)}}))
	rev := d.Table().Rev()
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	require.Error(t, d.Apply(cancelled, []proxy.ServiceChange{{Service: svc(2, 2, 0)}}))
	assert.Equal(t, rev, d.Table().Rev())
	require.NoError(t, d.Apply(ctx, []proxy.ServiceChange{{Service: svc(2, 2, 0)}}))
	assert.Equal(t, 2, d.Table().Len())
}
