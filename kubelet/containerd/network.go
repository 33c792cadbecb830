package containerd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	tasks "github.com/containerd/containerd/api/services/tasks/v1"
	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/containerd/v2/pkg/oci"
	"github.com/containerd/errdefs"
	"github.com/containerd/errdefs/pkg/errgrpc"
	"github.com/containerd/typeurl/v2"
	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/invoke"
	types100 "github.com/containernetworking/cni/pkg/types/100"
	"github.com/containernetworking/cni/pkg/version"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/gantry-sdk/gantry/kubelet"
)

// cniNetwork attaches network namespaces to the pod network through the CNI
// plugins (for the tests: bridge with host-local IPAM).
type cniNetwork struct {
	cni  *libcni.CNIConfig
	list *libcni.NetworkConfigList
}

func newCNINetwork(n Network, cacheDir string) (*cniNetwork, error) {
	if len(n.ConfList) == 0 {
		return nil, fmt.Errorf("%w: network: CNI configuration list is empty", kubelet.ErrInvalid)
	}
	list, err := libcni.ConfListFromBytes(n.ConfList)
	if err != nil {
		return nil, fmt.Errorf("%w: network: CNI configuration list: %v", kubelet.ErrInvalid, err)
	}
	dirs := n.PluginDirs
	if len(dirs) == 0 {
		dirs = []string{"/usr/lib/cni", "/opt/cni/bin"}
	}
	// An explicit exec: libcni sets its default lazily, a data race between
	// the pool's provisioning and an on-demand one.
	exec := &invoke.DefaultExec{RawExec: &invoke.RawExec{Stderr: os.Stderr}, PluginDecoder: version.PluginDecoder{}}
	return &cniNetwork{cni: libcni.NewCNIConfigWithCacheDir(dirs, cacheDir, exec), list: list}, nil
}

func (n *cniNetwork) runtimeConf(id, netns string) *libcni.RuntimeConf {
	// IgnoreUnknown: plugins reject CNI_ARGS keys they do not know otherwise.
	return &libcni.RuntimeConf{ContainerID: id, NetNS: netns, IfName: "eth0", Args: [][2]string{{"IgnoreUnknown", "1"}}}
}

// add attaches the namespace and returns its IPv4 address.
func (n *cniNetwork) add(ctx context.Context, id, netns string) (string, error) {
	res, err := n.cni.AddNetworkList(ctx, n.list, n.runtimeConf(id, netns))
	if err != nil {
		return "", fmt.Errorf("containerd: CNI add %s: %w", id, err)
	}
	r, err := types100.NewResultFromResult(res)
	if err != nil {
		return "", fmt.Errorf("containerd: CNI add %s: result: %w", id, err)
	}
	for _, ip := range r.IPs {
		if ip.Address.IP.To4() != nil {
			return ip.Address.IP.String(), nil
		}
	}
	return "", fmt.Errorf("containerd: CNI add %s: no IPv4 address in the result", id)
}

// del detaches the namespace, releasing its IP and veth.
func (n *cniNetwork) del(ctx context.Context, id, netns string) error {
	if err := n.cni.DelNetworkList(ctx, n.list, n.runtimeConf(id, netns)); err != nil {
		return fmt.Errorf("containerd: CNI del %s: %w", id, err)
	}
	return nil
}

// newNamespaces creates a network namespace pinned by a bind mount on
// netnsPath, with its loopback up (so no loopback plugin needs to run), and an
// IPC namespace pinned on ipcPath: one thread unshares both at once.
func newNamespaces(netnsPath, ipcPath string) (err error) {
	for _, p := range []string{netnsPath, ipcPath} {
		f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_RDONLY, 0o444)
		if err != nil {
			removeNsFile(netnsPath)
			return fmt.Errorf("containerd: namespace file %s: %w", p, err)
		}
		f.Close()
	}
	defer func() {
		if err != nil {
			removeNsFile(netnsPath)
			removeNsFile(ipcPath)
		}
	}()
	errc := make(chan error, 1)
	go func() {
		// The thread enters the new namespaces and back; if it cannot get
		// back, it stays locked and dies with the goroutine.
		runtime.LockOSThread()
		origNet, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer unix.Close(origNet)
		origIPC, err := unix.Open("/proc/thread-self/ns/ipc", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer unix.Close(origIPC)
		if err := unix.Unshare(unix.CLONE_NEWNET | unix.CLONE_NEWIPC); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("unshare: %w", err)
			return
		}
		err = unix.Mount("/proc/thread-self/ns/net", netnsPath, "none", unix.MS_BIND, "")
		if err != nil {
			err = fmt.Errorf("bind mount netns: %w", err)
		} else if err = unix.Mount("/proc/thread-self/ns/ipc", ipcPath, "none", unix.MS_BIND, ""); err != nil {
			err = fmt.Errorf("bind mount ipc: %w", err)
		} else if lerr := loopbackUp(); lerr != nil {
			err = fmt.Errorf("loopback up: %w", lerr)
		}
		serr := unix.Setns(origNet, unix.CLONE_NEWNET)
		if serr == nil {
			serr = unix.Setns(origIPC, unix.CLONE_NEWIPC)
		}
		if serr != nil {
			errc <- errors.Join(err, fmt.Errorf("setns back: %w", serr))
			return
		}
		runtime.UnlockOSThread()
		errc <- err
	}()
	if err := <-errc; err != nil {
		return fmt.Errorf("containerd: namespaces %s: %w", netnsPath, err)
	}
	return nil
}

func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return err
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	return unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr)
}

// removeNsFile unpins a namespace (or unmounts any mount point) and removes
// the file or empty directory.
func removeNsFile(path string) error {
	if path == "" {
		return nil
	}
	if err := unix.Unmount(path, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("containerd: unmount %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("containerd: remove %s: %w", path, err)
	}
	return nil
}

func (r *Runtime) netnsPath(id string) string { return filepath.Join(r.stateDir, "netns", id) }

// slot is a pod network ready for a sandbox: its record (a containerd
// container without a task) is what the sandbox becomes.
type slot struct {
	id, netns, ip string
	podDir        string // IPC namespace, /dev/shm, resolv.conf and hostname
}

// provision creates a pod network and its record, labelled as a pool slot of
// this Runtime until a sandbox takes it.
func (r *Runtime) provision(ctx context.Context, warm bool) (s slot, err error) {
	s.id = randomID()
	s.netns = r.netnsPath(s.id)
	s.podDir = r.podDirPath(s.id)
	ctx = r.nsCtx(ctx)
	// The record first: whatever fails later, a record finds what to clean.
	// containerd wants a spec on every record: an empty one (no task ever runs).
	emptySpec, err := typeurl.MarshalAny(&specs.Spec{})
	if err != nil {
		return s, err
	}
	_, err = r.c.ContainerService().Create(ctx, containers.Container{
		ID:      s.id,
		Labels:  map[string]string{keyKind: kindPool, keyOwner: r.owner, keyNetns: s.netns, keyPodDir: s.podDir},
		Runtime: containers.RuntimeInfo{Name: runtimeName},
		Spec:    emptySpec,
	})
	if err != nil {
		return s, r.wrap("provision network", s.id, err)
	}
	defer func() {
		if err != nil {
			_ = r.removeWarmShim(context.WithoutCancel(ctx), s.id)
			_ = r.teardownNetwork(context.WithoutCancel(ctx), s.id, s.netns)
			_ = releasePodDir(s.podDir)
			_ = r.deleteRecord(context.WithoutCancel(ctx), s.id)
		}
	}()
	if err := newPodDir(s.podDir); err != nil {
		return s, err
	}
	if err := newNamespaces(s.netns, filepath.Join(s.podDir, podIPCFile)); err != nil {
		return s, err
	}
	if s.ip, err = r.net.add(ctx, s.id, s.netns); err != nil {
		return s, err
	}
	if r.warmShim && warm {
		if err := r.warmShimFor(ctx, s); err != nil {
			return s, err
		}
	}
	return s, nil
}

// holderID names the placeholder task that keeps a pod's shim warm.
func holderID(sandboxID string) string { return sandboxID + "-shim" }

// warmShim starts the pod's shim ahead of its containers: containerd starts a
// shim for the placeholder's task, created (a runc init blocked before exec,
// in an empty root, joining the pod's network namespace) and never started.
// The pod's containers carry the same group annotation and join that shim.
func (r *Runtime) warmShimFor(ctx context.Context, s slot) error {
	id := holderID(s.id)
	spec, err := oci.GenerateSpec(ctx, nil, &containers.Container{ID: id},
		oci.WithRootFSPath(filepath.Join(r.stateDir, "holder-rootfs")),
		// Never executed: runc only checks at create time that it exists.
		oci.WithProcessArgs("/proc/self/exe"),
		oci.WithLinuxNamespace(specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: s.netns}),
		oci.WithCgroup(filepath.Join(r.holderCgroup, id)),
		oci.WithAnnotations(map[string]string{groupAnnotation: s.id}),
	)
	if err != nil {
		return fmt.Errorf("containerd: warm shim %s: spec: %w", s.id, err)
	}
	specAny, err := typeurl.MarshalAny(spec)
	if err != nil {
		return err
	}
	rec := containers.Container{
		ID: id, Labels: map[string]string{keyKind: kindHolder, keySandbox: s.id},
		Runtime: containers.RuntimeInfo{Name: runtimeName}, Spec: specAny,
	}
	if r.runtimeOpts != nil {
		if rec.Runtime.Options, err = typeurl.MarshalAny(r.runtimeOpts); err != nil {
			return err
		}
	}
	if _, err := r.c.ContainerService().Create(ctx, rec); err != nil {
		return r.wrap("warm shim", s.id, err)
	}
	if _, err := r.c.TaskService().Create(ctx, &tasks.CreateTaskRequest{ContainerID: id}); err != nil {
		return r.wrap("warm shim", s.id, errgrpc.ToNative(err))
	}
	return nil
}

// removeWarmShim ends a pod's placeholder task (the shim exits with the
// pod's last task); a pod without one is done.
func (r *Runtime) removeWarmShim(ctx context.Context, sandboxID string) error {
	id := holderID(sandboxID)
	ctx = r.nsCtx(ctx)
	if err := r.killTask(ctx, id, syscall.SIGKILL, 0); err != nil {
		return err
	}
	if _, err := r.c.TaskService().Delete(ctx, &tasks.DeleteTaskRequest{ContainerID: id}); err != nil {
		if err = errgrpc.ToNative(err); !errdefs.IsNotFound(err) {
			return r.wrap("remove warm shim", sandboxID, err)
		}
	}
	return r.deleteRecord(ctx, id)
}

// teardownNetwork detaches and removes a namespace; each step tolerates what
// is already gone.
func (r *Runtime) teardownNetwork(ctx context.Context, id, netns string) error {
	if netns == "" {
		return nil
	}
	var errs []error
	if _, err := os.Stat(netns); err == nil {
		errs = append(errs, r.net.del(ctx, id, netns))
	} else {
		// The namespace is gone: still release the IP.
		errs = append(errs, r.net.del(ctx, id, ""))
	}
	errs = append(errs, removeNsFile(netns))
	return errors.Join(errs...)
}

func (r *Runtime) deleteRecord(ctx context.Context, id string) error {
	err := r.c.ContainerService().Delete(r.nsCtx(ctx), id)
	if err != nil && !errdefs.IsNotFound(err) {
		return r.wrap("delete record", id, err)
	}
	return nil
}

// collectOrphans tears down pool slots whose owning process is gone (a crash
// left them) and namespace files and pod directories no record names (a
// crash between their creation and their record's).
func (r *Runtime) collectOrphans(ctx context.Context) error {
	ctx = r.nsCtx(ctx)
	// Files first, records second: a record is created before its files, so
	// a file listed here whose record is missing below is an orphan.
	netns, _ := os.ReadDir(filepath.Join(r.stateDir, "netns"))
	pods, _ := os.ReadDir(filepath.Join(r.stateDir, "pods"))
	all, err := r.c.ContainerService().List(ctx)
	if err != nil {
		return r.wrap("list records", "", err)
	}
	known := map[string]bool{}
	for _, rec := range all {
		known[rec.ID] = true
	}
	var errs []error
	for _, e := range netns {
		if !known[e.Name()] {
			errs = append(errs, r.teardownNetwork(ctx, e.Name(), r.netnsPath(e.Name())))
		}
	}
	for _, e := range pods {
		if !known[e.Name()] {
			errs = append(errs, releasePodDir(r.podDirPath(e.Name())))
		}
	}
	for _, rec := range all {
		if rec.Labels[keyKind] != kindPool || ownerAlive(rec.Labels[keyOwner]) {
			continue
		}
		errs = append(errs, r.removeWarmShim(ctx, rec.ID), r.teardownNetwork(ctx, rec.ID, rec.Labels[keyNetns]), releasePodDir(rec.Labels[keyPodDir]), r.deleteRecord(ctx, rec.ID))
	}
	return errors.Join(errs...)
}

// ownerAlive reports whether the process named by a pool owner ("pid-random") runs.
func ownerAlive(owner string) bool {
	pidStr, _, _ := strings.Cut(owner, "-")
	pid, err := strconv.Atoi(pidStr)
	if err != nil || pid <= 0 {
		return false
	}
	err = syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// pool keeps up to size pod networks provisioned, refilled in the background
// after every hand-out.
type pool struct {
	r     *Runtime
	size  int
	delay time.Duration
	wake  chan struct{}

	mu       sync.Mutex
	free     []slot
	lastTake time.Time
	// failures counts provisioning errors in a row (refills back off on them).
	failures int
	lastErr  error
}

func newPool(r *Runtime, size int, delay time.Duration) *pool {
	if delay == 0 {
		delay = 250 * time.Millisecond
	}
	return &pool{r: r, size: size, delay: delay, wake: make(chan struct{}, 1)}
}

// take hands out a free slot, if any, and asks for a refill.
func (p *pool) take() (slot, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
	p.lastTake = time.Now()
	if len(p.free) == 0 {
		return slot{}, false
	}
	s := p.free[len(p.free)-1]
	p.free = p.free[:len(p.free)-1]
	return s, true
}

// Free reports how many slots are ready.
func (p *pool) ready() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.free)
}

func (p *pool) run() {
	ctx := p.r.ctx
	backoff := 100 * time.Millisecond
	for {
		p.mu.Lock()
		missing := p.size - len(p.free)
		quiet := p.delay - time.Since(p.lastTake)
		p.mu.Unlock()
		if missing > 0 && quiet > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(quiet):
			}
			continue
		}
		if missing > 0 {
			s, err := p.r.provision(ctx, true)
			if err == nil {
				p.mu.Lock()
				p.free = append(p.free, s)
				p.failures, p.lastErr = 0, nil
				p.mu.Unlock()
				backoff = 100 * time.Millisecond
				continue
			}
			if ctx.Err() != nil {
				return
			}
			p.mu.Lock()
			p.failures, p.lastErr = p.failures+1, err
			p.mu.Unlock()
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 5*time.Second)
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-p.wake:
		}
	}
}

// drain tears down every free slot (after run has returned).
func (p *pool) drain() error {
	p.mu.Lock()
	free := p.free
	p.free = nil
	p.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var errs []error
	for _, s := range free {
		errs = append(errs, p.r.removeWarmShim(ctx, s.id), p.r.teardownNetwork(ctx, s.id, s.netns), releasePodDir(s.podDir), p.r.deleteRecord(ctx, s.id))
	}
	return errors.Join(errs...)
}

// PoolReady reports how many pod networks the pool holds ready (zero without a pool).
func (r *Runtime) PoolReady() int {
	if r.pool == nil {
		return 0
	}
	return r.pool.ready()
}

// WaitPool blocks until the pool holds n ready networks (a test and benchmark
// aid: a pool hit is then certain).
func (r *Runtime) WaitPool(ctx context.Context, n int) error {
	if r.pool == nil {
		return errors.New("containerd: no pool")
	}
	for r.pool.ready() < n {
		select {
		case <-ctx.Done():
			p := r.pool
			p.mu.Lock()
			last := p.lastErr
			p.mu.Unlock()
			return errors.Join(ctx.Err(), last)
		case <-time.After(5 * time.Millisecond):
		}
	}
	return nil
}

// podIP checks an address recorded in a label.
func podIP(s string) string {
	if net.ParseIP(s) == nil {
		return ""
	}
	return s
}
