package containerd_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/kubelet"
	"github.com/gantry-sdk/gantry/kubelet/containerd"
	"github.com/gantry-sdk/gantry/kubelet/containerd/containerdtest"
	"github.com/gantry-sdk/gantry/kubelet/cri/critest"
)

// podFor runs a sandbox for one test and removes it at the end.
func podFor(t *testing.T, ctx context.Context, rt kubelet.Runtime, cfg kubelet.SandboxConfig) kubelet.SandboxStatus {
	t.Helper()
	if cfg.Name == "" {
		cfg.Name = strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()))
		if len(cfg.Name) > 50 {
			cfg.Name = cfg.Name[len(cfg.Name)-50:]
		}
	}
	cfg.Namespace, cfg.UID, cfg.CgroupParent = "sec", fmt.Sprintf("%s-%d", cfg.Name, time.Now().UnixNano()), env.CgroupParent
	sb, err := rt.RunPodSandbox(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx := context.Background()
		// A test may have removed it already.
		if err := rt.StopPodSandbox(ctx, sb.ID); !errors.Is(err, kubelet.ErrNotFound) {
			assert.NoError(t, err)
		}
		assert.NoError(t, rt.RemovePodSandbox(ctx, sb.ID))
	})
	return sb
}

// sleeper starts a `sleep 3600` container of cfg (image and command filled in
// when empty) and returns its ID.
func sleeper(t *testing.T, ctx context.Context, rt kubelet.Runtime, sandboxID string, cfg kubelet.ContainerConfig) string {
	t.Helper()
	if cfg.Name == "" {
		cfg.Name = "app"
	}
	if cfg.Image == "" {
		cfg.Image = critest.BusyboxImage
	}
	if len(cfg.Command) == 0 {
		cfg.Command = []string{"sleep", "3600"}
	}
	id, err := rt.CreateContainer(ctx, sandboxID, cfg)
	require.NoError(t, err)
	require.NoError(t, rt.StartContainer(ctx, id))
	return id
}

// sh runs a shell command in a running container and returns its stdout; a
// non-zero exit fails the test.
func sh(t *testing.T, ctx context.Context, rt kubelet.Runtime, id, cmd string) string {
	t.Helper()
	res, err := rt.ExecSync(ctx, id, []string{"sh", "-c", cmd}, 10*time.Second)
	require.NoError(t, err)
	require.Zero(t, res.ExitCode, "%s: %s", cmd, res.Stderr)
	return strings.TrimSpace(string(res.Stdout))
}

func i64(v int64) *int64 { return &v }

func TestContainerUser(t *testing.T) {
	rt := dial(t, containerd.Options{PoolSize: -1})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// The busybox image's /etc/passwd: root 0:0, nobody 65534:65534; /etc/group: root 0, nogroup 65534.
	images := map[string]string{"": critest.BusyboxImage}
	for _, u := range []string{"nobody", "65534", "1000:1000", "nobody:root", "1000", "0:nogroup", "ghost"} {
		name := "gantry.local/busybox-user:" + strings.NewReplacer(":", "-").Replace(u)
		require.NoError(t, containerdtest.DeriveImage(ctx, rt, critest.BusyboxImage, name, u))
		images[u] = name
		img, err := rt.ImageStatus(ctx, name)
		require.NoError(t, err)
		assert.Equal(t, u, img.User, "Image.User of %s", name)
	}
	img, err := rt.ImageStatus(ctx, critest.BusyboxImage)
	require.NoError(t, err)
	assert.Empty(t, img.User, "root image")

	sb := podFor(t, ctx, rt, kubelet.SandboxConfig{})
	for i, tc := range []struct {
		name      string
		imageUser string
		sc        kubelet.SecurityContext
		want      string // `id -u`:`id -g`:`id -G`
	}{
		{name: "root default", want: "0:0:0"},
		{name: "image name", imageUser: "nobody", want: "65534:65534:65534"},
		{name: "image uid looked up", imageUser: "65534", want: "65534:65534:65534"},
		{name: "image uid:gid", imageUser: "1000:1000", want: "1000:1000:1000"},
		{name: "image uid unknown", imageUser: "1000", want: "1000:0:0"},
		{name: "image name:group", imageUser: "nobody:root", want: "65534:0:0"},
		{name: "image uid:group name", imageUser: "0:nogroup", want: "0:65534:65534"},
		{name: "runAsUser over image", imageUser: "nobody", sc: kubelet.SecurityContext{RunAsUser: i64(1234)}, want: "1234:0:0"},
		{name: "runAsGroup keeps image user", imageUser: "nobody", sc: kubelet.SecurityContext{RunAsGroup: i64(4321)}, want: "65534:4321:4321"},
		{name: "all three", sc: kubelet.SecurityContext{RunAsUser: i64(1234), RunAsGroup: i64(5678), SupplementalGroups: []int64{42, 43}}, want: "1234:5678:5678 42 43"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := sleeper(t, ctx, rt, sb.ID, kubelet.ContainerConfig{Name: fmt.Sprint("u", i), Image: images[tc.imageUser], Security: tc.sc})
			assert.Equal(t, tc.want, sh(t, ctx, rt, id, `echo $(id -u):$(id -g):$(id -G)`))
			// The main process, not only exec'd ones.
			status := sh(t, ctx, rt, id, `grep -E '^(Uid|Gid)' /proc/1/status | awk '{print $2}' | tr '\n' ' '`)
			uid, rest, _ := strings.Cut(tc.want, ":")
			gid, _, _ := strings.Cut(rest, ":")
			assert.Equal(t, uid+" "+gid, status)
		})
	}
	t.Run("unknown name", func(t *testing.T) {
		_, err := rt.CreateContainer(ctx, sb.ID, kubelet.ContainerConfig{Name: "ghost", Image: images["ghost"], Command: []string{"true"}})
		require.ErrorIs(t, err, kubelet.ErrInvalid)
		assert.Contains(t, err.Error(), `"ghost"`)
	})
	t.Run("out of range", func(t *testing.T) {
		_, err := rt.CreateContainer(ctx, sb.ID, kubelet.ContainerConfig{Name: "neg", Image: critest.BusyboxImage, Command: []string{"true"},
			Security: kubelet.SecurityContext{RunAsUser: i64(-1)}})
		require.ErrorIs(t, err, kubelet.ErrInvalid)
		assert.Contains(t, err.Error(), "runAsUser")
		_, err = rt.CreateContainer(ctx, sb.ID, kubelet.ContainerConfig{Name: "big", Image: critest.BusyboxImage, Command: []string{"true"},
			Security: kubelet.SecurityContext{SupplementalGroups: []int64{1, 1 << 31}}})
		require.ErrorIs(t, err, kubelet.ErrInvalid)
		assert.Contains(t, err.Error(), "supplementalGroups[1]")
	})
}

// capEff reads a capability mask from a container's /proc/1/status.
func capMask(t *testing.T, ctx context.Context, rt kubelet.Runtime, id, field string) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(sh(t, ctx, rt, id, `grep '^`+field+`:' /proc/1/status | awk '{print $2}'`), 16, 64)
	require.NoError(t, err)
	return v
}

func TestContainerSecurity(t *testing.T) {
	rt := dial(t, containerd.Options{PoolSize: -1})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sb := podFor(t, ctx, rt, kubelet.SandboxConfig{})
	const (
		capChown    = 1 << 0
		capNetAdmin = 1 << 12
		capNetRaw   = 1 << 13
		capSysAdmin = 1 << 21
	)
	def := sleeper(t, ctx, rt, sb.ID, kubelet.ContainerConfig{Name: "default"})
	defCaps := capMask(t, ctx, rt, def, "CapEff")
	assert.NotZero(t, defCaps&capChown)
	assert.NotZero(t, defCaps&capNetRaw)
	assert.Zero(t, defCaps&(capNetAdmin|capSysAdmin))
	assert.Equal(t, "0", sh(t, ctx, rt, def, `grep '^NoNewPrivs:' /proc/1/status | awk '{print $2}'`), "Kubernetes allows privilege escalation by default")
	assert.Empty(t, sh(t, ctx, rt, def, `grep ' /run ' /proc/mounts || true`), "no /run tmpfs")
	sh(t, ctx, rt, def, `touch /written`)
	assert.NotEmpty(t, sh(t, ctx, rt, def, `grep ' /proc/timer_list ' /proc/mounts`), "masked path")
	assert.NotEqual(t, "0", sh(t, ctx, rt, def, `test -e /dev/kmsg; echo $?`), "no host devices")

	t.Run("caps", func(t *testing.T) {
		id := sleeper(t, ctx, rt, sb.ID, kubelet.ContainerConfig{Name: "caps", Security: kubelet.SecurityContext{CapAdd: []string{"NET_ADMIN", "SYS_ADMIN"}, CapDrop: []string{"CHOWN"}}})
		assert.Equal(t, (defCaps|capNetAdmin|capSysAdmin)&^capChown, capMask(t, ctx, rt, id, "CapEff"))
		assert.Equal(t, (defCaps|capNetAdmin|capSysAdmin)&^capChown, capMask(t, ctx, rt, id, "CapBnd"))
	})
	t.Run("drop all add one", func(t *testing.T) {
		id := sleeper(t, ctx, rt, sb.ID, kubelet.ContainerConfig{Name: "dropall", Security: kubelet.SecurityContext{CapAdd: []string{"NET_RAW"}, CapDrop: []string{"ALL"}}})
		assert.Equal(t, uint64(capNetRaw), capMask(t, ctx, rt, id, "CapEff"))
	})
	t.Run("unknown capability", func(t *testing.T) {
		_, err := rt.CreateContainer(ctx, sb.ID, kubelet.ContainerConfig{Name: "badcap", Image: critest.BusyboxImage, Command: []string{"true"},
			Security: kubelet.SecurityContext{CapAdd: []string{"NET_ADMIN", "FLY"}}})
		require.ErrorIs(t, err, kubelet.ErrInvalid)
		assert.Contains(t, err.Error(), "capAdd[1]")
	})
	t.Run("add all", func(t *testing.T) {
		id := sleeper(t, ctx, rt, sb.ID, kubelet.ContainerConfig{Name: "addall", Security: kubelet.SecurityContext{CapAdd: []string{"ALL"}, CapDrop: []string{"NET_ADMIN"}}})
		assert.Equal(t, hostBounding(t)&^capNetAdmin, capMask(t, ctx, rt, id, "CapEff"))
	})
	t.Run("privileged needs a privileged sandbox", func(t *testing.T) {
		_, err := rt.CreateContainer(ctx, sb.ID, kubelet.ContainerConfig{Name: "priv", Image: critest.BusyboxImage, Command: []string{"true"},
			Security: kubelet.SecurityContext{Privileged: true}})
		require.ErrorIs(t, err, kubelet.ErrInvalid)
	})
	t.Run("privileged", func(t *testing.T) {
		psb := podFor(t, ctx, rt, kubelet.SandboxConfig{Name: "privileged", Privileged: true})
		id := sleeper(t, ctx, rt, psb.ID, kubelet.ContainerConfig{Name: "priv", Security: kubelet.SecurityContext{Privileged: true}})
		assert.Equal(t, hostBounding(t), capMask(t, ctx, rt, id, "CapEff"), "every capability of the bounding set")
		assert.Empty(t, sh(t, ctx, rt, id, `grep ' /proc/timer_list ' /proc/mounts || true`), "no masked paths")
		if _, err := os.Stat("/dev/kmsg"); err == nil {
			assert.Equal(t, "0", sh(t, ctx, rt, id, `test -e /dev/kmsg; echo $?`), "host devices")
		}
		sh(t, ctx, rt, id, `grep ' /sys/fs/cgroup ' /proc/mounts | grep -q rw,`)
	})
	t.Run("read-only root and no new privileges", func(t *testing.T) {
		id := sleeper(t, ctx, rt, sb.ID, kubelet.ContainerConfig{Name: "ro", Security: kubelet.SecurityContext{ReadOnlyRootFilesystem: true, NoNewPrivileges: true}})
		res, err := rt.ExecSync(ctx, id, []string{"touch", "/written"}, 10*time.Second)
		require.NoError(t, err)
		assert.NotZero(t, res.ExitCode, "the root is read-only")
		assert.Contains(t, string(res.Stderr), "Read-only file system")
		assert.Equal(t, "1", sh(t, ctx, rt, id, `grep '^NoNewPrivs:' /proc/1/status | awk '{print $2}'`))
	})
}

// hostBounding is this process's capability bounding set.
func hostBounding(t *testing.T) uint64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	require.NoError(t, err)
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "CapBnd:"); ok {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			require.NoError(t, err)
			return n
		}
	}
	t.Fatal("no CapBnd in /proc/self/status")
	return 0
}

// Image.User comes from the image config in every Images result.
func TestImageUserReported(t *testing.T) {
	rt := dial(t, containerd.Options{PoolSize: -1})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	layer, err := critest.BusyboxLayer("/bin/busybox")
	require.NoError(t, err)
	var archive bytes.Buffer
	require.NoError(t, critest.WriteOCIArchive(&archive, layer,
		critest.Image{Name: "gantry.local/reported:named", Cmd: []string{"sh"}, User: "nobody:nogroup"},
		critest.Image{Name: "gantry.local/reported:root", Cmd: []string{"sh"}},
	))
	imported, err := rt.ImportImage(ctx, &archive)
	require.NoError(t, err)
	t.Cleanup(func() {
		for _, img := range imported {
			_ = rt.RemoveImage(context.Background(), img.Names[0])
		}
	})
	users := map[string]string{}
	for _, img := range imported {
		users[img.Names[0]] = img.User
	}
	assert.Equal(t, map[string]string{"gantry.local/reported:named": "nobody:nogroup", "gantry.local/reported:root": ""}, users, "ImportImage")
	all, err := rt.ListImages(ctx)
	require.NoError(t, err)
	found := false
	for _, img := range all {
		if slices.Contains(img.Names, "gantry.local/reported:named") {
			found = true
			assert.Equal(t, "nobody:nogroup", img.User, "ListImages")
		}
	}
	assert.True(t, found, "ListImages lists the image")
	img, err := rt.ImageStatus(ctx, "gantry.local/reported:named")
	require.NoError(t, err)
	assert.Equal(t, "nobody:nogroup", img.User, "ImageStatus")
}
