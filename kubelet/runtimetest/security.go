package runtimetest

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/kubelet"
	"github.com/gantry-sdk/gantry/kubelet/cri/critest"
)

// The cases of this file are self-contained: each makes its own pod, and the
// real ones check from inside the container (ExecSync in a busybox
// container) what the runtime applied.

// runSleeper creates and starts cfg (a busybox sleeping for an hour, unless
// cfg says otherwise) and waits until it runs.
func (s *suite) runSleeper(t *testing.T, ctx context.Context, sb kubelet.SandboxStatus, cfg kubelet.ContainerConfig) string {
	t.Helper()
	if cfg.Image == "" {
		cfg.Image = s.h.Image
	}
	if cfg.Command == nil {
		cfg.Command = []string{"sleep", "3600"}
	}
	cfg.LogPath = sb.UID + "/" + cfg.Name + "/0.log"
	id, err := s.h.Runtime.CreateContainer(ctx, sb.ID, cfg)
	require.NoError(t, err)
	require.NoError(t, s.h.Runtime.StartContainer(ctx, id))
	// Not waitRunning: sleep installs no signal handler to wait for.
	for {
		st, err := s.h.Runtime.ContainerStatus(ctx, id)
		require.NoError(t, err)
		if st.State == kubelet.ContainerRunning {
			return id
		}
		require.NotEqual(t, kubelet.ContainerExited, st.State, "container exited early: %+v", st)
		select {
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// sh runs script in the container and returns its trimmed stdout and stderr,
// and its exit code.
func (s *suite) sh(t *testing.T, ctx context.Context, id, script string) (string, int32) {
	t.Helper()
	res, err := s.h.Runtime.ExecSync(ctx, id, []string{"sh", "-c", script}, 10*time.Second)
	require.NoError(t, err)
	return strings.TrimSpace(string(res.Stdout) + string(res.Stderr)), res.ExitCode
}

func int64p(v int64) *int64 { return &v }

// needPodSecurity skips the cases of a runtime that does not apply security
// contexts and pod DNS yet (Harness.PodSecurity), and of simulated ones.
func (s *suite) needPodSecurity(t *testing.T) {
	s.needReal(t)
	if !s.h.PodSecurity {
		t.Skip("the runtime does not apply pod DNS and security contexts yet (Harness.PodSecurity)")
	}
}

func (s *suite) securityContextValidation(t *testing.T) {
	ctx := ctxFor(t)
	rt := s.h.Runtime
	_, err := rt.RunPodSandbox(ctx, kubelet.SandboxConfig{Name: "bad-dns", Namespace: "suite", UID: "bad-dns", DNS: kubelet.DNSConfig{Servers: []string{"dns.example"}}})
	assert.ErrorIs(t, err, kubelet.ErrInvalid)
	assert.ErrorContains(t, err, "dns.servers[0]")
	sb := s.pod(t, ctx)
	for _, tc := range []struct {
		sec  kubelet.SecurityContext
		want string
	}{
		{kubelet.SecurityContext{CapAdd: []string{"CAP_NET_ADMIN"}}, "security.capAdd[0]"},
		{kubelet.SecurityContext{CapDrop: []string{"FLY"}}, "security.capDrop[0]"},
		{kubelet.SecurityContext{RunAsUser: int64p(-1)}, "security.runAsUser"},
		{kubelet.SecurityContext{SupplementalGroups: []int64{-5}}, "security.supplementalGroups[0]"},
	} {
		_, err := rt.CreateContainer(ctx, sb.ID, kubelet.ContainerConfig{Name: "bad", Image: s.h.Image, Security: tc.sec})
		assert.ErrorIs(t, err, kubelet.ErrInvalid, tc.want)
		assert.ErrorContains(t, err, tc.want)
	}
}

func (s *suite) securityRunAsUserAndGroups(t *testing.T) {
	s.needPodSecurity(t)
	ctx := ctxFor(t)
	sb := s.pod(t, ctx)
	id := s.runSleeper(t, ctx, sb, kubelet.ContainerConfig{Name: "ids", Security: kubelet.SecurityContext{
		RunAsUser: int64p(1000), RunAsGroup: int64p(3000), SupplementalGroups: []int64{4000, 5000},
	}})
	out, code := s.sh(t, ctx, id, "id -u; id -g; id -G")
	require.Zero(t, code, out)
	lines := strings.Split(out, "\n")
	require.Len(t, lines, 3, out)
	assert.Equal(t, "1000", lines[0], "uid")
	assert.Equal(t, "3000", lines[1], "gid")
	assert.ElementsMatch(t, []string{"3000", "4000", "5000"}, strings.Fields(lines[2]), "groups")
	// The main process too, not only exec'd ones.
	out, _ = s.sh(t, ctx, id, "grep -E '^(Uid|Gid):' /proc/1/status")
	assert.Regexp(t, `Uid:\s+1000\s+1000`, out)
	assert.Regexp(t, `Gid:\s+3000\s+3000`, out)
}

func (s *suite) securityRunAsGroupKeepsImageUser(t *testing.T) {
	s.needPodSecurity(t)
	ctx := ctxFor(t)
	sb := s.pod(t, ctx)
	// The busybox image has no USER: root, with group 3000.
	id := s.runSleeper(t, ctx, sb, kubelet.ContainerConfig{Name: "group", Security: kubelet.SecurityContext{RunAsGroup: int64p(3000)}})
	out, code := s.sh(t, ctx, id, "id -u; id -g")
	require.Zero(t, code, out)
	assert.Equal(t, "0\n3000", out)
}

func (s *suite) securityReadOnlyRootFilesystem(t *testing.T) {
	s.needPodSecurity(t)
	ctx := ctxFor(t)
	sb := s.pod(t, ctx)
	vol := t.TempDir()
	ro := s.runSleeper(t, ctx, sb, kubelet.ContainerConfig{Name: "ro", Security: kubelet.SecurityContext{ReadOnlyRootFilesystem: true},
		Mounts: []kubelet.Mount{{ContainerPath: "/data", HostPath: vol}}})
	rw := s.runSleeper(t, ctx, sb, kubelet.ContainerConfig{Name: "rw"})
	out, code := s.sh(t, ctx, ro, "echo x > /newfile")
	assert.NotZero(t, code, "a read-only root accepted a write")
	assert.Contains(t, out, "Read-only file system")
	out, code = s.sh(t, ctx, ro, "echo x > /data/f && cat /data/f")
	assert.Zero(t, code, "a volume of a read-only root is writable: %s", out)
	out, code = s.sh(t, ctx, rw, "echo x > /newfile")
	assert.Zero(t, code, "a default root is writable: %s", out)
}

// capEff returns the effective capability set of the container's shell.
func (s *suite) capEff(t *testing.T, ctx context.Context, id string) uint64 {
	t.Helper()
	out, code := s.sh(t, ctx, id, "grep ^CapEff: /proc/self/status")
	require.Zero(t, code, out)
	v, err := strconv.ParseUint(strings.TrimSpace(strings.TrimPrefix(out, "CapEff:")), 16, 64)
	require.NoError(t, err, out)
	return v
}

// Capability bits (linux/capability.h).
const (
	capChown          = 0
	capNetBindService = 10
	capNetAdmin       = 12
	capSysAdmin       = 21
)

func (s *suite) securityCapabilities(t *testing.T) {
	s.needPodSecurity(t)
	ctx := ctxFor(t)
	sb := s.pod(t, ctx)
	def := s.runSleeper(t, ctx, sb, kubelet.ContainerConfig{Name: "default"})
	noChown := s.runSleeper(t, ctx, sb, kubelet.ContainerConfig{Name: "nochown", Security: kubelet.SecurityContext{CapDrop: []string{"CHOWN"}}})
	minimal := s.runSleeper(t, ctx, sb, kubelet.ContainerConfig{Name: "minimal", Security: kubelet.SecurityContext{CapDrop: []string{"ALL"}, CapAdd: []string{"NET_BIND_SERVICE"}}})
	admin := s.runSleeper(t, ctx, sb, kubelet.ContainerConfig{Name: "admin", Security: kubelet.SecurityContext{CapAdd: []string{"NET_ADMIN"}}})

	chown := "touch /tmp/f && chown 1:1 /tmp/f"
	out, code := s.sh(t, ctx, def, chown)
	assert.Zero(t, code, "root with default capabilities chowns: %s", out)
	out, code = s.sh(t, ctx, noChown, chown)
	assert.NotZero(t, code, "chown without CAP_CHOWN succeeded")
	assert.Contains(t, out, "not permitted")

	assert.NotZero(t, s.capEff(t, ctx, def)&(1<<capChown))
	assert.Zero(t, s.capEff(t, ctx, def)&(1<<capNetAdmin), "NET_ADMIN is not a default capability")
	assert.Zero(t, s.capEff(t, ctx, noChown)&(1<<capChown))
	assert.Equal(t, uint64(1)<<capNetBindService, s.capEff(t, ctx, minimal), "drop ALL, add NET_BIND_SERVICE")
	assert.NotZero(t, s.capEff(t, ctx, admin)&(1<<capNetAdmin))
	out, code = s.sh(t, ctx, admin, "ip addr add 192.0.2.99/32 dev lo && ip addr del 192.0.2.99/32 dev lo")
	assert.Zero(t, code, "NET_ADMIN added: %s", out)
	out, code = s.sh(t, ctx, def, "ip addr add 192.0.2.99/32 dev lo && ip addr del 192.0.2.99/32 dev lo")
	assert.NotZero(t, code, "a default container changed the network: %s", out)
}

func (s *suite) securityNoNewPrivileges(t *testing.T) {
	s.needPodSecurity(t)
	ctx := ctxFor(t)
	sb := s.pod(t, ctx)
	nnp := s.runSleeper(t, ctx, sb, kubelet.ContainerConfig{Name: "nnp", Security: kubelet.SecurityContext{NoNewPrivileges: true}})
	def := s.runSleeper(t, ctx, sb, kubelet.ContainerConfig{Name: "default"})
	out, _ := s.sh(t, ctx, nnp, "grep ^NoNewPrivs: /proc/1/status")
	assert.Regexp(t, `NoNewPrivs:\s+1`, out)
	out, _ = s.sh(t, ctx, def, "grep ^NoNewPrivs: /proc/1/status")
	assert.Regexp(t, `NoNewPrivs:\s+0`, out)
}

func (s *suite) securityPrivileged(t *testing.T) {
	s.needPodSecurity(t)
	ctx := ctxFor(t)
	sb := s.podWith(t, ctx, func(c *kubelet.SandboxConfig) { c.Privileged = true })
	priv := s.runSleeper(t, ctx, sb, kubelet.ContainerConfig{Name: "priv", Security: kubelet.SecurityContext{Privileged: true}})
	assert.NotZero(t, s.capEff(t, ctx, priv)&(1<<capSysAdmin), "a privileged container has CAP_SYS_ADMIN")
	out, code := s.sh(t, ctx, priv, "ip addr add 192.0.2.99/32 dev lo && ip addr del 192.0.2.99/32 dev lo")
	assert.Zero(t, code, out)
	// Host devices are there.
	out, code = s.sh(t, ctx, priv, "ls /dev | wc -l")
	require.Zero(t, code, out)
	n, _ := strconv.Atoi(out)
	assert.Greater(t, n, 20, "host devices in a privileged container")

	// A client that adopts the sandbox (an agent that restarted) knows it is privileged.
	rt, closeFn, err := s.h.Reconnect(ctx)
	require.NoError(t, err)
	defer closeFn()
	id, err := rt.CreateContainer(ctx, sb.ID, kubelet.ContainerConfig{Name: "priv2", Image: s.h.Image, Command: []string{"true"},
		LogPath: sb.UID + "/priv2/0.log", Security: kubelet.SecurityContext{Privileged: true}})
	require.NoError(t, err)
	require.NoError(t, rt.RemoveContainer(ctx, id))

	// An unprivileged sandbox takes no privileged container.
	plain := s.pod(t, ctx)
	_, err = s.h.Runtime.CreateContainer(ctx, plain.ID, kubelet.ContainerConfig{Name: "priv", Image: s.h.Image, Command: []string{"true"},
		LogPath: plain.UID + "/priv/0.log", Security: kubelet.SecurityContext{Privileged: true}})
	assert.Error(t, err)
}

func (s *suite) dnsConfigResolvConf(t *testing.T) {
	s.needPodSecurity(t)
	ctx := ctxFor(t)
	dns := kubelet.DNSConfig{
		Servers:  []string{"10.96.0.10", "192.0.2.53"},
		Searches: []string{"suite.svc.cluster.local", "svc.cluster.local", "cluster.local"},
		Options:  []string{"ndots:5", "edns0"},
	}
	sb := s.podWith(t, ctx, func(c *kubelet.SandboxConfig) { c.DNS = dns })
	id := s.runSleeper(t, ctx, sb, kubelet.ContainerConfig{Name: "dns"})
	out, code := s.sh(t, ctx, id, "cat /etc/resolv.conf")
	require.Zero(t, code, out)
	var servers, searches, options []string
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "nameserver":
			servers = append(servers, f[1])
		case "search":
			searches = f[1:]
		case "options":
			options = append(options, f[1:]...)
		}
	}
	assert.Equal(t, dns.Servers, servers, out)
	assert.Equal(t, dns.Searches, searches, out)
	assert.Equal(t, dns.Options, options, out)

	// The zero value copies the host's.
	host, err := os.ReadFile("/etc/resolv.conf")
	require.NoError(t, err)
	plain := s.pod(t, ctx)
	id = s.runSleeper(t, ctx, plain, kubelet.ContainerConfig{Name: "hostdns"})
	out, code = s.sh(t, ctx, id, "cat /etc/resolv.conf")
	require.Zero(t, code, out)
	assert.Equal(t, strings.TrimSpace(string(host)), out)
}

func (s *suite) etcHostsMount(t *testing.T) {
	s.needReal(t)
	ctx := ctxFor(t)
	sb := s.pod(t, ctx)
	hosts := filepath.Join(t.TempDir(), "etc-hosts")
	content := "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n" + sb.IP + "\tsuite-pod\n\n# Entries added by HostAliases.\n192.0.2.7\tfoo.example\tbar\n"
	require.NoError(t, os.WriteFile(hosts, []byte(content), 0o644))
	id := s.runSleeper(t, ctx, sb, kubelet.ContainerConfig{Name: "hosts", Mounts: []kubelet.Mount{{ContainerPath: "/etc/hosts", HostPath: hosts}}})
	out, code := s.sh(t, ctx, id, "cat /etc/hosts")
	require.Zero(t, code, out)
	assert.Equal(t, strings.TrimSpace(content), out)
	// A file rewritten in place (same inode, as the agent does) shows the change.
	require.NoError(t, os.WriteFile(hosts, []byte(content+"192.0.2.8\tlate\n"), 0o644))
	out, _ = s.sh(t, ctx, id, "tail -n1 /etc/hosts")
	assert.Equal(t, "192.0.2.8\tlate", out)
}

func (s *suite) imageUser(t *testing.T) {
	s.needPodSecurity(t)
	ctx := ctxFor(t)
	rt := s.h.Runtime
	layer, err := critest.BusyboxLayer("/bin/busybox")
	require.NoError(t, err)
	n := s.seq.Add(1)
	name := func(tag string) string { return "gantry.local/user-" + strconv.FormatInt(n, 10) + ":" + tag }
	var archive bytes.Buffer
	require.NoError(t, critest.WriteOCIArchive(&archive, layer,
		critest.Image{Name: name("uidgid"), Cmd: []string{"sh"}, User: "1000:1000"},
		critest.Image{Name: name("named"), Cmd: []string{"sh"}, User: "nobody"},
		critest.Image{Name: name("root"), Cmd: []string{"sh"}},
	))
	_, err = rt.ImportImage(ctx, &archive)
	require.NoError(t, err)
	t.Cleanup(func() {
		for _, tag := range []string{"uidgid", "named", "root"} {
			_ = rt.RemoveImage(context.Background(), name(tag))
		}
	})
	user := func(tag string) string {
		img, err := rt.ImageStatus(ctx, name(tag))
		require.NoError(t, err)
		u, _, _ := strings.Cut(img.User, ":") // CRI reports no group
		return u
	}
	assert.Equal(t, "1000", user("uidgid"))
	assert.Equal(t, "nobody", user("named"))
	assert.Equal(t, "", user("root"))

	// The image's user runs the container unless the security context says otherwise.
	sb := s.pod(t, ctx)
	id := s.runSleeper(t, ctx, sb, kubelet.ContainerConfig{Name: "imageuser", Image: name("uidgid")})
	out, _ := s.sh(t, ctx, id, "id -u; id -g")
	assert.Equal(t, "1000\n1000", out)
	id = s.runSleeper(t, ctx, sb, kubelet.ContainerConfig{Name: "override", Image: name("uidgid"), Security: kubelet.SecurityContext{RunAsUser: int64p(2000)}})
	out, _ = s.sh(t, ctx, id, "id -u")
	assert.Equal(t, "2000", out)
}
