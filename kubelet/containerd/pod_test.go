package containerd_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/kubelet"
	"github.com/gantry-sdk/gantry/kubelet/containerd"
)

func TestPodDNSAndHostname(t *testing.T) {
	hostResolv := filepath.Join(t.TempDir(), "resolv.conf")
	require.NoError(t, os.WriteFile(hostResolv, []byte("nameserver 192.0.2.53\nsearch host.example\n"), 0o644))
	rt := dial(t, containerd.Options{PoolSize: 1, HostResolvConf: hostResolv})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	t.Run("dns config", func(t *testing.T) {
		require.NoError(t, rt.WaitPool(ctx, 1)) // a pool hit
		sb := podFor(t, ctx, rt, kubelet.SandboxConfig{Hostname: "web-0", DNS: kubelet.DNSConfig{
			Servers:  []string{"10.96.0.10", "10.96.0.11"},
			Searches: []string{"ns.svc.cluster.local", "svc.cluster.local"},
			Options:  []string{"ndots:5", "timeout:2"},
		}})
		id := sleeper(t, ctx, rt, sb.ID, kubelet.ContainerConfig{})
		assert.Equal(t, "search ns.svc.cluster.local svc.cluster.local\nnameserver 10.96.0.10\nnameserver 10.96.0.11\noptions ndots:5 timeout:2",
			sh(t, ctx, rt, id, "cat /etc/resolv.conf"))
		assert.Equal(t, "web-0", sh(t, ctx, rt, id, "cat /etc/hostname"))
		assert.Equal(t, "web-0", sh(t, ctx, rt, id, "hostname"))
	})
	t.Run("host resolv.conf", func(t *testing.T) {
		sb := podFor(t, ctx, rt, kubelet.SandboxConfig{Name: "nodns"})
		id := sleeper(t, ctx, rt, sb.ID, kubelet.ContainerConfig{})
		assert.Equal(t, "nameserver 192.0.2.53\nsearch host.example", sh(t, ctx, rt, id, "cat /etc/resolv.conf"))
		assert.Equal(t, "nodns", sh(t, ctx, rt, id, "cat /etc/hostname"), "the pod's name without a hostname")
	})
	t.Run("caller's mounts win", func(t *testing.T) {
		dir := t.TempDir()
		hosts, resolv := filepath.Join(dir, "hosts"), filepath.Join(dir, "resolv")
		require.NoError(t, os.WriteFile(hosts, []byte("127.0.0.1 localhost\n10.1.2.3 web-0\n"), 0o644))
		require.NoError(t, os.WriteFile(resolv, []byte("nameserver 198.51.100.1\n"), 0o644))
		sb := podFor(t, ctx, rt, kubelet.SandboxConfig{Name: "mounts", DNS: kubelet.DNSConfig{Servers: []string{"10.96.0.10"}}})
		id := sleeper(t, ctx, rt, sb.ID, kubelet.ContainerConfig{Mounts: []kubelet.Mount{
			{ContainerPath: "/etc/hosts", HostPath: hosts, ReadOnly: true},
			{ContainerPath: "/etc/resolv.conf", HostPath: resolv},
		}})
		assert.Equal(t, "127.0.0.1 localhost\n10.1.2.3 web-0", sh(t, ctx, rt, id, "cat /etc/hosts"))
		assert.Equal(t, "nameserver 198.51.100.1", sh(t, ctx, rt, id, "cat /etc/resolv.conf"))
	})
	t.Run("read-only root", func(t *testing.T) {
		sb := podFor(t, ctx, rt, kubelet.SandboxConfig{Name: "ro"})
		id := sleeper(t, ctx, rt, sb.ID, kubelet.ContainerConfig{Security: kubelet.SecurityContext{ReadOnlyRootFilesystem: true}})
		res, err := rt.ExecSync(ctx, id, []string{"sh", "-c", "echo x >> /etc/resolv.conf"}, 10*time.Second)
		require.NoError(t, err)
		assert.NotZero(t, res.ExitCode, "resolv.conf is read-only under a read-only root")
		sh(t, ctx, rt, id, "echo x > /dev/shm/f") // /dev/shm stays writable
	})
	t.Run("bad dns", func(t *testing.T) {
		_, err := rt.RunPodSandbox(ctx, kubelet.SandboxConfig{Name: "bad", Namespace: "sec", UID: "bad-dns", DNS: kubelet.DNSConfig{Servers: []string{"10.0.0.1 evil"}}})
		require.ErrorIs(t, err, kubelet.ErrInvalid)
		assert.Contains(t, err.Error(), "dns.servers[0]")
	})
}

func TestPodSharesIPCAndShm(t *testing.T) {
	for _, tc := range []struct {
		name string
		pool int
	}{{"pool", 2}, {"no-pool", -1}} {
		t.Run(tc.name, func(t *testing.T) {
			rt := dial(t, containerd.Options{PoolSize: tc.pool})
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			if tc.pool > 0 {
				require.NoError(t, rt.WaitPool(ctx, tc.pool))
			}
			sb1 := podFor(t, ctx, rt, kubelet.SandboxConfig{Name: "one"})
			a := sleeper(t, ctx, rt, sb1.ID, kubelet.ContainerConfig{Name: "a"})
			b := sleeper(t, ctx, rt, sb1.ID, kubelet.ContainerConfig{Name: "b"})
			sb2 := podFor(t, ctx, rt, kubelet.SandboxConfig{Name: "two"})
			c := sleeper(t, ctx, rt, sb2.ID, kubelet.ContainerConfig{Name: "c"})

			ipc := func(id string) string { return sh(t, ctx, rt, id, "readlink /proc/1/ns/ipc") }
			assert.Equal(t, ipc(a), ipc(b), "one IPC namespace per pod")
			assert.NotEqual(t, ipc(a), ipc(c), "pods do not share IPC")
			assert.NotEqual(t, hostIPC(t), ipc(a), "not the host's")

			sh(t, ctx, rt, a, "echo shared > /dev/shm/f")
			assert.Equal(t, "shared", sh(t, ctx, rt, b, "cat /dev/shm/f"))
			assert.Equal(t, "absent", sh(t, ctx, rt, c, "test -e /dev/shm/f && echo present || echo absent"))
			assert.Contains(t, sh(t, ctx, rt, a, "grep ' /dev/shm ' /proc/mounts"), "shm /dev/shm tmpfs rw,nosuid,nodev,noexec")

			// Removing the pod releases its namespace, tmpfs and files.
			dir := podDir(t, rt, sb1.ID)
			require.DirExists(t, dir)
			require.NoError(t, rt.StopPodSandbox(ctx, sb1.ID))
			assert.Contains(t, mountsUnder(t, dir), filepath.Join(dir, "ipc"), "kept until the pod is removed")
			require.NoError(t, rt.RemovePodSandbox(ctx, sb1.ID))
			assert.NoDirExists(t, dir)
			assert.Empty(t, mountsUnder(t, dir))
		})
	}
}

func TestOrphanedPodFilesCollected(t *testing.T) {
	const ns = "gantry-orphan-files"
	rt := dial(t, containerd.Options{PoolSize: -1, Namespace: ns})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sb := podFor(t, ctx, rt, kubelet.SandboxConfig{Name: "orphan"})
	dir := podDir(t, rt, sb.ID)
	netns := filepath.Join(filepath.Dir(filepath.Dir(dir)), "netns", sb.ID)
	require.FileExists(t, netns)
	// A crash between the files and the record: the record goes, the files stay.
	require.NoError(t, rt.Client().ContainerService().Delete(nsCtx(ctx, rt), sb.ID))
	rt2 := dial(t, containerd.Options{PoolSize: -1, Namespace: ns})
	assert.NoDirExists(t, dir)
	assert.NoFileExists(t, netns)
	assert.Empty(t, mountsUnder(t, dir))
	require.NoError(t, rt2.Close())
}

// podDir is where the Runtime keeps a pod's shared files.
func podDir(t *testing.T, rt *containerd.Runtime, sandboxID string) string {
	t.Helper()
	rec, err := rt.Client().ContainerService().Get(nsCtx(context.Background(), rt), sandboxID)
	require.NoError(t, err)
	dir := rec.Labels["gantry.dev/pod-dir"]
	require.NotEmpty(t, dir)
	return dir
}

// mountsUnder lists this mount namespace's mount points at or below dir.
func mountsUnder(t *testing.T, dir string) []string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	require.NoError(t, err)
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) > 4 && (f[4] == dir || strings.HasPrefix(f[4], dir+"/")) {
			out = append(out, f[4])
		}
	}
	return out
}

func hostIPC(t *testing.T) string {
	l, err := os.Readlink("/proc/self/ns/ipc")
	require.NoError(t, err)
	return l
}
