package agent

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/kubelet"
)

const hostResolv = "# the node's\nnameserver 192.0.2.53\nnameserver 192.0.2.54\nsearch corp.example. lab.example\noptions timeout:2 rotate\n"

func writeResolv(t testing.TB, content string) string {
	p := filepath.Join(t.TempDir(), "resolv.conf")
	require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	return p
}

func i64(v int64) *int64  { return &v }
func bp(v bool) *bool     { return &v }
func sp(v string) *string { return &v }

func TestParseResolvConf(t *testing.T) {
	rc, err := parseResolvConf(strings.NewReader(hostResolv + "search last.example ; comment\ndomain ignored.example\nnameserver\noptions ndots:1\n"))
	require.NoError(t, err)
	assert.Equal(t, []string{"192.0.2.53", "192.0.2.54"}, rc.servers)
	assert.Equal(t, []string{"last.example"}, rc.searches, "the last search line wins")
	assert.Equal(t, []string{"timeout:2", "rotate", "ndots:1"}, rc.options)
	rc, err = parseResolvConf(strings.NewReader(hostResolv))
	require.NoError(t, err)
	assert.Equal(t, []string{"corp.example", "lab.example"}, rc.searches, "trailing dots go")

	_, err = parseResolvConf(strings.NewReader("nameserver " + strings.Repeat("1", 70000)))
	assert.ErrorContains(t, err, "line 1")
}

func FuzzParseResolvConf(f *testing.F) {
	f.Add([]byte(hostResolv))
	f.Add([]byte("search . .. a.\n#x\n;y\noptions\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		rc, err := parseResolvConf(bytes.NewReader(b))
		if err != nil {
			return
		}
		for _, list := range [][]string{rc.servers, rc.searches, rc.options} {
			for _, s := range list {
				if s == "" || strings.ContainsAny(s, " \t\n#;") {
					t.Fatalf("entry %q from %q", s, b)
				}
			}
		}
	})
}

func TestPodDNS(t *testing.T) {
	resolv := writeResolv(t, hostResolv)
	clusterDNS := Options{ClusterDNS: []string{"10.96.0.10"}, ClusterDomain: "cluster.local", ResolvConf: resolv}
	for _, tc := range []struct {
		name   string
		opts   Options
		edit   func(*core.PodSpec)
		want   kubelet.DNSConfig
		events []string // reasons
	}{
		{name: "ClusterFirst", opts: clusterDNS, want: kubelet.DNSConfig{
			Servers:  []string{"10.96.0.10"},
			Searches: []string{"ns1.svc.cluster.local", "svc.cluster.local", "cluster.local", "corp.example", "lab.example"},
			Options:  []string{"ndots:5"},
		}},
		{name: "unset policy is ClusterFirst", opts: clusterDNS, edit: func(s *core.PodSpec) { s.DNSPolicy = "" }, want: kubelet.DNSConfig{
			Servers:  []string{"10.96.0.10"},
			Searches: []string{"ns1.svc.cluster.local", "svc.cluster.local", "cluster.local", "corp.example", "lab.example"},
			Options:  []string{"ndots:5"},
		}},
		{name: "ClusterFirst without cluster DNS falls back to Default", opts: Options{ResolvConf: resolv}, want: kubelet.DNSConfig{
			Servers: []string{"192.0.2.53", "192.0.2.54"}, Searches: []string{"corp.example", "lab.example"}, Options: []string{"timeout:2", "rotate"},
		}, events: []string{"MissingClusterDNS"}},
		{name: "ClusterFirst without a cluster domain", opts: Options{ClusterDNS: []string{"10.96.0.10"}, ResolvConf: resolv}, want: kubelet.DNSConfig{
			Servers: []string{"10.96.0.10"}, Searches: []string{"corp.example", "lab.example"}, Options: []string{"ndots:5"},
		}},
		{name: "Default", opts: clusterDNS, edit: func(s *core.PodSpec) { s.DNSPolicy = core.DNSDefault }, want: kubelet.DNSConfig{
			Servers: []string{"192.0.2.53", "192.0.2.54"}, Searches: []string{"corp.example", "lab.example"}, Options: []string{"timeout:2", "rotate"},
		}},
		{name: "ClusterFirst on the host network is Default", opts: clusterDNS, edit: func(s *core.PodSpec) { s.HostNetwork = true }, want: kubelet.DNSConfig{
			Servers: []string{"192.0.2.53", "192.0.2.54"}, Searches: []string{"corp.example", "lab.example"}, Options: []string{"timeout:2", "rotate"},
		}},
		{name: "ClusterFirstWithHostNet", opts: clusterDNS, edit: func(s *core.PodSpec) { s.HostNetwork = true; s.DNSPolicy = core.DNSClusterFirstWithHostNet }, want: kubelet.DNSConfig{
			Servers:  []string{"10.96.0.10"},
			Searches: []string{"ns1.svc.cluster.local", "svc.cluster.local", "cluster.local", "corp.example", "lab.example"},
			Options:  []string{"ndots:5"},
		}},
		{name: "None with dnsConfig", opts: clusterDNS, edit: func(s *core.PodSpec) {
			s.DNSPolicy = core.DNSNone
			s.DNSConfig = &core.PodDNSConfig{Nameservers: []string{"1.1.1.1"}, Searches: []string{"my.dns.search.suffix"},
				Options: []core.PodDNSConfigOption{{Name: "ndots", Value: sp("2")}, {Name: "edns0"}}}
		}, want: kubelet.DNSConfig{Servers: []string{"1.1.1.1"}, Searches: []string{"my.dns.search.suffix"}, Options: []string{"ndots:2", "edns0"}}},
		{name: "ClusterFirst merged with dnsConfig", opts: clusterDNS, edit: func(s *core.PodSpec) {
			s.DNSConfig = &core.PodDNSConfig{Nameservers: []string{"10.96.0.10", "1.1.1.1"}, Searches: []string{"cluster.local", "extra.example"},
				Options: []core.PodDNSConfigOption{{Name: "ndots", Value: sp("1")}, {Name: "single-request-reopen"}}}
		}, want: kubelet.DNSConfig{
			Servers:  []string{"10.96.0.10", "1.1.1.1"},
			Searches: []string{"ns1.svc.cluster.local", "svc.cluster.local", "cluster.local", "corp.example", "lab.example", "extra.example"},
			Options:  []string{"ndots:1", "single-request-reopen"},
		}},
		{name: "too many servers are cut", opts: clusterDNS, edit: func(s *core.PodSpec) {
			s.DNSConfig = &core.PodDNSConfig{Nameservers: []string{"1.1.1.1", "8.8.8.8", "9.9.9.9"}}
		}, want: kubelet.DNSConfig{
			Servers:  []string{"10.96.0.10", "1.1.1.1", "8.8.8.8"},
			Searches: []string{"ns1.svc.cluster.local", "svc.cluster.local", "cluster.local", "corp.example", "lab.example"},
			Options:  []string{"ndots:5"},
		}, events: []string{"DNSConfigForming"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := &Agent{opts: tc.opts}
			p := simplePod("web", "app")
			p.Namespace = "ns1"
			p.Spec.DNSPolicy = core.DNSClusterFirst
			if tc.edit != nil {
				tc.edit(&p.Spec)
			}
			got, events, err := a.podDNS(p)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			var reasons []string
			for _, e := range events {
				reasons = append(reasons, e.reason)
				assert.Equal(t, core.EventTypeWarning, e.typ)
			}
			assert.Equal(t, tc.events, reasons)
			require.NoError(t, got.Validate(), "what the agent sends passes the runtime's validation")
		})
	}

	t.Run("search list cut to 32", func(t *testing.T) {
		var host []string
		for i := range 40 {
			host = append(host, fmt.Sprintf("s%d.example", i))
		}
		a := &Agent{opts: Options{ResolvConf: writeResolv(t, "search "+strings.Join(host, " ")+" s0.example\n")}}
		p := simplePod("web", "app")
		p.Spec.DNSPolicy = core.DNSDefault
		got, events, err := a.podDNS(p)
		require.NoError(t, err)
		require.NoError(t, got.Validate())
		assert.Equal(t, host[:32], got.Searches)
		require.Len(t, events, 1)
		assert.Equal(t, "DNSConfigForming", events[0].reason)
		assert.Contains(t, events[0].message, "Search Line limits were exceeded")

		p.Spec.DNSConfig = &core.PodDNSConfig{Searches: []string{"s1.example", "s2.example"}}
		a.opts.ResolvConf = writeResolv(t, "search s1.example s1.example s3.example\n")
		got, events, err = a.podDNS(p)
		require.NoError(t, err)
		assert.Equal(t, []string{"s1.example", "s3.example", "s2.example"}, got.Searches, "duplicates dropped")
		assert.Empty(t, events)
	})
	t.Run("node resolv.conf changes are seen", func(t *testing.T) {
		path := writeResolv(t, "nameserver 192.0.2.1\n")
		a := &Agent{opts: Options{ResolvConf: path}}
		p := simplePod("web", "app")
		p.Spec.DNSPolicy = core.DNSDefault
		got, _, err := a.podDNS(p)
		require.NoError(t, err)
		assert.Equal(t, []string{"192.0.2.1"}, got.Servers)
		require.NoError(t, os.WriteFile(path, []byte("nameserver 192.0.2.22\n"), 0o644))
		got, _, err = a.podDNS(p)
		require.NoError(t, err)
		assert.Equal(t, []string{"192.0.2.22"}, got.Servers)
	})
	t.Run("missing resolv.conf", func(t *testing.T) {
		a := &Agent{opts: Options{ResolvConf: filepath.Join(t.TempDir(), "absent")}}
		p := simplePod("web", "app")
		p.Spec.DNSPolicy = core.DNSDefault
		_, _, err := a.podDNS(p)
		assert.ErrorContains(t, err, "host DNS")
	})
	assert.Equal(t, kubelet.MaxDNSSearches, fitSearches(strings.Fields(strings.Repeat("a ", 40))))
	assert.Equal(t, 2, fitSearches([]string{strings.Repeat("a", 1000), strings.Repeat("b", 1000), strings.Repeat("c", 100)}))
}

func TestHostsFile(t *testing.T) {
	got := string(hostsFile("10.88.0.5", "web-0", "nginx.default.svc.cluster.local", []core.HostAlias{
		{IP: "127.0.0.1", Hostnames: []string{"foo.local", "bar.local"}}, {IP: "10.1.2.3", Hostnames: []string{"foo.remote"}},
	}))
	assert.Equal(t, `# Kubernetes-managed hosts file.
127.0.0.1	localhost
::1	localhost ip6-localhost ip6-loopback
fe00::0	ip6-localnet
fe00::0	ip6-mcastprefix
fe00::1	ip6-allnodes
fe00::2	ip6-allrouters
10.88.0.5	web-0.nginx.default.svc.cluster.local	web-0

# Entries added by HostAliases.
127.0.0.1	foo.local	bar.local
10.1.2.3	foo.remote
`, got)
	got = string(hostsFile("10.88.0.5", "web", "", nil))
	assert.True(t, strings.HasSuffix(got, "fe00::2\tip6-allrouters\n10.88.0.5\tweb\n"), got)

	a := &Agent{opts: Options{ClusterDomain: "cluster.local"}}
	p := simplePod(strings.Repeat("a", 62)+"-b", "app")
	p.Namespace = "default"
	h, d := a.podHostname(p)
	assert.Equal(t, strings.Repeat("a", 62), h, "cut to 63 characters, trailing dash dropped")
	assert.Empty(t, d)
	p.Spec.Hostname, p.Spec.Subdomain = "web-0", "nginx"
	h, d = a.podHostname(p)
	assert.Equal(t, "web-0", h)
	assert.Equal(t, "nginx.default.svc.cluster.local", d)
}

func TestContainerSecurity(t *testing.T) {
	for _, tc := range []struct {
		name string
		pod  *core.PodSecurityContext
		ctr  *core.SecurityContext
		want kubelet.SecurityContext
	}{
		{name: "none"},
		{name: "pod level", pod: &core.PodSecurityContext{RunAsUser: i64(1000), RunAsGroup: i64(3000), FSGroup: i64(2000), SupplementalGroups: []int64{4000, 2000}},
			want: kubelet.SecurityContext{RunAsUser: i64(1000), RunAsGroup: i64(3000), SupplementalGroups: []int64{2000, 4000}}},
		{name: "container overrides", pod: &core.PodSecurityContext{RunAsUser: i64(1000), RunAsGroup: i64(3000)},
			ctr:  &core.SecurityContext{RunAsUser: i64(2000)},
			want: kubelet.SecurityContext{RunAsUser: i64(2000), RunAsGroup: i64(3000)}},
		{name: "container only", ctr: &core.SecurityContext{
			RunAsGroup: i64(5), Capabilities: &core.Capabilities{Add: []string{"NET_ADMIN", "cap_sys_time"}, Drop: []string{"all"}},
			Privileged: bp(true), ReadOnlyRootFilesystem: bp(true), AllowPrivilegeEscalation: bp(false),
		}, want: kubelet.SecurityContext{RunAsGroup: i64(5), CapAdd: []string{"NET_ADMIN", "SYS_TIME"}, CapDrop: []string{"ALL"},
			Privileged: true, ReadOnlyRootFilesystem: true, NoNewPrivileges: true}},
		{name: "escalation allowed", ctr: &core.SecurityContext{AllowPrivilegeEscalation: bp(true), ReadOnlyRootFilesystem: bp(false)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := simplePod("p", "c")
			p.Spec.SecurityContext, p.Spec.Containers[0].SecurityContext = tc.pod, tc.ctr
			got := containerSecurity(p, &p.Spec.Containers[0])
			assert.Equal(t, tc.want, got)
			require.NoError(t, kubelet.ContainerConfig{Name: "c", Image: "i", Security: got}.Validate())
		})
	}
	p := simplePod("p", "c")
	assert.False(t, podPrivileged(p))
	p.Spec.InitContainers = []core.Container{{Name: "i", SecurityContext: &core.SecurityContext{Privileged: bp(true)}}}
	assert.True(t, podPrivileged(p))
}

func TestVerifyNonRoot(t *testing.T) {
	p := simplePod("web", "app")
	p.Namespace, p.UID = "default", "u1"
	c := &p.Spec.Containers[0]
	for _, tc := range []struct {
		user      *int64
		imageUser string
		want      string // "" accepts
	}{
		{i64(1000), "", ""},
		{i64(0), "1000", `container's runAsUser breaks non-root policy (pod: "web_default(u1)", container: app)`},
		{nil, "1000", ""},
		{nil, "1000:0", ""},
		{nil, "", `container has runAsNonRoot and image will run as root (pod: "web_default(u1)", container: app)`},
		{nil, "0:1000", `image will run as root`},
		{nil, "root", `image will run as root`},
		{nil, "nobody", `container has runAsNonRoot and image has non-numeric user (nobody), cannot verify user is non-root (pod: "web_default(u1)", container: app)`},
		{nil, "nobody:nogroup", `non-numeric user (nobody)`},
	} {
		got := verifyNonRoot(p, c, tc.user, tc.imageUser)
		if tc.want == "" {
			assert.Empty(t, got, "user %v image %q", tc.user, tc.imageUser)
		} else {
			assert.Contains(t, got, tc.want, "user %v image %q", tc.user, tc.imageUser)
		}
	}
	assert.False(t, runAsNonRoot(p, c))
	p.Spec.SecurityContext = &core.PodSecurityContext{RunAsNonRoot: bp(true)}
	assert.True(t, runAsNonRoot(p, c))
	c.SecurityContext = &core.SecurityContext{RunAsNonRoot: bp(false)}
	assert.False(t, runAsNonRoot(p, c), "the container's setting wins")
}

// sandboxOf returns the fake runtime's record of a pod's sandbox.
func (h *harness) sandboxOf(pod string) kubelet.SandboxConfig {
	h.t.Helper()
	sbs, err := h.rt.ListPodSandboxes(context.Background(), kubelet.SandboxFilter{Labels: map[string]string{kubelet.LabelPodName: pod}})
	require.NoError(h.t, err)
	require.NotEmpty(h.t, sbs)
	cfg, err := h.rt.SandboxConfig(sbs[len(sbs)-1].ID)
	require.NoError(h.t, err)
	return cfg
}

func (h *harness) configOf(ctr string) kubelet.ContainerConfig {
	h.t.Helper()
	cs := h.containers(ctr)
	require.NotEmpty(h.t, cs)
	cfg, err := h.rt.ContainerConfig(cs[len(cs)-1].ID)
	require.NoError(h.t, err)
	return cfg
}

func TestPodDNSHostsAndSecurityReachRuntime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, Options{ClusterDNS: []string{"10.96.0.10"}, ClusterDomain: "cluster.local", ResolvConf: writeResolv(t, hostResolv)})
		p := simplePod("web", "app", "own-hosts")
		p.Spec.Hostname, p.Spec.Subdomain = "web-0", "nginx"
		p.Spec.HostAliases = []core.HostAlias{{IP: "192.0.2.7", Hostnames: []string{"foo.example", "bar"}}}
		p.Spec.DNSConfig = &core.PodDNSConfig{Searches: []string{"extra.example"}, Options: []core.PodDNSConfigOption{{Name: "ndots", Value: sp("2")}}}
		p.Spec.SecurityContext = &core.PodSecurityContext{RunAsUser: i64(1000), RunAsGroup: i64(3000), FSGroup: i64(int64(os.Getgid()))}
		p.Spec.Volumes = []core.Volume{{Name: "data", VolumeSource: core.VolumeSource{EmptyDir: &core.EmptyDirVolumeSource{}}}}
		p.Spec.Containers[0].SecurityContext = &core.SecurityContext{
			RunAsUser: i64(2000), Privileged: bp(true), ReadOnlyRootFilesystem: bp(true), AllowPrivilegeEscalation: bp(false),
			Capabilities: &core.Capabilities{Drop: []string{"ALL"}, Add: []string{"CAP_NET_BIND_SERVICE"}},
		}
		p.Spec.Containers[0].VolumeMounts = []core.VolumeMount{{Name: "data", MountPath: "/data"}}
		p.Spec.Containers[1].VolumeMounts = []core.VolumeMount{{Name: "data", MountPath: "/etc/hosts", SubPath: "hosts"}}
		created := h.create(p)
		h.eventually(10*time.Second, "running", h.phase("web", core.PodRunning))
		got := h.pod("web")

		sb := h.sandboxOf("web")
		assert.Equal(t, "web-0", sb.Hostname)
		assert.True(t, sb.Privileged, "a privileged container makes a privileged sandbox")
		assert.Equal(t, kubelet.DNSConfig{
			Servers:  []string{"10.96.0.10"},
			Searches: []string{"default.svc.cluster.local", "svc.cluster.local", "cluster.local", "corp.example", "lab.example", "extra.example"},
			Options:  []string{"ndots:2"},
		}, sb.DNS)

		app := h.configOf("app")
		assert.Equal(t, kubelet.SecurityContext{
			RunAsUser: i64(2000), RunAsGroup: i64(3000), SupplementalGroups: []int64{int64(os.Getgid())},
			Privileged: true, ReadOnlyRootFilesystem: true, NoNewPrivileges: true,
			CapAdd: []string{"NET_BIND_SERVICE"}, CapDrop: []string{"ALL"},
		}, app.Security)
		hostsPath := filepath.Join(h.opts.RootDir, "pods", string(created.UID), "etc-hosts")
		assert.Contains(t, app.Mounts, kubelet.Mount{ContainerPath: "/etc/hosts", HostPath: hostsPath})
		b, err := os.ReadFile(hostsPath)
		require.NoError(t, err)
		assert.Contains(t, string(b), got.Status.PodIP+"\tweb-0.nginx.default.svc.cluster.local\tweb-0\n")
		assert.Contains(t, string(b), "# Entries added by HostAliases.\n192.0.2.7\tfoo.example\tbar\n")

		own := h.configOf("own-hosts")
		assert.Equal(t, kubelet.SecurityContext{RunAsUser: i64(1000), RunAsGroup: i64(3000), SupplementalGroups: []int64{int64(os.Getgid())}}, own.Security)
		n := 0
		for _, m := range own.Mounts {
			if m.ContainerPath == "/etc/hosts" {
				n++
				assert.NotEqual(t, hostsPath, m.HostPath, "the container's own /etc/hosts wins")
			}
		}
		assert.Equal(t, 1, n)

		// fsGroup owns the emptyDir, setgid so that new files get the group.
		fi, err := os.Stat(filepath.Join(h.opts.RootDir, "pods", string(created.UID), "volumes", "data"))
		require.NoError(t, err)
		assert.NotZero(t, fi.Mode()&os.ModeSetgid)
		assert.Empty(t, h.events("MissingClusterDNS"))
	})
}

func TestClusterFirstWithoutClusterDNSWarns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, Options{ResolvConf: writeResolv(t, hostResolv)})
		h.create(simplePod("web", "app"))
		h.eventually(10*time.Second, "running", h.phase("web", core.PodRunning))
		assert.Equal(t, []string{"192.0.2.53", "192.0.2.54"}, h.sandboxOf("web").DNS.Servers)
		ev := h.events("MissingClusterDNS")
		require.Len(t, ev, 1)
		assert.Contains(t, ev[0].Message, `cannot create Pod using "ClusterFirst" policy. Falling back to "Default" policy.`)
	})
}

func TestRunAsNonRoot(t *testing.T) {
	for _, tc := range []struct {
		name      string
		imageUser string
		pod       *core.PodSecurityContext
		ctr       *core.SecurityContext
		reject    string // "" runs
	}{
		{name: "numeric image user", imageUser: "1000:1000", pod: &core.PodSecurityContext{RunAsNonRoot: bp(true)}},
		{name: "runAsUser", imageUser: "", pod: &core.PodSecurityContext{RunAsNonRoot: bp(true), RunAsUser: i64(1000)}},
		{name: "root image", imageUser: "", pod: &core.PodSecurityContext{RunAsNonRoot: bp(true)}, reject: "image will run as root"},
		{name: "uid 0 image", imageUser: "0", ctr: &core.SecurityContext{RunAsNonRoot: bp(true)}, reject: "image will run as root"},
		{name: "named image user", imageUser: "nobody", pod: &core.PodSecurityContext{RunAsNonRoot: bp(true)}, reject: "image has non-numeric user (nobody), cannot verify user is non-root"},
		{name: "runAsUser 0", imageUser: "1000", ctr: &core.SecurityContext{RunAsNonRoot: bp(true), RunAsUser: i64(0)}, reject: "container's runAsUser breaks non-root policy"},
		{name: "container opts out", imageUser: "", pod: &core.PodSecurityContext{RunAsNonRoot: bp(true)}, ctr: &core.SecurityContext{RunAsNonRoot: bp(false)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness(t, Options{ResolvConf: writeResolv(t, hostResolv)})
				h.rt.SetImageUser("app:v1", tc.imageUser)
				p := simplePod("p", "app")
				p.Spec.SecurityContext, p.Spec.Containers[0].SecurityContext = tc.pod, tc.ctr
				h.create(p)
				if tc.reject == "" {
					h.eventually(10*time.Second, "running", h.phase("p", core.PodRunning))
					return
				}
				h.eventually(10*time.Second, "CreateContainerConfigError", func() bool {
					p := h.pod("p")
					w := cstatus(p, "app").State.Waiting
					return w != nil && w.Reason == "CreateContainerConfigError"
				})
				got := h.pod("p")
				assert.Equal(t, core.PodPending, got.Status.Phase)
				w := cstatus(got, "app").State.Waiting
				assert.Contains(t, w.Message, tc.reject)
				assert.Contains(t, w.Message, `(pod: "p_default(`)
				assert.Empty(t, h.containers("app"), "nothing was created")
				var failed []string
				for _, e := range h.events("Failed") {
					failed = append(failed, e.Message)
				}
				require.NotEmpty(t, failed)
				assert.Contains(t, failed[0], "Error: ")
				assert.Contains(t, failed[0], tc.reject)

				// Fixing the image lets the pod run on a later retry.
				h.rt.SetImageUser("app:v1", "1000")
				if tc.ctr != nil && tc.ctr.RunAsUser != nil {
					return // the spec itself is at fault: it never runs
				}
				h.eventually(30*time.Second, "running after the image was fixed", h.phase("p", core.PodRunning))
			})
		})
	}
}

func TestSetHostnameAsFQDN(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, Options{ClusterDNS: []string{"10.96.0.10"}, ClusterDomain: "cluster.local", ResolvConf: writeResolv(t, hostResolv)})
		p := simplePod("web", "app")
		p.Spec.Hostname, p.Spec.Subdomain, p.Spec.SetHostnameAsFQDN = "web-0", "nginx", bp(true)
		h.create(p)
		long := simplePod("long", "app")
		long.Spec.Hostname, long.Spec.Subdomain, long.Spec.SetHostnameAsFQDN = strings.Repeat("h", 40), "nginx", bp(true)
		h.create(long)
		h.eventually(10*time.Second, "running", h.phase("web", core.PodRunning))
		assert.Equal(t, "web-0.nginx.default.svc.cluster.local", h.sandboxOf("web").Hostname)
		h.eventually(10*time.Second, "FQDN too long", func() bool {
			for _, e := range h.events("FailedCreatePodSandBox") {
				if strings.Contains(e.Message, "is too long (64 characters is the max, 72 characters requested)") {
					return true
				}
			}
			return false
		})
		assert.Equal(t, core.PodPending, h.pod("long").Status.Phase)
	})
}
