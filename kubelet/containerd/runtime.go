package containerd

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/containerd/containerd/api/types/runc/options"
	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/errdefs"

	"github.com/gantry-sdk/gantry/kubelet"
)

// Defaults of Options.
const (
	DefaultNamespace   = "gantry"
	DefaultSnapshotter = "overlayfs"
	DefaultPoolSize    = 2
	runtimeName        = "io.containerd.runc.v2"
	// groupAnnotation makes containerd-shim-runc-v2 (1.6 and later) serve every
	// container of a pod from one shim process.
	groupAnnotation = "io.containerd.runc.v2.group"
)

// ErrClosed: the Runtime was closed.
var ErrClosed = errors.New("containerd: runtime closed")

// Options tune a Runtime; the zero value works.
type Options struct {
	// Namespace is the containerd namespace holding the pods; empty means
	// DefaultNamespace. Give each agent of a machine its own.
	Namespace string
	// StateDir holds the network namespace files, the log FIFOs and the CNI
	// cache; empty means /run/gantry/containerd/<namespace>.
	StateDir string
	// RuncRoot is runc's state directory; empty lets the shim choose
	// (/run/containerd/runc/<namespace>).
	RuncRoot string
	// Snapshotter defaults to DefaultSnapshotter.
	Snapshotter string
	// SnapshotterRoot is the snapshotter's directory, whose filesystem
	// ImageFsInfo measures; empty asks the daemon (the plugin's exported
	// root), then falls back to /var/lib/containerd/io.containerd.snapshotter.v1.<Snapshotter>.
	SnapshotterRoot string
	// ColdShim turns off the warm shim of pool networks. By default each pool
	// network also holds a shim, kept up by a placeholder task that is created
	// and never started (a blocked runc init, no image), so that the pod's first
	// container joins a running shim instead of waiting for a new one.
	ColdShim bool
	// CgroupParent is where the placeholder tasks of warm shims live; empty
	// means /gantry.
	CgroupParent string
	// PoolRefillDelay is how long the pool waits after a hand-out before it
	// provisions again, so that a refill does not compete for CPU with the
	// start of the pod that took the network; zero means 250 ms.
	PoolRefillDelay time.Duration
	// HostResolvConf is the resolv.conf a pod without DNS settings gets a
	// copy of; empty means /etc/resolv.conf.
	HostResolvConf string
	// PoolSize is how many pod networks (network namespace, veth, IP) are kept
	// ready for RunPodSandbox; zero means DefaultPoolSize, negative disables the
	// pool (every sandbox is set up on demand).
	PoolSize int
}

// Network is the pod network: a CNI configuration list (bridge + host-local is
// what the tests use) and where its plugins are.
type Network struct {
	// ConfList is the JSON of a CNI network configuration list (required).
	ConfList []byte
	// PluginDirs default to /usr/lib/cni and /opt/cni/bin.
	PluginDirs []string
}

// Runtime is a kubelet.Runtime on containerd's native API: a sandbox is a
// network namespace with an IP (no pause process) recorded as a containerd
// container without a task; the pod's containers join that namespace and share
// one shim.
type Runtime struct {
	c            *client.Client
	ns           string
	stateDir     string
	snapshotter  string
	snapRoot     string // Options.SnapshotterRoot; empty: found on first ImageFsInfo
	runtimeOpts  *options.Options
	net          *cniNetwork
	pool         *pool
	owner        string // this instance, on the pool records it owns
	warmShim     bool
	holderCgroup string
	// hostResolvConf is copied into the pods that set no DNS.
	hostResolvConf string

	ctx    context.Context // carries the namespace; cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // background goroutines: events, pool, label writes
	logWG  sync.WaitGroup // log followers, ended by Close after wg

	mu        sync.Mutex
	closed    bool
	images    map[string]imageInfo // by image target digest
	userDBs   map[string]userDB    // by image ID, read when a user name must be resolved
	logs      map[string]*taskLog  // running log copiers by container ID
	oom       map[string]bool      // containers an OOM event was seen for
	oomCgroup map[string]bool      // exited containers' OOM verdict from their cgroup
	exitsSeen map[string]chan struct{}
	created   map[string]createdContainer // containers created here, until started
	started   map[string]time.Time        // start times not yet in the labels
}

var _ kubelet.Runtime = (*Runtime)(nil)

// Dial connects to containerd's socket at address and prepares the pod
// network. It cleans up what a crashed predecessor left in the namespace (pool
// networks nobody owns any more) and resumes logging of running containers.
func Dial(ctx context.Context, address string, network Network, o Options) (_ *Runtime, err error) {
	if o.Namespace == "" {
		o.Namespace = DefaultNamespace
	}
	if o.StateDir == "" {
		o.StateDir = filepath.Join("/run/gantry/containerd", o.Namespace)
	}
	if o.Snapshotter == "" {
		o.Snapshotter = DefaultSnapshotter
	}
	if o.CgroupParent == "" {
		o.CgroupParent = "/gantry"
	}
	if o.HostResolvConf == "" {
		o.HostResolvConf = "/etc/resolv.conf"
	}
	netw, err := newCNINetwork(network, filepath.Join(o.StateDir, "cni-cache"))
	if err != nil {
		return nil, err
	}
	for _, d := range []string{"netns", "pods", "fifo", "holder-rootfs"} {
		if err := os.MkdirAll(filepath.Join(o.StateDir, d), 0o700); err != nil {
			return nil, fmt.Errorf("containerd: state dir: %w", err)
		}
	}
	c, err := client.New(address, client.WithDefaultNamespace(o.Namespace), client.WithDefaultRuntime(runtimeName))
	if err != nil {
		return nil, fmt.Errorf("containerd: dial %s: %w: %w", address, kubelet.ErrUnavailable, err)
	}
	rctx, cancel := context.WithCancel(context.Background())
	r := &Runtime{
		c: c, ns: o.Namespace, stateDir: o.StateDir, snapshotter: o.Snapshotter, snapRoot: o.SnapshotterRoot, net: netw,
		owner:    fmt.Sprintf("%d-%s", os.Getpid(), randomID()[:8]),
		warmShim: !o.ColdShim, holderCgroup: o.CgroupParent, hostResolvConf: o.HostResolvConf,
		ctx: rctx, cancel: cancel,
		images: map[string]imageInfo{}, userDBs: map[string]userDB{}, logs: map[string]*taskLog{}, oom: map[string]bool{}, oomCgroup: map[string]bool{}, exitsSeen: map[string]chan struct{}{},
		created: map[string]createdContainer{}, started: map[string]time.Time{},
	}
	if o.RuncRoot != "" {
		r.runtimeOpts = &options.Options{Root: o.RuncRoot}
	}
	defer func() {
		if err != nil {
			r.Close()
		}
	}()
	if _, err := c.Version(ctx); err != nil {
		return nil, fmt.Errorf("containerd: version: %w: %w", kubelet.ErrUnavailable, err)
	}
	// Events first: an OOM or exit between here and the first status is not missed.
	ready := make(chan struct{})
	r.wg.Go(func() { r.watchEvents(ready) })
	<-ready
	if err := r.collectOrphans(ctx); err != nil {
		return nil, err
	}
	if err := r.resumeLogs(ctx); err != nil {
		return nil, err
	}
	size := o.PoolSize
	if size == 0 {
		size = DefaultPoolSize
	}
	if size > 0 {
		r.pool = newPool(r, size, o.PoolRefillDelay)
		r.wg.Go(r.pool.run)
	}
	return r, nil
}

// Close tears down the pool's unused networks, stops the log copiers (the
// containers keep running; a new Runtime resumes their logs) and closes the
// connection.
func (r *Runtime) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	r.mu.Unlock()
	r.cancel()
	r.wg.Wait()
	var errs []error
	if r.pool != nil {
		errs = append(errs, r.pool.drain())
	}
	r.mu.Lock()
	logs := r.logs
	r.logs = map[string]*taskLog{}
	r.mu.Unlock()
	for _, l := range logs {
		l.stop()
	}
	r.logWG.Wait()
	errs = append(errs, r.c.Close())
	return errors.Join(errs...)
}

// Version returns containerd's version ("containerd v1.6.20").
func (r *Runtime) Version(ctx context.Context) (string, error) {
	v, err := r.c.Version(ctx)
	if err != nil {
		return "", r.wrap("version", "", err)
	}
	return "containerd " + v.Version, nil
}

// Client is the containerd client the Runtime uses (for tools and tests).
func (r *Runtime) Client() *client.Client { return r.c }

// Namespace is the containerd namespace of the pods.
func (r *Runtime) Namespace() string { return r.ns }

// wrap maps containerd's errors to the kubelet sentinels.
func (r *Runtime) wrap(op, id string, err error) error {
	if err == nil {
		return nil
	}
	what := op
	if id != "" {
		what += " " + id
	}
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("containerd: %s: %w", what, err)
	case errdefs.IsNotFound(err):
		return fmt.Errorf("containerd: %s: %w: %w", what, kubelet.ErrNotFound, err)
	case errdefs.IsAlreadyExists(err):
		return fmt.Errorf("containerd: %s: %w: %w", what, kubelet.ErrAlreadyExists, err)
	case errdefs.IsInvalidArgument(err):
		return fmt.Errorf("containerd: %s: %w: %w", what, kubelet.ErrInvalid, err)
	case errdefs.IsUnavailable(err):
		return fmt.Errorf("containerd: %s: %w: %w", what, kubelet.ErrUnavailable, err)
	}
	return fmt.Errorf("containerd: %s: %w", what, err)
}

func randomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// validID guards paths built from IDs that callers pass in.
func validID(id string) bool {
	if id == "" || len(id) > 76 {
		return false
	}
	return !strings.ContainsAny(id, "/\\.\x00 ")
}
