package containerd_test

import (
	"bytes"
	"context"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	tasksapi "github.com/containerd/containerd/api/services/tasks/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/kubelet"
	"github.com/gantry-sdk/gantry/kubelet/containerd"
	"github.com/gantry-sdk/gantry/kubelet/containerd/containerdtest"
	"github.com/gantry-sdk/gantry/kubelet/cri/critest"
	"github.com/gantry-sdk/gantry/kubelet/runtimetest"
)

// env is the package's private containerd; startErr why there is none.
var (
	env      *critest.Env
	startErr error
)

func TestMain(m *testing.M) {
	env, startErr = critest.Start(context.Background(), critest.Options{})
	os.Exit(critest.Main(m, &env))
}

func dial(t testing.TB, o containerd.Options) *containerd.Runtime {
	t.Helper()
	critest.Require(t, startErr)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rt, err := containerdtest.Dial(ctx, env, o)
	require.NoError(t, err)
	// A failed test still tears down its pool (Close is idempotent).
	t.Cleanup(func() { rt.Close() })
	return rt
}

func TestRuntimeSuite(t *testing.T) {
	for _, tc := range []struct {
		name string
		pool int
	}{{"pool", 2}, {"no-pool", -1}} {
		t.Run(tc.name, func(t *testing.T) {
			rt := dial(t, containerd.Options{PoolSize: tc.pool})
			runtimetest.Run(t, runtimetest.Harness{
				Runtime:      rt,
				Image:        critest.BusyboxImage,
				CgroupParent: env.CgroupParent,
				LogDir:       filepath.Join(env.LogDir, tc.name),
				Real:         true,
				PodSecurity:  true,
				Reconnect: func(ctx context.Context) (kubelet.Runtime, func(), error) {
					rt2, err := containerdtest.Dial(ctx, env, containerd.Options{PoolSize: -1})
					if err != nil {
						return nil, nil, err
					}
					return rt2, func() { rt2.Close() }, nil
				},
			})
			ctx := context.Background()
			require.NoError(t, containerdtest.RemoveAll(ctx, rt))
			require.NoError(t, rt.Close())
			assertNoNetworkLeft(t)
		})
	}
}

// assertNoNetworkLeft checks that no namespace file, veth on the bridge or
// host-local IP reservation is left once every pod is removed and every
// Runtime closed.
func assertNoNetworkLeft(t *testing.T) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(env.Dir, "native", "*", "netns", "*"))
	assert.Empty(t, files, "network namespace files")
	pods, _ := filepath.Glob(filepath.Join(env.Dir, "native", "*", "pods", "*"))
	assert.Empty(t, pods, "pod directories")
	assert.Empty(t, mountsUnder(t, filepath.Join(env.Dir, "native")), "IPC namespaces and /dev/shm tmpfs")
	out, err := exec.Command("ip", "-o", "link", "show", "master", env.Bridge).CombinedOutput()
	if err == nil {
		assert.Empty(t, strings.TrimSpace(string(out)), "veths on the bridge")
	}
	ips, _ := filepath.Glob(filepath.Join(env.Dir, "cni/ipam/*/10.*"))
	assert.Empty(t, ips, "host-local reservations")
}

func TestPoolHandsOutAndCleansUp(t *testing.T) {
	rt := dial(t, containerd.Options{PoolSize: 3})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	require.NoError(t, rt.WaitPool(ctx, 3))
	// Each ready network holds a warm shim: a created, never started task.
	tasks := func(rt *containerd.Runtime) map[string]string {
		resp, err := rt.Client().TaskService().List(nsCtx(ctx, rt), &tasksapi.ListTasksRequest{})
		require.NoError(t, err)
		out := map[string]string{}
		for _, p := range resp.Tasks {
			out[p.ID] = p.Status.String()
		}
		return out
	}
	assert.Equal(t, []string{"CREATED", "CREATED", "CREATED"}, slices.Sorted(maps.Values(tasks(rt))))
	assert.Equal(t, 3, shims(t, rt.Namespace()))

	sb, err := rt.RunPodSandbox(ctx, kubelet.SandboxConfig{Name: "p", Namespace: "ns", UID: "pool-1", CgroupParent: env.CgroupParent})
	require.NoError(t, err)
	assert.NotEmpty(t, sb.IP)
	// Two containers of the pod join the pod's warm shim.
	for _, name := range []string{"a", "b"} {
		id, err := rt.CreateContainer(ctx, sb.ID, kubelet.ContainerConfig{Name: name, Image: critest.BusyboxImage, Command: []string{"sleep", "3600"}})
		require.NoError(t, err)
		require.NoError(t, rt.StartContainer(ctx, id))
	}
	// The pool refills behind the hand-out.
	require.NoError(t, rt.WaitPool(ctx, 3))
	// Unused networks are not sandboxes.
	list, err := rt.ListPodSandboxes(ctx, kubelet.SandboxFilter{})
	require.NoError(t, err)
	require.Len(t, list, 1)

	require.NoError(t, rt.WaitPool(ctx, 3))
	assert.Equal(t, 4, shims(t, rt.Namespace()), "one shim per pod and per ready network")

	require.NoError(t, rt.StopPodSandbox(ctx, sb.ID))
	require.NoError(t, rt.RemovePodSandbox(ctx, sb.ID))
	require.NoError(t, rt.Close())
	assertNoNetworkLeft(t)
	rt2 := dial(t, containerd.Options{PoolSize: -1})
	assert.Empty(t, tasks(rt2))
	require.NoError(t, rt2.Close())
	assert.Eventually(t, func() bool { return shims(t, rt.Namespace()) == 0 }, 10*time.Second, 50*time.Millisecond, "shims left")
}

// shims counts the runc shims of a containerd namespace on the package's
// daemon (other packages' daemons may use the same namespace name).
func shims(t *testing.T, ns string) int {
	n := 0
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err == nil && bytes.Contains(b, []byte("containerd-shim-runc-v2\x00-namespace\x00"+ns+"\x00")) &&
			bytes.Contains(b, []byte("-address\x00"+env.Socket+"\x00")) {
			n++
		}
	}
	return n
}

func TestOrphanedPoolCollected(t *testing.T) {
	rt := dial(t, containerd.Options{PoolSize: 2, Namespace: "gantry-orphans"})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	require.NoError(t, rt.WaitPool(ctx, 2))
	// A crash: the pool's records stay, owned by a process that is gone.
	recs, err := rt.Client().ContainerService().List(nsCtx(ctx, rt), `labels."gantry.dev/kind"==pool`)
	require.NoError(t, err)
	require.Len(t, recs, 2)
	for _, rec := range recs {
		rec.Labels["gantry.dev/pool-owner"] = "999999999-dead"
		_, err := rt.Client().ContainerService().Update(nsCtx(ctx, rt), rec, "labels")
		require.NoError(t, err)
	}
	// Closing tears down its free slots anyway; forget them first by dialing
	// a successor while this one still holds them, then check the successor
	// collected them.
	rt2 := dial(t, containerd.Options{PoolSize: -1, Namespace: "gantry-orphans"})
	recs, err = rt2.Client().ContainerService().List(nsCtx(ctx, rt2))
	require.NoError(t, err)
	assert.Empty(t, recs, "orphaned pool records and their warm shims")
	require.NoError(t, rt2.Close())
	require.NoError(t, rt.Close()) // its slots are gone already: no error
	assertNoNetworkLeft(t)
}
