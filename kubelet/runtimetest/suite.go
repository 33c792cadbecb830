package runtimetest

import (
	"bytes"
	"context"
	"errors"

	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/kubelet"
	"github.com/gantry-sdk/gantry/kubelet/cri/critest"
	"github.com/gantry-sdk/gantry/kubelet/fake"
)

// Harness is what the suite needs of a runtime under test.
type Harness struct {
	// Runtime under test.
	Runtime kubelet.Runtime
	// Image is a busybox image present in the runtime.
	Image string
	// CgroupParent and LogDir go into every SandboxConfig.
	CgroupParent, LogDir string
	// Script tells a simulated runtime how the container named name behaves (a
	// real runtime runs its command and needs none: leave nil).
	Script func(name string, b fake.Behavior)
	// Real runtimes run real processes on a real network: the tests of the
	// network, of cgroups and of real commands run only then.
	Real bool
	// Reconnect returns a new client of the same runtime (an agent that
	// restarted) and how to close it.
	Reconnect func(ctx context.Context) (kubelet.Runtime, func(), error)
	// PodSecurity says the runtime applies SandboxConfig.DNS and Privileged
	// and ContainerConfig.Security, and reports Image.User: the real cases of
	// security.go (Security*, DNSConfigResolvConf, ImageUser) run only then,
	// so that a runtime can adopt them when it implements them.
	PodSecurity bool
	// NoStdinClose says the runtime's Exec cannot tell a process that its
	// stdin ended (CRI over WebSocket v4): the stdin EOF case is skipped.
	NoStdinClose bool
}

// Run runs every test of the suite against h.
func Run(t *testing.T, h Harness) {
	s := &suite{h: h}
	t.Run("SandboxLifecycle", s.sandboxLifecycle)
	t.Run("ExitCode", s.exitCode)
	t.Run("OOMKilled", s.oomKilled)
	t.Run("StopGraceful", s.stopGraceful)
	t.Run("StopKillsAfterGrace", s.stopKillsAfterGrace)
	t.Run("ExecSync", s.execSync)
	t.Run("Logs", s.logs)
	t.Run("Adoption", s.adoption)
	t.Run("Images", s.images)
	t.Run("ImageFsInfo", s.imageFsInfo)
	t.Run("Errors", s.errors)
	t.Run("HostReachesPod", s.hostReachesPod)
	t.Run("LocalhostWithinPod", s.localhostWithinPod)
	t.Run("CgroupLimits", s.cgroupLimits)
	// Exec and port-forward streams (see stream.go).
	t.Run("ExecStream", s.execStream)
	t.Run("ExecStreamTTY", s.execStreamTTY)
	t.Run("PortForwardLocalhost", s.portForwardLocalhost)
	// Pod DNS, security contexts and image users (see security.go).
	t.Run("SecurityContextValidation", s.securityContextValidation)
	t.Run("SecurityRunAsUserAndGroups", s.securityRunAsUserAndGroups)
	t.Run("SecurityRunAsGroupKeepsImageUser", s.securityRunAsGroupKeepsImageUser)
	t.Run("SecurityReadOnlyRootFilesystem", s.securityReadOnlyRootFilesystem)
	t.Run("SecurityCapabilities", s.securityCapabilities)
	t.Run("SecurityNoNewPrivileges", s.securityNoNewPrivileges)
	t.Run("SecurityPrivileged", s.securityPrivileged)
	t.Run("DNSConfigResolvConf", s.dnsConfigResolvConf)
	t.Run("EtcHostsMount", s.etcHostsMount)
	t.Run("ImageUser", s.imageUser)
}

type suite struct {
	h   Harness
	seq atomic.Int64
}

func (s *suite) script(name string, b fake.Behavior) {
	if s.h.Script != nil {
		s.h.Script(name, b)
	}
}

func (s *suite) needReal(t *testing.T) {
	if !s.h.Real {
		t.Skip("needs a real runtime (real processes and network)")
	}
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// pod runs a sandbox for the test and removes it at the end.
func (s *suite) pod(t *testing.T, ctx context.Context) kubelet.SandboxStatus {
	t.Helper()
	return s.podWith(t, ctx, nil)
}

// podWith is pod with the config changed by edit first.
func (s *suite) podWith(t *testing.T, ctx context.Context, edit func(*kubelet.SandboxConfig)) kubelet.SandboxStatus {
	t.Helper()
	n := s.seq.Add(1)
	name := strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()))
	cfg := kubelet.SandboxConfig{
		Name: name, Namespace: "suite", UID: fmt.Sprintf("uid-%d-%d", os.Getpid(), n),
		LogDirectory: s.h.LogDir, CgroupParent: s.h.CgroupParent,
		Labels: map[string]string{"suite-test": fmt.Sprint(n)},
	}
	if edit != nil {
		edit(&cfg)
	}
	sb, err := s.h.Runtime.RunPodSandbox(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.h.Runtime.StopPodSandbox(ctx, sb.ID); !errors.Is(err, kubelet.ErrNotFound) {
			assert.NoError(t, err)
		}
		assert.NoError(t, s.h.Runtime.RemovePodSandbox(ctx, sb.ID))
	})
	return sb
}

// run creates and starts a container named name running cmd in the sandbox.
func (s *suite) run(t *testing.T, ctx context.Context, sb kubelet.SandboxStatus, name string, cmd []string, res kubelet.Resources) string {
	t.Helper()
	id, err := s.h.Runtime.CreateContainer(ctx, sb.ID, kubelet.ContainerConfig{
		Name: name, Image: s.h.Image, Command: cmd, LogPath: sb.UID + "/" + name + "/0.log", Resources: res,
	})
	require.NoError(t, err)
	require.NoError(t, s.h.Runtime.StartContainer(ctx, id))
	return id
}

// waitExited polls until the container exited and returns its status.
func (s *suite) waitExited(t *testing.T, ctx context.Context, id string) kubelet.ContainerStatus {
	t.Helper()
	for {
		st, err := s.h.Runtime.ContainerStatus(ctx, id)
		require.NoError(t, err)
		if st.State == kubelet.ContainerExited {
			return st
		}
		select {
		case <-ctx.Done():
			t.Fatalf("container %s still %s: %v", id, st.State, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (s *suite) sandboxLifecycle(t *testing.T) {
	ctx := ctxFor(t)
	rt := s.h.Runtime
	sb := s.pod(t, ctx)
	assert.Equal(t, kubelet.SandboxReady, sb.State)
	ip, err := netip.ParseAddr(sb.IP)
	require.NoError(t, err, "pod IP %q", sb.IP)
	assert.True(t, ip.Is4() && ip.IsPrivate(), "pod IP %s", ip)

	list, err := rt.ListPodSandboxes(ctx, kubelet.SandboxFilter{Labels: map[string]string{kubelet.LabelPodUID: sb.UID}})
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, sb.ID, list[0].ID)
	assert.Equal(t, sb.Name, list[0].Name)

	// A second sandbox of another pod gets another IP.
	other := s.pod(t, ctx)
	assert.NotEqual(t, sb.IP, other.IP)

	require.NoError(t, rt.StopPodSandbox(ctx, sb.ID))
	st, err := rt.PodSandboxStatus(ctx, sb.ID)
	require.NoError(t, err)
	assert.Equal(t, kubelet.SandboxNotReady, st.State)
	require.NoError(t, rt.StopPodSandbox(ctx, sb.ID), "stopping twice")
	require.NoError(t, rt.RemovePodSandbox(ctx, sb.ID))
	_, err = rt.PodSandboxStatus(ctx, sb.ID)
	assert.ErrorIs(t, err, kubelet.ErrNotFound)
}

func (s *suite) exitCode(t *testing.T) {
	ctx := ctxFor(t)
	sb := s.pod(t, ctx)
	s.script("fails", fake.Behavior{Exit: true, ExitAfter: 50 * time.Millisecond, ExitCode: 3})
	s.script("succeeds", fake.Behavior{Exit: true, ExitAfter: 10 * time.Millisecond})
	failing := s.run(t, ctx, sb, "fails", []string{"sh", "-c", "sleep 0.05; exit 3"}, kubelet.Resources{})
	succeeding := s.run(t, ctx, sb, "succeeds", []string{"true"}, kubelet.Resources{})

	st := s.waitExited(t, ctx, failing)
	assert.Equal(t, int32(3), st.ExitCode)
	assert.Equal(t, kubelet.ReasonError, st.Reason)
	assert.Equal(t, "fails", st.Name)
	assert.Equal(t, sb.ID, st.SandboxID)
	assert.False(t, st.StartedAt.IsZero())
	assert.False(t, st.FinishedAt.Before(st.StartedAt.Truncate(time.Second)), "finished %v before started %v", st.FinishedAt, st.StartedAt)

	st = s.waitExited(t, ctx, succeeding)
	assert.Equal(t, int32(0), st.ExitCode)
	assert.Equal(t, kubelet.ReasonCompleted, st.Reason)
}

func (s *suite) oomKilled(t *testing.T) {
	ctx := ctxFor(t)
	sb := s.pod(t, ctx)
	s.script("hog", fake.Behavior{OOM: true, ExitAfter: 100 * time.Millisecond})
	// tail buffers the newline-free /dev/zero without bound.
	id := s.run(t, ctx, sb, "hog", []string{"tail", "/dev/zero"}, kubelet.Resources{MemoryLimit: 32 << 20})
	st := s.waitExited(t, ctx, id)
	assert.Equal(t, kubelet.ReasonOOMKilled, st.Reason)
	assert.Equal(t, int32(137), st.ExitCode)
}

func (s *suite) stopGraceful(t *testing.T) {
	ctx := ctxFor(t)
	sb := s.pod(t, ctx)
	s.script("graceful", fake.Behavior{OnSIGTERM: fake.TermExits, TermExitCode: 7})
	id := s.run(t, ctx, sb, "graceful", []string{"sh", "-c", "trap 'exit 7' TERM; while true; do sleep 0.1; done"}, kubelet.Resources{})
	s.waitRunning(t, ctx, id)
	require.NoError(t, s.h.Runtime.StopContainer(ctx, id, 30*time.Second))
	st, err := s.h.Runtime.ContainerStatus(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, kubelet.ContainerExited, st.State)
	// 7 comes only from the handler: SIGTERM was delivered and handled, no SIGKILL.
	assert.Equal(t, int32(7), st.ExitCode)
	require.NoError(t, s.h.Runtime.StopContainer(ctx, id, time.Second), "stopping an exited container")
}

func (s *suite) waitRunning(t *testing.T, ctx context.Context, id string) {
	t.Helper()
	for {
		st, err := s.h.Runtime.ContainerStatus(ctx, id)
		require.NoError(t, err)
		if st.State == kubelet.ContainerRunning {
			// A shell installs its trap a moment after exec: give it that moment.
			if s.h.Real {
				time.Sleep(200 * time.Millisecond)
			}
			return
		}
		require.NotEqual(t, kubelet.ContainerExited, st.State, "container exited early: %+v", st)
		select {
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func (s *suite) stopKillsAfterGrace(t *testing.T) {
	ctx := ctxFor(t)
	sb := s.pod(t, ctx)
	s.script("stubborn", fake.Behavior{OnSIGTERM: fake.TermIgnored})
	// sleep as PID 1 has no SIGTERM handler, and PID 1 ignores unhandled signals.
	id := s.run(t, ctx, sb, "stubborn", []string{"sleep", "3600"}, kubelet.Resources{})
	s.waitRunning(t, ctx, id)
	start := time.Now()
	const grace = time.Second
	require.NoError(t, s.h.Runtime.StopContainer(ctx, id, grace))
	took := time.Since(start)
	st, err := s.h.Runtime.ContainerStatus(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, kubelet.ContainerExited, st.State)
	assert.Equal(t, int32(137), st.ExitCode, "SIGKILL")
	assert.GreaterOrEqual(t, took, grace-50*time.Millisecond, "killed before the grace period ended")
}

func (s *suite) execSync(t *testing.T) {
	ctx := ctxFor(t)
	sb := s.pod(t, ctx)
	s.script("execd", fake.Behavior{Exec: func(cmd []string) kubelet.ExecResult {
		if len(cmd) == 3 && cmd[2] == "echo hello; echo oops >&2; exit 4" {
			return kubelet.ExecResult{Stdout: []byte("hello\n"), Stderr: []byte("oops\n"), ExitCode: 4}
		}
		return kubelet.ExecResult{ExitCode: 127}
	}})
	id := s.run(t, ctx, sb, "execd", []string{"sleep", "3600"}, kubelet.Resources{})
	s.waitRunning(t, ctx, id)
	res, err := s.h.Runtime.ExecSync(ctx, id, []string{"sh", "-c", "echo hello; echo oops >&2; exit 4"}, 10*time.Second)
	require.NoError(t, err)
	assert.Equal(t, "hello\n", string(res.Stdout))
	assert.Equal(t, "oops\n", string(res.Stderr))
	assert.Equal(t, int32(4), res.ExitCode)

	_, err = s.h.Runtime.ExecSync(ctx, id, nil, time.Second)
	assert.ErrorIs(t, err, kubelet.ErrInvalid)
}

func (s *suite) logs(t *testing.T) {
	ctx := ctxFor(t)
	if s.h.LogDir == "" {
		t.Skip("no log directory")
	}
	sb := s.pod(t, ctx)
	s.script("logger", fake.Behavior{Exit: true, Logs: []fake.LogEntry{{Stream: "stdout", Line: "line one"}, {Stream: "stderr", Line: "line two"}}})
	id := s.run(t, ctx, sb, "logger", []string{"sh", "-c", "echo line one; sleep 0.1; echo line two >&2"}, kubelet.Resources{})
	st := s.waitExited(t, ctx, id)
	require.NotEmpty(t, st.LogPath)
	assert.True(t, strings.HasPrefix(st.LogPath, s.h.LogDir), "log path %s outside %s", st.LogPath, s.h.LogDir)
	// The runtime may flush the file a moment after the exit is recorded.
	var lines []kubelet.LogLine
	for range 250 {
		lines = lines[:0]
		f, err := os.Open(st.LogPath)
		require.NoError(t, err)
		err = kubelet.ReadLogs(f, func(l kubelet.LogLine) bool { lines = append(lines, l); return true })
		f.Close()
		require.NoError(t, err)
		if len(lines) >= 2 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	require.Len(t, lines, 2)
	assert.Equal(t, "stdout", lines[0].Stream)
	assert.Equal(t, "line one", string(lines[0].Content))
	assert.Equal(t, "stderr", lines[1].Stream)
	assert.Equal(t, "line two", string(lines[1].Content))
	assert.False(t, lines[0].Time.IsZero())
}

func (s *suite) adoption(t *testing.T) {
	ctx := ctxFor(t)
	sb := s.pod(t, ctx)
	id := s.run(t, ctx, sb, "long", []string{"sleep", "3600"}, kubelet.Resources{})
	s.waitRunning(t, ctx, id)

	rt, closeFn, err := s.h.Reconnect(ctx)
	require.NoError(t, err)
	defer closeFn()
	sbs, err := rt.ListPodSandboxes(ctx, kubelet.SandboxFilter{Labels: map[string]string{kubelet.LabelPodUID: sb.UID}})
	require.NoError(t, err)
	require.Len(t, sbs, 1)
	assert.Equal(t, sb.ID, sbs[0].ID)
	running := kubelet.ContainerRunning
	cs, err := rt.ListContainers(ctx, kubelet.ContainerFilter{State: &running, Labels: map[string]string{kubelet.LabelPodUID: sb.UID}})
	require.NoError(t, err)
	require.Len(t, cs, 1)
	assert.Equal(t, id, cs[0].ID)
	assert.Equal(t, "long", cs[0].Name)
	assert.Equal(t, sb.ID, cs[0].SandboxID)
	assert.Equal(t, "long", cs[0].Labels[kubelet.LabelContainerName])

	// The new client can keep working in the adopted sandbox, logs included.
	cid, err := rt.CreateContainer(ctx, sb.ID, kubelet.ContainerConfig{Name: "late", Image: s.h.Image, Command: []string{"true"}, LogPath: sb.UID + "/late/0.log"})
	require.NoError(t, err)
	st, err := rt.ContainerStatus(ctx, cid)
	require.NoError(t, err)
	if s.h.LogDir != "" {
		assert.True(t, strings.HasPrefix(st.LogPath, s.h.LogDir), "log path %q", st.LogPath)
	}
	require.NoError(t, rt.RemoveContainer(ctx, cid))
	// The original container was left alone.
	st, err = s.h.Runtime.ContainerStatus(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, kubelet.ContainerRunning, st.State)
}

func (s *suite) images(t *testing.T) {
	ctx := ctxFor(t)
	rt := s.h.Runtime
	img, err := rt.ImageStatus(ctx, s.h.Image)
	require.NoError(t, err)
	assert.Contains(t, img.Names, s.h.Image)
	all, err := rt.ListImages(ctx)
	require.NoError(t, err)
	found := false
	for _, i := range all {
		found = found || i.ID == img.ID
	}
	assert.True(t, found, "ListImages lacks %s", img.ID)

	name := fmt.Sprintf("gantry.local/imported-%d:v1", s.seq.Add(1))
	var archive bytes.Buffer
	layer, err := critest.FileLayer(map[string][]byte{"hello.txt": []byte("hi\n")})
	require.NoError(t, err)
	require.NoError(t, critest.WriteOCIArchive(&archive, layer, critest.Image{Name: name, Cmd: []string{"/hello"}}))
	imported, err := rt.ImportImage(ctx, &archive)
	require.NoError(t, err)
	require.Len(t, imported, 1)
	assert.Contains(t, imported[0].Names, name)
	st, err := rt.ImageStatus(ctx, name)
	require.NoError(t, err)
	assert.Equal(t, imported[0].ID, st.ID)
	require.NoError(t, rt.RemoveImage(ctx, name))
	_, err = rt.ImageStatus(ctx, name)
	assert.ErrorIs(t, err, kubelet.ErrNotFound)
	require.NoError(t, rt.RemoveImage(ctx, name), "removing twice")

	_, err = rt.ImportImage(ctx, strings.NewReader("not a tar"))
	assert.Error(t, err)
}

func (s *suite) errors(t *testing.T) {
	ctx := ctxFor(t)
	rt := s.h.Runtime
	_, err := rt.ContainerStatus(ctx, "0123456789abcdef0123456789abcdef")
	assert.ErrorIs(t, err, kubelet.ErrNotFound)
	_, err = rt.PodSandboxStatus(ctx, "0123456789abcdef0123456789abcdef")
	assert.ErrorIs(t, err, kubelet.ErrNotFound)
	_, err = rt.ImageStatus(ctx, "gantry.local/absent:v0")
	assert.ErrorIs(t, err, kubelet.ErrNotFound)
	_, err = rt.RunPodSandbox(ctx, kubelet.SandboxConfig{Name: "x", Namespace: "y"})
	assert.ErrorIs(t, err, kubelet.ErrInvalid)
	assert.ErrorContains(t, err, "uid")

	sb := s.pod(t, ctx)
	_, err = rt.CreateContainer(ctx, sb.ID, kubelet.ContainerConfig{Name: "c"})
	assert.ErrorIs(t, err, kubelet.ErrInvalid)
	assert.ErrorContains(t, err, "image")
	_, err = rt.CreateContainer(ctx, sb.ID, kubelet.ContainerConfig{Name: "c", Image: s.h.Image, Resources: kubelet.Resources{OOMScoreAdj: -500}})
	assert.ErrorIs(t, err, kubelet.ErrInvalid)
	assert.ErrorContains(t, err, "oomScoreAdj")
	_, err = rt.CreateContainer(ctx, sb.ID, kubelet.ContainerConfig{Name: "c", Image: "gantry.local/absent:v0"})
	assert.ErrorIs(t, err, kubelet.ErrNotFound)
	require.NoError(t, rt.RemoveContainer(ctx, "0123456789abcdef0123456789abcdef"))
}

func (s *suite) hostReachesPod(t *testing.T) {
	s.needReal(t)
	ctx := ctxFor(t)
	sb := s.pod(t, ctx)
	s.run(t, ctx, sb, "web", []string{"httpd", "-f", "-p", "8080", "-h", "/var/www"}, kubelet.Resources{})
	url := "http://" + net.JoinHostPort(sb.IP, "8080") + "/index.html"
	client := &http.Client{Timeout: 2 * time.Second}
	var lastErr error
	for range 100 {
		resp, err := client.Get(url)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, "gantry\n", string(body))
			return
		}
		lastErr = err
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("host cannot reach the pod at %s: %v", url, lastErr)
}

func (s *suite) localhostWithinPod(t *testing.T) {
	s.needReal(t)
	ctx := ctxFor(t)
	sb := s.pod(t, ctx)
	s.run(t, ctx, sb, "server", []string{"httpd", "-f", "-p", "127.0.0.1:8081", "-h", "/var/www"}, kubelet.Resources{})
	client := s.run(t, ctx, sb, "client", []string{"sleep", "3600"}, kubelet.Resources{})
	s.waitRunning(t, ctx, client)
	var last kubelet.ExecResult
	for range 100 {
		res, err := s.h.Runtime.ExecSync(ctx, client, []string{"wget", "-q", "-O", "-", "http://127.0.0.1:8081/index.html"}, 5*time.Second)
		require.NoError(t, err)
		if res.ExitCode == 0 {
			assert.Equal(t, "gantry\n", string(res.Stdout))
			return
		}
		last = res
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("client cannot reach the server over localhost: %d %s", last.ExitCode, last.Stderr)
}

func (s *suite) cgroupLimits(t *testing.T) {
	s.needReal(t)
	ctx := ctxFor(t)
	sb := s.pod(t, ctx)
	id := s.run(t, ctx, sb, "limited", []string{"sleep", "3600"}, kubelet.Resources{
		CPUShares: 512, CPUQuota: 25000, CPUPeriod: 100000, MemoryLimit: 64 << 20,
	})
	s.waitRunning(t, ctx, id)
	// cgroup v2 files first, then v1 (this kind of machine is a v1 hybrid).
	read := func(paths ...string) string {
		cmd := "for f in " + strings.Join(paths, " ") + "; do [ -r $f ] && { cat $f; exit 0; }; done; exit 1"
		res, err := s.h.Runtime.ExecSync(ctx, id, []string{"sh", "-c", cmd}, 5*time.Second)
		require.NoError(t, err)
		require.Zero(t, res.ExitCode, "none of %v readable: %s", paths, res.Stderr)
		return strings.TrimSpace(string(res.Stdout))
	}
	mem := read("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes")
	assert.Equal(t, fmt.Sprint(64<<20), mem)
	cpu := read("/sys/fs/cgroup/cpu.max", "/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us")
	assert.True(t, cpu == "25000" || cpu == "25000 100000", "cpu quota %q", cpu)
	if shares := read("/sys/fs/cgroup/cpu/cpu.shares", "/sys/fs/cgroup/cpu,cpuacct/cpu.shares", "/sys/fs/cgroup/cpu.weight"); shares != "" {
		assert.Contains(t, []string{"512", "20"}, shares, "cpu shares (v1) or weight (v2)")
	}
	res, err := s.h.Runtime.ExecSync(ctx, id, []string{"cat", "/proc/self/oom_score_adj"}, 5*time.Second)
	require.NoError(t, err)
	adj := strings.TrimSpace(string(res.Stdout))
	assert.False(t, strings.HasPrefix(adj, "-"), "negative oom_score_adj %s", adj)
}
