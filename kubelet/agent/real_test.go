package agent

import (
	"context"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/apis/resource"
	"github.com/gantry-sdk/gantry/kubelet"
	"github.com/gantry-sdk/gantry/kubelet/cri/critest"
	"github.com/gantry-sdk/gantry/store"
)

// newRealHarness runs an agent over the package's private containerd. Back-off
// is scaled down (200 ms doubling to 2 s) to keep the tests short.
func newRealHarness(t testing.TB, node string, edit ...func(*Options)) *harness {
	env := realRuntime(t)
	ctx := context.Background()
	rt, err := env.Dial(ctx)
	require.NoError(t, err)
	opts := realOptions(env, edit...)
	// Registered before the harness's own cleanup, so that it runs after the
	// agent has stopped (cleanups run last-in first-out): a running agent would
	// restart what is removed.
	t.Cleanup(func() {
		_ = env.RemoveAll(ctx)
		_ = rt.Close()
	})
	h := newHarnessOn(t, rt, node, opts)
	return h
}

// realOptions are the agent options of the real-runtime harnesses: fast
// back-off and relists, cgroups under the private containerd's parent.
func realOptions(env *critest.Env, edit ...func(*Options)) Options {
	opts := Options{
		CgroupParent: env.CgroupParent, BackoffBase: 200 * time.Millisecond, BackoffMax: 2 * time.Second,
		RelistInterval: 200 * time.Millisecond, RuntimeVersion: "containerd",
	}
	for _, e := range edit {
		e(&opts)
	}
	return opts
}

func busyboxPod(name string, script ...string) *core.Pod {
	p := &core.Pod{}
	p.Name = name
	grace := int64(1)
	p.Spec.TerminationGracePeriodSeconds = &grace
	for i, s := range script {
		p.Spec.Containers = append(p.Spec.Containers, core.Container{
			Name: "c" + string(rune('0'+i)), Image: critest.BusyboxImage, Command: []string{"sh", "-c", s},
		})
	}
	return p
}

func (h *harness) exec(pod, ctr string, cmd ...string) (string, error) {
	cs := h.containers(ctr)
	for _, c := range cs {
		if c.Labels[kubelet.LabelPodName] == pod && c.State == kubelet.ContainerRunning {
			res, err := h.run.ExecSync(context.Background(), c.ID, cmd, 5*time.Second)
			if err != nil {
				return "", err
			}
			return string(res.Stdout) + string(res.Stderr), nil
		}
	}
	return "", os.ErrNotExist
}

func TestRealConfigMapVolume(t *testing.T) {
	h := newRealHarness(t, "real-cm")
	ctx := context.Background()
	cm := &core.ConfigMap{Data: map[string]string{"greeting": "hello"}}
	cm.Namespace, cm.Name = "default", "myconfigmap"
	cm, err := store.For[*core.ConfigMap](h.s).Create(ctx, cm, store.WriteOptions{})
	require.NoError(t, err)
	b, err := os.ReadFile("testdata/pod-configmap-volume.yaml")
	require.NoError(t, err)
	p := &core.Pod{}
	require.NoError(t, yaml.UnmarshalStrict(b, p))
	h.create(p)
	h.eventually(30*time.Second, "running", h.phase("mypod", core.PodRunning))
	h.eventually(10*time.Second, "file in the container", func() bool {
		out, err := h.exec("mypod", "mypod", "cat", "/etc/foo/greeting")
		return err == nil && out == "hello"
	})
	cm = apis.DeepCopy(cm)
	cm.Data["greeting"] = "bonjour"
	_, err = store.For[*core.ConfigMap](h.s).Update(ctx, cm, store.WriteOptions{})
	require.NoError(t, err)
	h.eventually(10*time.Second, "file changed in the container", func() bool {
		out, err := h.exec("mypod", "mypod", "cat", "/etc/foo/greeting")
		return err == nil && out == "bonjour"
	})
	_, err = h.exec("mypod", "mypod", "sh", "-c", "echo x > /etc/foo/new")
	out, _ := h.exec("mypod", "mypod", "sh", "-c", "echo x > /etc/foo/new 2>&1; echo $?")
	assert.NotEqual(t, "0\n", out, "the volume is read-only (%v)", err)
	assert.Equal(t, int32(0), cstatus(h.pod("mypod"), "mypod").RestartCount)
}

func TestRealCrashLoopBackOff(t *testing.T) {
	crashLoopBackOff(t, newRealHarness(t, "real-crash"))
}

func crashLoopBackOff(t *testing.T, h *harness) {
	h.create(busyboxPod("crash", "exit 3"))
	h.eventually(40*time.Second, "four restarts", func() bool { return cstatus(h.pod("crash"), "c0").RestartCount >= 4 })
	p := h.pod("crash")
	cs := cstatus(p, "c0")
	require.NotNil(t, cs.LastTerminationState.Terminated)
	assert.Equal(t, int32(3), cs.LastTerminationState.Terminated.ExitCode)
	assert.Equal(t, "Error", cs.LastTerminationState.Terminated.Reason)
	assert.Equal(t, core.PodRunning, p.Status.Phase)
	// The gap between an exit and the next start grows: the runtime keeps the
	// last two attempts, whose times show the latest gap; it reaches 1.6 s
	// (200 ms doubled three times) only after growing.
	h.eventually(20*time.Second, "back-off grew", func() bool {
		var ctrs []kubelet.ContainerStatus
		for _, c := range h.containers("c0") {
			// CRI lists no timestamps: ask for each container's status.
			if s, err := h.run.ContainerStatus(context.Background(), c.ID); err == nil {
				ctrs = append(ctrs, s)
			}
		}
		slices.SortFunc(ctrs, func(a, b kubelet.ContainerStatus) int { return int(a.Attempt) - int(b.Attempt) })
		if len(ctrs) < 2 || ctrs[1].StartedAt.IsZero() || ctrs[1].Attempt < 5 {
			return false
		}
		return ctrs[1].StartedAt.Sub(ctrs[0].FinishedAt) >= 1500*time.Millisecond
	})
	assert.NotEmpty(t, h.events("BackOff"))
}

func TestRealLivenessRestart(t *testing.T) {
	h := newRealHarness(t, "real-live")
	p := busyboxPod("live", "touch /tmp/ok; sleep 2; rm /tmp/ok; exec sleep 1000")
	p.Spec.Containers[0].LivenessProbe = &core.Probe{
		ProbeHandler:  core.ProbeHandler{Exec: &core.ExecAction{Command: []string{"test", "-f", "/tmp/ok"}}},
		PeriodSeconds: 1, FailureThreshold: 2,
	}
	h.create(p)
	h.eventually(30*time.Second, "restarted by liveness", func() bool { return cstatus(h.pod("live"), "c0").RestartCount >= 1 })
	assert.NotEmpty(t, h.events("Unhealthy"))
	assert.NotEmpty(t, h.events("Killing"))
}

func TestRealNetworkReadinessAndAdoption(t *testing.T) {
	networkReadinessAndAdoption(t, newRealHarness(t, "real-net"))
}

// networkReadinessAndAdoption runs on every real runtime (see native_test.go).
func networkReadinessAndAdoption(t *testing.T, h *harness) {
	p := busyboxPod("web", "exec httpd -f -p 8080 -h /var/www", "exec sleep 1000")
	p.Spec.Containers[0].ReadinessProbe = &core.Probe{
		ProbeHandler:  core.ProbeHandler{HTTPGet: &core.HTTPGetAction{Path: "/index.html", Port: apis.IntOrStringFromInt(8080)}},
		PeriodSeconds: 1,
	}
	h.create(p)
	h.eventually(30*time.Second, "ready", func() bool { p := h.pod("web"); return p != nil && core.IsPodReady(p) })
	got := h.pod("web")
	require.NotEmpty(t, got.Status.PodIP)

	// Two containers of one pod share localhost.
	out, err := h.exec("web", "c1", "wget", "-qO-", "http://127.0.0.1:8080/index.html")
	require.NoError(t, err)
	assert.Equal(t, "gantry\n", out)

	// The host reaches the pod IP.
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + got.Status.PodIP + ":8080/index.html")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, "gantry\n", string(body))

	// Restarting the agent restarts nothing.
	before := map[string]string{}
	for _, n := range []string{"c0", "c1"} {
		before[n] = cstatus(got, n).ContainerID
	}
	h.restart()
	time.Sleep(2 * time.Second)
	after := h.pod("web")
	for _, n := range []string{"c0", "c1"} {
		cs := cstatus(after, n)
		assert.Equal(t, before[n], cs.ContainerID, n)
		assert.Equal(t, int32(0), cs.RestartCount, n)
		assert.NotNil(t, cs.State.Running, n)
	}
	assert.True(t, core.IsPodReady(after))
	assert.Equal(t, got.Status.StartTime.Time, after.Status.StartTime.Time)
	assert.False(t, strings.Contains(after.Status.PodIP, " "))
	assert.Equal(t, got.Status.PodIP, after.Status.PodIP)
}

func TestRealOOMKilled(t *testing.T) {
	oomKilled(t, newRealHarness(t, "real-oom"))
}

func oomKilled(t *testing.T, h *harness) {
	// tail buffers /dev/zero's one endless line until the 32 MiB limit kills it.
	p := busyboxPod("oom", "exec tail /dev/zero")
	p.Spec.RestartPolicy = core.RestartPolicyNever
	p.Spec.Containers[0].Resources.Limits = core.ResourceList{core.ResourceMemory: resource.MustParse("32Mi")}
	h.create(p)
	h.eventually(30*time.Second, "failed", h.phase("oom", core.PodFailed))
	term := cstatus(h.pod("oom"), "c0").State.Terminated
	require.NotNil(t, term)
	assert.Equal(t, "OOMKilled", term.Reason)
	assert.Equal(t, int32(137), term.ExitCode)
}

func TestRealPodSecurityAndDNS(t *testing.T) {
	podSecurityAndDNS(t, newRealHarness(t, "real-sec", withClusterDNS))
}

func withClusterDNS(o *Options) {
	o.ClusterDNS, o.ClusterDomain = []string{"10.96.0.10"}, "cluster.local"
}

// podSecurityAndDNS runs on every real runtime that applies security contexts
// and pod DNS: a pod's securityContext, dnsConfig, hostname, subdomain and
// hostAliases seen from inside its container, and runAsNonRoot refused
// against the image's (root) user.
func podSecurityAndDNS(t *testing.T, h *harness) {
	p := busyboxPod("sec", "exec sleep 1000")
	p.Spec.Hostname, p.Spec.Subdomain = "web-0", "nginx"
	p.Spec.HostAliases = []core.HostAlias{{IP: "192.0.2.7", Hostnames: []string{"foo.example", "bar"}}}
	p.Spec.DNSConfig = &core.PodDNSConfig{Searches: []string{"extra.example"}, Options: []core.PodDNSConfigOption{{Name: "ndots", Value: sp("2")}}}
	p.Spec.SecurityContext = &core.PodSecurityContext{RunAsUser: i64(1000), RunAsGroup: i64(3000), FSGroup: i64(2000), RunAsNonRoot: bp(true)}
	p.Spec.Volumes = []core.Volume{{Name: "data", VolumeSource: core.VolumeSource{EmptyDir: &core.EmptyDirVolumeSource{}}}}
	c := &p.Spec.Containers[0]
	c.VolumeMounts = []core.VolumeMount{{Name: "data", MountPath: "/data"}}
	c.SecurityContext = &core.SecurityContext{ReadOnlyRootFilesystem: bp(true), AllowPrivilegeEscalation: bp(false),
		Capabilities: &core.Capabilities{Drop: []string{"ALL"}}}
	h.create(p)

	root := busyboxPod("rootimg", "exec sleep 1000")
	root.Spec.SecurityContext = &core.PodSecurityContext{RunAsNonRoot: bp(true)}
	h.create(root)

	h.eventually(30*time.Second, "running", h.phase("sec", core.PodRunning))
	ip := h.pod("sec").Status.PodIP
	sh := func(script string) string {
		out, err := h.exec("sec", "c0", "sh", "-c", script)
		require.NoError(t, err)
		return strings.TrimSpace(out)
	}
	assert.Equal(t, "1000", sh("id -u"))
	assert.Subset(t, strings.Fields(sh("id -G")), []string{"3000", "2000"}, "runAsGroup and fsGroup")
	assert.Equal(t, "web-0", sh("hostname"))
	assert.Contains(t, sh("echo x > /file 2>&1; echo $?"), "Read-only file system")
	assert.Equal(t, "2000", sh("echo x > /data/f && stat -c %g /data/f"), "files in an emptyDir get the fsGroup")
	assert.Regexp(t, `NoNewPrivs:\s+1`, sh("grep NoNewPrivs /proc/1/status"))
	assert.Equal(t, "CapEff:\t0000000000000000", sh("grep CapEff /proc/1/status"))
	resolv := sh("cat /etc/resolv.conf")
	assert.Contains(t, resolv, "nameserver 10.96.0.10")
	assert.Contains(t, resolv, "search default.svc.cluster.local svc.cluster.local cluster.local")
	assert.Contains(t, resolv, "extra.example")
	assert.Contains(t, resolv, "options ndots:2")
	hosts := sh("cat /etc/hosts")
	assert.Contains(t, hosts, ip+"\tweb-0.nginx.default.svc.cluster.local\tweb-0")
	assert.Contains(t, hosts, "192.0.2.7\tfoo.example\tbar")

	h.eventually(10*time.Second, "rootimg refused", func() bool {
		w := cstatus(h.pod("rootimg"), "c0").State.Waiting
		return w != nil && w.Reason == "CreateContainerConfigError"
	})
	w := cstatus(h.pod("rootimg"), "c0").State.Waiting
	assert.Contains(t, w.Message, "container has runAsNonRoot and image will run as root")
	for _, c := range h.containers("c0") {
		assert.NotEqual(t, "rootimg", c.Labels[kubelet.LabelPodName], "no container was created for rootimg")
	}
}
