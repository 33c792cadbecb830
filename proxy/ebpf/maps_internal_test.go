package ebpf

import (
	"context"
	"net/netip"
	"testing"

	bpf "github.com/cilium/ebpf"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/proxy"
	"github.com/gantry-sdk/gantry/proxy/proxytest"
)

func count(t *testing.T, m *bpf.Map) int {
	t.Helper()
	var k, v []byte
	n := 0
	it := m.Iterate()
	for it.Next(&k, &v) {
		n++
	}
	require.NoError(t, it.Err())
	return n
}

// The maps hold exactly what the Table says: replacing services frees their
// old slots and deleting them frees everything.
func TestMapsFollowTable(t *testing.T) {
	proxytest.RequireRoot(t)
	if err := Probe(); err != nil {
		proxytest.Unavailable(t, "%v", err)
	}
	root, err := CgroupRoot()
	require.NoError(t, err)
	d, err := New(Options{CgroupPath: proxytest.NewCgroup(t, root).Path})
	require.NoError(t, err)
	defer d.Close()
	ctx := context.Background()

	services := func(n, backends int, affinity bool) []proxy.Service {
		out := make([]proxy.Service, n)
		for i := range out {
			a := netip.AddrFrom4([4]byte{127, 101, byte(i >> 8), byte(i)})
			if i%4 == 3 {
				a = netip.AddrFrom16([16]byte{0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, byte(i >> 8), byte(i)})
			}
			s := proxy.Service{Frontend: proxy.Frontend{Addr: a, Port: 80, Protocol: proxy.TCP},
				Affinity: proxy.Affinity{ClientIP: affinity}}
			for j := range backends {
				b := netip.AddrFrom4([4]byte{10, 0, byte(j), byte(i)})
				if a.Is6() {
					b = netip.AddrFrom16([16]byte{0xfd, 1, 15: byte(j)})
				}
				s.Backends = append(s.Backends, proxy.Backend{Addr: netip.AddrPortFrom(b, 8080), Ready: true})
			}
			out[i] = s
		}
		return out
	}
	check := func(v4, v6, slots4, slots6, members int) {
		t.Helper()
		assert.Equal(t, v4, count(t, d.v4.services), "services v4")
		assert.Equal(t, v6, count(t, d.v6.services), "services v6")
		assert.Equal(t, slots4, count(t, d.v4.backends), "slots v4")
		assert.Equal(t, slots6, count(t, d.v6.backends), "slots v6")
		assert.Equal(t, members, count(t, d.members), "affinity members")
		assert.Equal(t, slots4, d.v4.slots)
		assert.Equal(t, slots6, d.v6.slots)
		assert.Equal(t, v4, d.v4.count)
		assert.Equal(t, v6, d.v6.count)
	}
	// Five backends: past inlineMax, so in the backend map.
	require.NoError(t, d.Sync(ctx, services(1000, 5, false)))
	check(750, 250, 3750, 1250, 0)
	assert.Equal(t, 1000, d.Table().Len())

	// Two backends: inline in the service entries; the slots are freed.
	require.NoError(t, d.Sync(ctx, services(1000, 2, true)))
	check(750, 250, 0, 0, 2000)
	rev := d.Table().Rev()

	require.NoError(t, d.Sync(ctx, services(1000, 2, true)), "no change")
	assert.Equal(t, rev, d.table.Rev())

	require.NoError(t, d.Sync(ctx, services(500, 6, false)))
	check(375, 125, 2250, 750, 0)

	require.NoError(t, d.Sync(ctx, nil))
	check(0, 0, 0, 0, 0)
	assert.Empty(t, d.state)
	assert.Empty(t, d.v4.setsInUse)
}
