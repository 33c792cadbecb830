package memory_test

import (
	"flag"
	"testing"

	"github.com/anishathalye/porcupine"
	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/store"
	"github.com/gantry-sdk/gantry/store/memory"
	"github.com/gantry-sdk/gantry/store/storetest"
)

var (
	linOps     = flag.Int("linearizability.ops", 0, "operations per client in the linearizability tests (0: the harness default)")
	linClients = flag.Int("linearizability.clients", 0, "concurrent clients in the linearizability tests (0: 6)")
)

func linOptions() storetest.LinearizabilityOptions {
	clients := *linClients
	if clients == 0 {
		clients = 6
	}
	return storetest.LinearizabilityOptions{Clients: clients, Ops: *linOps}
}

func TestLinearizabilityInMemory(t *testing.T) {
	kv := memory.New(memory.Options{})
	t.Cleanup(func() { require.NoError(t, kv.Close()) })
	opts := linOptions()
	if *linOps == 0 {
		// Operations take microseconds here: more of them, for more overlap.
		opts.Ops = 500
	}
	report := storetest.RunLinearizability(t, kv, opts)
	require.Positive(t, report.Conflicts, "the run must exercise failing compares")
	require.Zero(t, report.Unknown)
}

// TestLinearizabilityDurable checks the durable KV, whose group commit
// makes writes visible in batches: the riskiest place for a stale read.
func TestLinearizabilityDurable(t *testing.T) {
	kv, err := memory.Open(t.TempDir(), memory.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, kv.Close()) })
	report := storetest.RunLinearizability(t, kv, linOptions())
	require.Positive(t, report.Conflicts)
	require.Zero(t, report.Unknown)
}

// TestLinearizabilityCatchesViolations runs the same check against this KV
// behind deliberately broken wrappers: each must be found out.
func TestLinearizabilityCatchesViolations(t *testing.T) {
	for name, broken := range map[string]func(store.KV) store.KV{
		"stale reads":      storetest.StaleReads,
		"compares ignored": storetest.IgnoreCompares,
	} {
		t.Run(name, func(t *testing.T) {
			kv := memory.New(memory.Options{})
			t.Cleanup(func() { require.NoError(t, kv.Close()) })
			report, err := storetest.CheckLinearizability(t.Context(), broken(kv), storetest.LinearizabilityOptions{})
			require.NoError(t, err)
			t.Logf("%v", report)
			require.Equal(t, porcupine.Illegal, report.Result)
		})
	}
}
