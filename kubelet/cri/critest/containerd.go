package critest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gantry-sdk/gantry/kubelet"
	"github.com/gantry-sdk/gantry/kubelet/cri"
)

// Names of the images every Env imports.
const (
	// BusyboxImage runs busybox: give it a command.
	BusyboxImage = "gantry.local/busybox:test"
	// PauseImage is the sandbox image: sleeps until killed.
	PauseImage = "gantry.local/pause:test"
)

// ErrPrerequisite: something the real-runtime tests need is missing (root, a
// binary). Tests skip on it, or fail under CI=true (see Env.Require).
var ErrPrerequisite = errors.New("critest: prerequisite missing")

// Env is a private containerd: its own root, state, sockets, runc root, CNI
// config and IP range, a cgroup parent for its pods, and the test images
// imported. Stop tears everything down.
type Env struct {
	// Dir holds every path of the daemon.
	Dir string
	// Socket is containerd's gRPC socket (CRI endpoint).
	Socket string
	// CgroupParent is the cgroup under which to put the test pods.
	CgroupParent string
	// Bridge is the CNI bridge device; Subnet its pod range ("10.244.N.0/24").
	Bridge, Subnet string
	// LogDir is a directory for container logs.
	LogDir string

	cmd        *exec.Cmd
	waitErr    chan error
	subnetLock *os.File // flock held on the subnet while the Env lives
	archive    []byte   // the test images, an OCI image-layout tar
}

// Options tune Start; the zero value works.
type Options struct {
	// Busybox is the static busybox binary; empty means /bin/busybox.
	Busybox string
	// LogLevel of the daemon's log (Dir/containerd.log); empty means "warn".
	LogLevel string
}

// Missing lists the binaries and privileges the real-runtime tests need and
// lack here.
func Missing() []string {
	var miss []string
	if os.Geteuid() != 0 {
		miss = append(miss, "root")
	}
	for _, b := range []string{"containerd", "containerd-shim-runc-v2", "runc", "ctr", "ip"} {
		if _, err := exec.LookPath(b); err != nil {
			miss = append(miss, b)
		}
	}
	for _, p := range []string{"/usr/lib/cni/bridge", "/usr/lib/cni/host-local", "/usr/lib/cni/loopback", "/bin/busybox"} {
		if _, err := os.Stat(p); err != nil {
			miss = append(miss, p)
		}
	}
	return miss
}

// Start starts a private containerd and imports the test images. It returns
// ErrPrerequisite (wrapped, naming what is missing) when it cannot run here.
func Start(ctx context.Context, o Options) (_ *Env, err error) {
	if miss := Missing(); len(miss) > 0 {
		return nil, fmt.Errorf("%w: %s (scripts/setup/20-containerd.sh installs them)", ErrPrerequisite, strings.Join(miss, ", "))
	}
	busybox := o.Busybox
	if busybox == "" {
		busybox = "/bin/busybox"
	}
	dir, err := os.MkdirTemp("", "gantry-ctrd-")
	if err != nil {
		return nil, err
	}
	suffix := randHex(4)
	e := &Env{
		Dir:          dir,
		Socket:       filepath.Join(dir, "containerd.sock"),
		CgroupParent: "/gantry-test-" + suffix,
		Bridge:       "gtry" + suffix,
		LogDir:       filepath.Join(dir, "logs"),
	}
	defer func() {
		if err != nil {
			e.Stop()
		}
	}()
	if e.Subnet, e.subnetLock, err = freeSubnet(); err != nil {
		return nil, err
	}
	if o.LogLevel == "" {
		o.LogLevel = "warn"
	}
	if err := e.writeConfig(o.LogLevel); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "containerd.log"))
	if err != nil {
		return nil, err
	}
	e.cmd = exec.Command("containerd", "--config", filepath.Join(dir, "config.toml"))
	e.cmd.Stdout, e.cmd.Stderr = logf, logf
	// Its own process group, so a ^C to the test reaches the daemon through
	// Pdeathsig only: a test binary that dies (timeout, kill) still takes its
	// daemon down instead of leaving it running.
	e.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := e.cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("critest: start containerd: %w", err)
	}
	logf.Close()
	e.waitErr = make(chan error, 1)
	go func() { e.waitErr <- e.cmd.Wait() }()

	rt, err := e.dialReady(ctx)
	if err != nil {
		return nil, err
	}
	defer rt.Close()
	layer, err := BusyboxLayer(busybox)
	if err != nil {
		return nil, err
	}
	var archive bytes.Buffer
	if err := WriteOCIArchive(&archive, layer,
		Image{Name: BusyboxImage, Cmd: []string{"sh"}},
		Image{Name: PauseImage, Entrypoint: []string{"/bin/sleep", "2147483647"}},
	); err != nil {
		return nil, err
	}
	e.archive = archive.Bytes()
	if _, err := rt.ImportImage(ctx, bytes.NewReader(e.archive)); err != nil {
		return nil, fmt.Errorf("critest: import test images: %w", err)
	}
	return e, nil
}

// ImageArchive returns the test images as an OCI image-layout tar.
func (e *Env) ImageArchive() []byte { return e.archive }

// Ctr runs ctr against the daemon in the containerd namespace ns.
func (e *Env) Ctr(ctx context.Context, ns string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "ctr", append([]string{"--address", e.Socket, "--namespace", ns}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("critest: ctr %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return out, nil
}

// Dial returns a new CRI client of the daemon with an importer into it.
func (e *Env) Dial(ctx context.Context) (*cri.Runtime, error) {
	return cri.Dial(ctx, e.Socket, cri.Options{Importer: cri.ContainerdImporter{Address: e.Socket}})
}

func (e *Env) dialReady(ctx context.Context) (*cri.Runtime, error) {
	deadline := time.Now().Add(60 * time.Second) // generous: CI machines run loaded
	for {
		if _, err := os.Stat(e.Socket); err == nil {
			c, cancel := context.WithTimeout(ctx, 2*time.Second)
			rt, err := e.Dial(c)
			cancel()
			if err == nil {
				return rt, nil
			}
			if time.Now().After(deadline) {
				return nil, fmt.Errorf("critest: containerd not ready: %w\n%s", err, e.logTail())
			}
		}
		select {
		case err := <-e.waitErr:
			e.waitErr <- err
			return nil, fmt.Errorf("critest: containerd exited: %v\n%s", err, e.logTail())
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("critest: containerd socket did not appear\n%s", e.logTail())
		}
	}
}

func (e *Env) logTail() string {
	b, _ := os.ReadFile(filepath.Join(e.Dir, "containerd.log"))
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

func (e *Env) writeConfig(logLevel string) error {
	d := e.Dir
	for _, sub := range []string{"root", "state", "opt", "runc", "cni/net.d", "cni/ipam", "logs"} {
		if err := os.MkdirAll(filepath.Join(d, sub), 0o755); err != nil {
			return err
		}
	}
	gw := strings.TrimSuffix(e.Subnet, "0/24") + "1"
	conflist := fmt.Sprintf(`{
  "cniVersion": "1.0.0",
  "name": "%s",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "%s",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "%s",
        "ranges": [[{"subnet": "%s", "gateway": "%s"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    }
  ]
}
`, e.Bridge, e.Bridge, filepath.Join(d, "cni/ipam"), e.Subnet, gw)
	if err := os.WriteFile(filepath.Join(d, "cni/net.d/10-gantry.conflist"), []byte(conflist), 0o644); err != nil {
		return err
	}
	// Every path under d; the runc root too, or two daemons share
	// /run/containerd/runc/k8s.io. stream_server_port 0: no fixed TCP port.
	cfg := fmt.Sprintf(`version = 2
root = "%[1]s/root"
state = "%[1]s/state"
oom_score = 0

[grpc]
  address = "%[1]s/containerd.sock"

[ttrpc]
  address = "%[1]s/containerd.sock.ttrpc"

[debug]
  level = "%[3]s"

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "%[1]s/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "%[2]s"
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  max_container_log_line_size = 16384
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "%[1]s/cni/net.d"
    max_conf_num = 1
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        Root = "%[1]s/runc"
        SystemdCgroup = false
`, d, PauseImage, logLevel)
	return os.WriteFile(filepath.Join(d, "config.toml"), []byte(cfg), 0o644)
}

// RemoveAll stops and removes every sandbox of the daemon.
func (e *Env) RemoveAll(ctx context.Context) error {
	rt, err := e.Dial(ctx)
	if err != nil {
		return err
	}
	defer rt.Close()
	return RemoveSandboxes(ctx, rt)
}

// RemoveSandboxes stops and removes every sandbox rt lists, through the
// Runtime port, so it serves any implementation.
func RemoveSandboxes(ctx context.Context, rt kubelet.Runtime) error {
	sbs, err := rt.ListPodSandboxes(ctx, kubelet.SandboxFilter{})
	if err != nil {
		return err
	}
	var errs []error
	for _, sb := range sbs {
		if err := rt.StopPodSandbox(ctx, sb.ID); err != nil && !errors.Is(err, kubelet.ErrNotFound) {
			errs = append(errs, err)
		}
		if err := rt.RemovePodSandbox(ctx, sb.ID); err != nil && !errors.Is(err, kubelet.ErrNotFound) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Stop removes every pod, stops the daemon (SIGTERM, then SIGKILL after 10 s),
// ends the shims it left, unmounts and removes its directory, its cgroups and
// its bridge.
func (e *Env) Stop() error {
	var errs []error
	if e.cmd != nil && e.cmd.Process != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := e.RemoveAll(ctx); err != nil {
			errs = append(errs, fmt.Errorf("critest: remove pods: %w", err))
		}
		cancel()
		_ = e.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-e.waitErr:
		case <-time.After(10 * time.Second):
			_ = e.cmd.Process.Kill()
			<-e.waitErr
		}
		e.cmd = nil
	}
	e.killShims()
	e.unmountAll()
	if err := os.RemoveAll(e.Dir); err != nil {
		errs = append(errs, err)
	}
	e.removeCgroups()
	if e.Bridge != "" {
		_ = exec.Command("ip", "link", "delete", e.Bridge).Run()
	}
	if e.subnetLock != nil {
		e.subnetLock.Close()
		e.subnetLock = nil
	}
	return errors.Join(errs...)
}

// killShims ends the runc shims this daemon started (they outlive it by
// design), found by the daemon's unique address on their command line.
func (e *Env) killShims() {
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil || !bytes.Contains(b, []byte("containerd-shim")) || !bytes.Contains(b, []byte(e.Socket)) {
			continue
		}
		pid, err := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		if err == nil {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// unmountAll lazily unmounts whatever is still mounted under the directory,
// deepest first.
func (e *Env) unmountAll() {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return
	}
	var mounts []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && strings.HasPrefix(fields[4], e.Dir+"/") {
			mounts = append(mounts, fields[4])
		}
	}
	f.Close()
	sort.Slice(mounts, func(i, j int) bool { return len(mounts[i]) > len(mounts[j]) })
	for _, m := range mounts {
		_ = syscall.Unmount(m, syscall.MNT_DETACH)
	}
}

// removeCgroups removes the pod cgroup parent in every hierarchy. Processes
// still in it (a test that failed before removing its pods leaves runc init or
// container processes whose shim was killed) are killed first.
func (e *Env) removeCgroups() {
	roots, _ := filepath.Glob("/sys/fs/cgroup/*")
	roots = append(roots, "/sys/fs/cgroup")
	var all [][]string
	killed := false
	for _, root := range roots {
		dir := filepath.Join(root, e.CgroupParent)
		var dirs []string
		_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		for _, d := range dirs {
			b, _ := os.ReadFile(filepath.Join(d, "cgroup.procs"))
			for _, f := range strings.Fields(string(b)) {
				if pid, err := strconv.Atoi(f); err == nil && pid > 1 {
					_ = syscall.Kill(pid, syscall.SIGKILL)
					killed = true
				}
			}
		}
		all = append(all, dirs)
	}
	if killed {
		time.Sleep(200 * time.Millisecond) // the kernel empties the cgroups
	}
	for _, dirs := range all {
		// Children first (pod and container cgroups runc left), then the parent.
		for i := len(dirs) - 1; i >= 0; i-- {
			_ = syscall.Rmdir(dirs[i])
		}
	}
}

// freeSubnet picks a 10.244.N.0/24 no interface of this machine uses and that
// no other Env holds: Envs of test packages running in parallel flock a file per
// subnet (the lock dies with its process, so none goes stale).
func freeSubnet() (string, *os.File, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return "", nil, err
	}
	for range 64 {
		n, _ := rand.Int(rand.Reader, big.NewInt(250))
		_, subnet, _ := net.ParseCIDR(fmt.Sprintf("10.244.%d.0/24", n.Int64()+2))
		used := false
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && (subnet.Contains(ipn.IP) || ipn.Contains(subnet.IP)) {
				used = true
			}
		}
		if used {
			continue
		}
		f, err := os.OpenFile(filepath.Join(os.TempDir(), fmt.Sprintf("gantry-critest-subnet-%d.lock", n.Int64()+2)), os.O_CREATE|os.O_RDWR, 0o600)
		if err != nil {
			return "", nil, err
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			f.Close()
			continue
		}
		return subnet.String(), f, nil
	}
	return "", nil, errors.New("critest: no free 10.244.N.0/24 subnet")
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
