package fake_test

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/gantry-sdk/gantry/kubelet"
	"github.com/gantry-sdk/gantry/kubelet/fake"
	"github.com/gantry-sdk/gantry/kubelet/runtimetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const image = "gantry.local/busybox:test"

func TestRuntimeSuite(t *testing.T) {
	rt := fake.New(fake.Options{Images: []string{image}})
	runtimetest.Run(t, runtimetest.Harness{
		Runtime: rt,
		Image:   image,
		LogDir:  t.TempDir(),
		Script:  rt.Script,
		Reconnect: func(ctx context.Context) (kubelet.Runtime, func(), error) {
			// A simulated runtime's state lives in the process: a new client is
			// the same object, as a restarted agent in the same test would see.
			return rt, func() {}, nil
		},
	})
}

func newPod(t *testing.T, rt *fake.Runtime, name string) kubelet.SandboxStatus {
	t.Helper()
	sb, err := rt.RunPodSandbox(context.Background(), kubelet.SandboxConfig{Name: name, Namespace: "ns", UID: "uid-" + name})
	require.NoError(t, err)
	return sb
}

func TestScriptedTimelineOnManualClock(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := fake.NewManualClock(start)
	rt := fake.New(fake.Options{Clock: clock, Images: []string{image}})
	rt.Script("crasher", fake.Behavior{Exit: true, ExitAfter: 3 * time.Second, ExitCode: 2})
	rt.ScriptImage("gantry.local/hog:v1", fake.Behavior{OOM: true, ExitAfter: 10 * time.Second})
	_, err := rt.PullImage(ctx, "gantry.local/hog:v1")
	require.NoError(t, err)

	sb := newPod(t, rt, "p")
	crasher, err := rt.CreateContainer(ctx, sb.ID, kubelet.ContainerConfig{Name: "crasher", Image: image})
	require.NoError(t, err)
	hog, err := rt.CreateContainer(ctx, sb.ID, kubelet.ContainerConfig{Name: "hog", Image: "gantry.local/hog:v1"})
	require.NoError(t, err)
	require.NoError(t, rt.StartContainer(ctx, crasher))
	require.NoError(t, rt.StartContainer(ctx, hog))

	state := func(id string) kubelet.ContainerStatus {
		st, err := rt.ContainerStatus(ctx, id)
		require.NoError(t, err)
		return st
	}
	assert.Equal(t, kubelet.ContainerRunning, state(crasher).State)
	clock.Advance(2999 * time.Millisecond)
	assert.Equal(t, kubelet.ContainerRunning, state(crasher).State)
	clock.Advance(time.Millisecond)
	st := state(crasher)
	assert.Equal(t, kubelet.ContainerExited, st.State)
	assert.Equal(t, int32(2), st.ExitCode)
	assert.Equal(t, start.Add(3*time.Second), st.FinishedAt)
	assert.Equal(t, kubelet.ContainerRunning, state(hog).State)
	clock.Advance(7 * time.Second)
	st = state(hog)
	assert.Equal(t, kubelet.ReasonOOMKilled, st.Reason)
	assert.Equal(t, int32(137), st.ExitCode)
	assert.Zero(t, clock.Pending())
}

func TestStartDelayAndGraceOnManualClock(t *testing.T) {
	ctx := context.Background()
	clock := fake.NewManualClock(time.Unix(1000, 0))
	rt := fake.New(fake.Options{Clock: clock, Images: []string{image}})
	rt.Script("slow", fake.Behavior{StartDelay: 5 * time.Second, OnSIGTERM: fake.TermIgnored})
	sb := newPod(t, rt, "p")
	id, err := rt.CreateContainer(ctx, sb.ID, kubelet.ContainerConfig{Name: "slow", Image: image})
	require.NoError(t, err)

	started := make(chan error, 1)
	go func() { started <- rt.StartContainer(ctx, id) }()
	waitPending(t, clock, 1)
	clock.Advance(5 * time.Second)
	require.NoError(t, <-started)
	st, _ := rt.ContainerStatus(ctx, id)
	assert.Equal(t, time.Unix(1005, 0), st.StartedAt)

	stopped := make(chan error, 1)
	go func() { stopped <- rt.StopContainer(ctx, id, 30*time.Second) }()
	waitPending(t, clock, 1)
	clock.Advance(29 * time.Second)
	select {
	case err := <-stopped:
		t.Fatalf("stopped before the grace period: %v", err)
	default:
	}
	clock.Advance(time.Second)
	require.NoError(t, <-stopped)
	st, _ = rt.ContainerStatus(ctx, id)
	assert.Equal(t, int32(137), st.ExitCode)
	assert.Equal(t, time.Unix(1035, 0), st.FinishedAt)
}

func waitPending(t *testing.T, c *fake.ManualClock, n int) {
	t.Helper()
	for c.Pending() < n {
		time.Sleep(time.Millisecond)
	}
}

func TestProbeResultsChangeOverTime(t *testing.T) {
	ctx := context.Background()
	rt := fake.New(fake.Options{Images: []string{image}})
	var mu sync.Mutex
	healthy := true
	rt.Script("app", fake.Behavior{Exec: func(cmd []string) kubelet.ExecResult {
		mu.Lock()
		defer mu.Unlock()
		if healthy {
			return kubelet.ExecResult{Stdout: []byte("ok")}
		}
		return kubelet.ExecResult{ExitCode: 1}
	}})
	sb := newPod(t, rt, "p")
	id, err := rt.CreateContainer(ctx, sb.ID, kubelet.ContainerConfig{Name: "app", Image: image})
	require.NoError(t, err)
	require.NoError(t, rt.StartContainer(ctx, id))
	res, err := rt.ExecSync(ctx, id, []string{"check"}, time.Second)
	require.NoError(t, err)
	assert.Zero(t, res.ExitCode)
	mu.Lock()
	healthy = false
	mu.Unlock()
	res, err = rt.ExecSync(ctx, id, []string{"check"}, time.Second)
	require.NoError(t, err)
	assert.Equal(t, int32(1), res.ExitCode)
}

func TestThousandsOfPods(t *testing.T) {
	ctx := context.Background()
	clock := fake.NewManualClock(time.Unix(0, 0))
	rt := fake.New(fake.Options{Clock: clock, Images: []string{image}})
	rt.Script("job", fake.Behavior{Exit: true, ExitAfter: time.Minute})
	const pods = 3000
	var wg sync.WaitGroup
	ips := make([]string, pods)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < pods; i += 8 {
				sb, err := rt.RunPodSandbox(ctx, kubelet.SandboxConfig{Name: fmt.Sprint("p", i), Namespace: "ns", UID: fmt.Sprint("u", i)})
				if !assert.NoError(t, err) {
					return
				}
				ips[i] = sb.IP
				id, err := rt.CreateContainer(ctx, sb.ID, kubelet.ContainerConfig{Name: "job", Image: image})
				if !assert.NoError(t, err) {
					return
				}
				assert.NoError(t, rt.StartContainer(ctx, id))
			}
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, ip := range ips {
		assert.False(t, seen[ip], "IP %s given twice", ip)
		seen[ip] = true
	}
	running := kubelet.ContainerRunning
	list, err := rt.ListContainers(ctx, kubelet.ContainerFilter{State: &running})
	require.NoError(t, err)
	assert.Len(t, list, pods)
	clock.Advance(time.Minute)
	exited := kubelet.ContainerExited
	list, err = rt.ListContainers(ctx, kubelet.ContainerFilter{State: &exited})
	require.NoError(t, err)
	assert.Len(t, list, pods)
}

func TestIPsAreReusedAfterStop(t *testing.T) {
	ctx := context.Background()
	rt := fake.New(fake.Options{})
	a := newPod(t, rt, "a")
	require.NoError(t, rt.StopPodSandbox(ctx, a.ID))
	b := newPod(t, rt, "b")
	assert.Equal(t, a.IP, b.IP)
	_, err := rt.RunPodSandbox(ctx, kubelet.SandboxConfig{Name: "b", Namespace: "ns", UID: "uid-b"})
	assert.ErrorIs(t, err, kubelet.ErrAlreadyExists)
}

// BenchmarkPodStart is the cost of a simulated pod start (sandbox, create,
// start) on a runtime already holding b.N pods: what simulating many nodes costs.
func BenchmarkPodStart(b *testing.B) {
	ctx := context.Background()
	rt := fake.New(fake.Options{Clock: fake.NewManualClock(time.Unix(0, 0)), Images: []string{image}, PodCIDR: netip.MustParsePrefix("10.0.0.0/8")})
	for i := 0; b.Loop(); i++ {
		sb, err := rt.RunPodSandbox(ctx, kubelet.SandboxConfig{Name: fmt.Sprint("p", i), Namespace: "ns", UID: fmt.Sprint("u", i)})
		if err != nil {
			b.Fatal(err)
		}
		id, err := rt.CreateContainer(ctx, sb.ID, kubelet.ContainerConfig{Name: "app", Image: image})
		if err != nil {
			b.Fatal(err)
		}
		if err := rt.StartContainer(ctx, id); err != nil {
			b.Fatal(err)
		}
	}
}

func TestRecordsSecurityDNSAndImageUser(t *testing.T) {
	ctx := context.Background()
	rt := fake.New(fake.Options{Images: []string{image, "app:v1"}, ImageUsers: map[string]string{"app:v1": "1000:1000", "late:v1": "nobody"}})
	img, err := rt.ImageStatus(ctx, "app:v1")
	require.NoError(t, err)
	assert.Equal(t, "1000:1000", img.User)
	img, err = rt.ImageStatus(ctx, image)
	require.NoError(t, err)
	assert.Empty(t, img.User, "unlisted images run as root")
	_, err = rt.PullImage(ctx, "late:v1")
	require.NoError(t, err)
	img, err = rt.ImageStatus(ctx, "late:v1")
	require.NoError(t, err)
	assert.Equal(t, "nobody", img.User)
	rt.SetImageUser(image, "65534")
	img, err = rt.ImageStatus(ctx, image)
	require.NoError(t, err)
	assert.Equal(t, "65534", img.User)

	dns := kubelet.DNSConfig{Servers: []string{"10.96.0.10"}, Searches: []string{"ns.svc.cluster.local"}, Options: []string{"ndots:5"}}
	sb, err := rt.RunPodSandbox(ctx, kubelet.SandboxConfig{Name: "p", Namespace: "ns", UID: "u", Hostname: "h", DNS: dns})
	require.NoError(t, err)
	cfg, err := rt.SandboxConfig(sb.ID)
	require.NoError(t, err)
	assert.Equal(t, dns, cfg.DNS)
	assert.Equal(t, "h", cfg.Hostname)
	cfg.DNS.Servers[0] = "changed"
	cfg, _ = rt.SandboxConfig(sb.ID)
	assert.Equal(t, "10.96.0.10", cfg.DNS.Servers[0], "callers get copies")

	uid := int64(1000)
	sec := kubelet.SecurityContext{RunAsUser: &uid, SupplementalGroups: []int64{2000}, CapDrop: []string{"ALL"}, CapAdd: []string{"NET_BIND_SERVICE"}, ReadOnlyRootFilesystem: true, NoNewPrivileges: true}
	id, err := rt.CreateContainer(ctx, sb.ID, kubelet.ContainerConfig{Name: "c", Image: "app:v1", Security: sec})
	require.NoError(t, err)
	got, err := rt.ContainerConfig(id)
	require.NoError(t, err)
	assert.Equal(t, sec, got.Security)
	*got.Security.RunAsUser = 0
	got, _ = rt.ContainerConfig(id)
	assert.Equal(t, int64(1000), *got.Security.RunAsUser, "callers get copies")

	// Privilege is decided for the whole pod, as CRI runtimes do.
	_, err = rt.CreateContainer(ctx, sb.ID, kubelet.ContainerConfig{Name: "priv", Image: image, Security: kubelet.SecurityContext{Privileged: true}})
	assert.ErrorIs(t, err, kubelet.ErrInvalid)
	psb, err := rt.RunPodSandbox(ctx, kubelet.SandboxConfig{Name: "p2", Namespace: "ns", UID: "u2", Privileged: true})
	require.NoError(t, err)
	_, err = rt.CreateContainer(ctx, psb.ID, kubelet.ContainerConfig{Name: "priv", Image: image, Security: kubelet.SecurityContext{Privileged: true}})
	assert.NoError(t, err)

	_, err = rt.CreateContainer(ctx, sb.ID, kubelet.ContainerConfig{Name: "bad", Image: image, Security: kubelet.SecurityContext{CapAdd: []string{"CAP_NET_ADMIN"}}})
	assert.ErrorIs(t, err, kubelet.ErrInvalid)
	_, err = rt.RunPodSandbox(ctx, kubelet.SandboxConfig{Name: "p3", Namespace: "ns", UID: "u3", DNS: kubelet.DNSConfig{Servers: []string{"x"}}})
	assert.ErrorIs(t, err, kubelet.ErrInvalid)
	_, err = rt.ContainerConfig("absent")
	assert.ErrorIs(t, err, kubelet.ErrNotFound)
}
