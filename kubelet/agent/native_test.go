package agent

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/kubelet/containerd"
	"github.com/gantry-sdk/gantry/kubelet/containerd/containerdtest"
)

// newNativeHarness runs an agent over kubelet/containerd (containerd's native
// API, pooled pod networks, no pause container) on the package's private
// containerd, in a containerd namespace of its own.
func newNativeHarness(t testing.TB, node string, edit ...func(*Options)) (*harness, *containerd.Runtime) {
	env := realRuntime(t)
	ctx := context.Background()
	rt, err := containerdtest.Dial(ctx, env, containerd.Options{Namespace: "agent-" + node})
	require.NoError(t, err)
	opts := realOptions(env, edit...)
	// Registered before the harness's own cleanup, so that it runs after the
	// agent has stopped (cleanups run last-in first-out): a running agent would
	// restart what is removed.
	t.Cleanup(func() {
		_ = containerdtest.RemoveAll(ctx, rt)
		_ = rt.Close()
	})
	h := newHarnessOn(t, rt, node, opts)
	return h, rt
}

func TestNativeNetworkReadinessAndAdoption(t *testing.T) {
	h, _ := newNativeHarness(t, "native-net")
	networkReadinessAndAdoption(t, h)
}

func TestNativePodSecurityAndDNS(t *testing.T) {
	h, _ := newNativeHarness(t, "native-sec", withClusterDNS)
	podSecurityAndDNS(t, h)
}

func TestNativeOOMKilled(t *testing.T) {
	h, _ := newNativeHarness(t, "native-oom")
	oomKilled(t, h)
}

func TestNativeCrashLoopBackOff(t *testing.T) {
	h, _ := newNativeHarness(t, "native-crash")
	crashLoopBackOff(t, h)
}
