package ebpf

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/proxy/proxytest"
)

// The programs New loaded stay far below the verifier's limits (the connect
// and sendmsg ones carry the retry, so they are the largest).
func TestProgramSize(t *testing.T) {
	proxytest.RequireRoot(t)
	if err := Probe(); err != nil {
		proxytest.Unavailable(t, "%v", err)
	}
	root, err := CgroupRoot()
	require.NoError(t, err)
	d, err := New(Options{CgroupPath: proxytest.NewCgroup(t, root).Path})
	require.NoError(t, err)
	defer d.Close()
	require.Len(t, d.progs, 8)
	m4 := progMaps{d.v4.services, d.v4.backends, d.v4.reverse, d.affinity, d.members}
	m6 := progMaps{d.v6.services, d.v6.backends, d.v6.reverse, d.affinity, d.members}
	for _, h := range hooks() {
		m := m4
		if h.family == inet6 {
			m = m6
		}
		n := len(h.build(h.family, m))
		t.Logf("%s: %d instructions", h.name, n)
		require.Less(t, n, 400, h.name)
	}
}
