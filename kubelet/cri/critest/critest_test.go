package critest_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/gantry-sdk/gantry/kubelet"
	"github.com/gantry-sdk/gantry/kubelet/cri/critest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestStopLeavesNothing runs a pod and stops the Env with it still running:
// no directory, cgroup, bridge, mount or shim may remain.
func TestStopLeavesNothing(t *testing.T) {
	ctx := context.Background()
	env, err := critest.Start(ctx, critest.Options{})
	critest.Require(t, err)
	stopped := false
	defer func() {
		if !stopped {
			env.Stop()
		}
	}()
	rt, err := env.Dial(ctx)
	require.NoError(t, err)
	sb, err := rt.RunPodSandbox(ctx, kubelet.SandboxConfig{Name: "p", Namespace: "ns", UID: "u", CgroupParent: env.CgroupParent, LogDirectory: env.LogDir})
	require.NoError(t, err)
	id, err := rt.CreateContainer(ctx, sb.ID, kubelet.ContainerConfig{Name: "c", Image: critest.BusyboxImage, Command: []string{"sleep", "3600"}})
	require.NoError(t, err)
	require.NoError(t, rt.StartContainer(ctx, id))
	require.NoError(t, rt.Close())
	_, err = net.InterfaceByName(env.Bridge)
	require.NoError(t, err, "bridge exists while running")

	stopped = true
	require.NoError(t, env.Stop())
	_, err = os.Stat(env.Dir)
	assert.True(t, os.IsNotExist(err), "directory %s left: %v", env.Dir, err)
	_, err = net.InterfaceByName(env.Bridge)
	assert.Error(t, err, "bridge %s left", env.Bridge)
	left, _ := filepath.Glob("/sys/fs/cgroup/*" + env.CgroupParent)
	assert.Empty(t, left, "cgroups left")
	mounts, err := os.ReadFile("/proc/self/mountinfo")
	require.NoError(t, err)
	assert.NotContains(t, string(mounts), env.Dir, "mounts left")
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, _ := os.ReadFile(p)
		assert.False(t, strings.Contains(string(b), env.Socket), "process %s left: %q", p, b)
	}
}
