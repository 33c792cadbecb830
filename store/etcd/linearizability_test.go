package etcd_test

import (
	"flag"
	"testing"

	"github.com/anishathalye/porcupine"
	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/store"
	"github.com/gantry-sdk/gantry/store/etcd"
	"github.com/gantry-sdk/gantry/store/etcd/etcdtest"
	"github.com/gantry-sdk/gantry/store/storetest"
)

var (
	linOps     = flag.Int("linearizability.ops", 0, "operations per client in the linearizability test (0: the harness default)")
	linClients = flag.Int("linearizability.clients", 0, "concurrent clients in the linearizability test (0: 6)")
)

func TestLinearizability(t *testing.T) {
	// etcd's own durability: fsync per commit, as in production.
	srv := etcdtest.Start(t, etcdtest.Options{})
	kv, err := etcd.New(srv.Client, etcd.Options{Prefix: "/lin/"})
	require.NoError(t, err)
	clients := *linClients
	if clients == 0 {
		clients = 6
	}
	// Each client on its own connection, as separate processes would be.
	kvs := make([]store.KV, clients)
	for i := range kvs {
		client, err := srv.NewClient()
		require.NoError(t, err)
		t.Cleanup(func() { _ = client.Close() })
		kvs[i], err = etcd.New(client, etcd.Options{Prefix: "/lin/"})
		require.NoError(t, err)
	}
	report := storetest.RunLinearizability(t, kv, storetest.LinearizabilityOptions{
		Clients: clients, Ops: *linOps,
		ClientKV: func(i int) store.KV { return kvs[i] },
	})
	require.Positive(t, report.Conflicts, "the run must exercise failing compares")
	require.Zero(t, report.Unknown)
}

// TestLinearizabilityCatchesViolations runs the same check against etcd
// behind deliberately broken wrappers: each must be found out.
func TestLinearizabilityCatchesViolations(t *testing.T) {
	srv := etcdtest.Start(t, etcdtest.Options{NoFsync: true})
	for name, broken := range map[string]func(store.KV) store.KV{
		"stale reads":      storetest.StaleReads,
		"compares ignored": storetest.IgnoreCompares,
	} {
		t.Run(name, func(t *testing.T) {
			kv, err := etcd.New(srv.Client, etcd.Options{Prefix: "/" + name + "/"})
			require.NoError(t, err)
			report, err := storetest.CheckLinearizability(t.Context(), broken(kv), storetest.LinearizabilityOptions{})
			require.NoError(t, err)
			t.Logf("%v", report)
			require.Equal(t, porcupine.Illegal, report.Result)
		})
	}
}
