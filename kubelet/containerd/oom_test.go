package containerd_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	tasksapi "github.com/containerd/containerd/api/services/tasks/v1"
	tasktypes "github.com/containerd/containerd/api/types/task"
	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/kubelet"
	"github.com/gantry-sdk/gantry/kubelet/containerd"
	"github.com/gantry-sdk/gantry/kubelet/containerd/containerdtest"
	"github.com/gantry-sdk/gantry/kubelet/cri/critest"
)

// An OOM kill while no Runtime runs (the agent is down: nobody hears
// containerd's event) still reads OOMKilled from the next Runtime, and a plain
// SIGKILL in the same window still reads Error.
func TestOOMKilledWhileNoRuntime(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rt := dial(t, containerd.Options{PoolSize: -1})
	sb, err := rt.RunPodSandbox(ctx, kubelet.SandboxConfig{Name: "oom-late", Namespace: "oom", UID: "oom-late", CgroupParent: env.CgroupParent})
	require.NoError(t, err)
	// The hog waits for its Runtime to be gone before it allocates.
	hog, err := rt.CreateContainer(ctx, sb.ID, kubelet.ContainerConfig{Name: "hog", Image: critest.BusyboxImage,
		Command: []string{"sh", "-c", "sleep 1; exec tail /dev/zero"}, Resources: kubelet.Resources{MemoryLimit: 32 << 20}})
	require.NoError(t, err)
	require.NoError(t, rt.StartContainer(ctx, hog))
	killed := sleeper(t, ctx, rt, sb.ID, kubelet.ContainerConfig{Name: "killed"})
	require.NoError(t, rt.Close())

	// Meanwhile, with nothing of this package running: wait for the OOM kill
	// and kill the other container with a raw client.
	c, err := client.New(env.Socket)
	require.NoError(t, err)
	defer c.Close()
	nctx := namespaces.WithNamespace(ctx, containerdtest.Namespace)
	_, err = c.TaskService().Kill(nctx, &tasksapi.KillRequest{ContainerID: killed, Signal: uint32(syscall.SIGKILL), All: true})
	require.NoError(t, err)
	for _, id := range []string{hog, killed} {
		require.Eventually(t, func() bool {
			resp, err := c.TaskService().Get(nctx, &tasksapi.GetRequest{ContainerID: id})
			return err == nil && resp.Process.Status == tasktypes.Status_STOPPED
		}, 30*time.Second, 20*time.Millisecond, "task %s did not stop", id)
	}

	rt2 := dial(t, containerd.Options{PoolSize: -1})
	defer func() {
		assert.NoError(t, rt2.StopPodSandbox(context.Background(), sb.ID))
		assert.NoError(t, rt2.RemovePodSandbox(context.Background(), sb.ID))
	}()
	for _, list := range []bool{true, false} { // ListContainers before any ContainerStatus, then ContainerStatus
		byName := map[string]kubelet.ContainerStatus{}
		if list {
			sts, err := rt2.ListContainers(ctx, kubelet.ContainerFilter{SandboxID: sb.ID})
			require.NoError(t, err)
			for _, st := range sts {
				byName[st.Name] = st
			}
		} else {
			for _, id := range []string{hog, killed} {
				st, err := rt2.ContainerStatus(ctx, id)
				require.NoError(t, err)
				byName[st.Name] = st
			}
		}
		assert.Equal(t, kubelet.ContainerExited, byName["hog"].State)
		assert.Equal(t, int32(137), byName["hog"].ExitCode)
		assert.Equal(t, kubelet.ReasonOOMKilled, byName["hog"].Reason, "list=%v", list)
		assert.Equal(t, int32(137), byName["killed"].ExitCode)
		assert.Equal(t, kubelet.ReasonError, byName["killed"].Reason, "list=%v", list)
	}
}
