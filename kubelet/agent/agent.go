package agent

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/go-logr/logr"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/apis/fields"
	"github.com/gantry-sdk/gantry/informer"
	"github.com/gantry-sdk/gantry/kubelet"
	"github.com/gantry-sdk/gantry/kubelet/imagegc"
	"github.com/gantry-sdk/gantry/reconcile"
	"github.com/gantry-sdk/gantry/store"
)

// Sentinel errors of the agent.
var (
	// ErrInvalid: the agent's configuration or a pod cannot be run (names the field).
	ErrInvalid = errors.New("agent: invalid")
	// ErrImageNeverPull: the image is absent and the pull policy is Never.
	ErrImageNeverPull = errors.New("agent: image absent and pull policy is Never")
	// ErrRunAsNonRoot: a container with runAsNonRoot would run as root, or as
	// an image user that cannot be verified.
	ErrRunAsNonRoot = errors.New("agent: runAsNonRoot cannot be satisfied")
)

// Labels the agent puts on what it creates in the runtime, beside the CRI ones,
// so that a restarted agent finds them again.
const (
	// LabelNode names the node a sandbox belongs to.
	LabelNode = "gantry.dev/node"
	// LabelInit marks init containers.
	LabelInit = "gantry.dev/init"
	// AnnotationMirror marks a mirror pod of a static pod (its value is the static pod's hash).
	AnnotationMirror = "kubernetes.io/config.mirror"
	// AnnotationSource says where a static pod came from ("file").
	AnnotationSource = "kubernetes.io/config.source"
)

// Options tune an Agent; the zero value works except where noted.
type Options struct {
	// Clock drives every timer (heartbeats, back-off, probes); nil is the wall
	// clock. Under testing/synctest the wall clock is already fake.
	Clock reconcile.Clock
	// Machine reports the node's resources; nil reads /proc and RootDir.
	Machine Machine
	// RootDir holds the pods' volumes and logs; empty means a fresh temporary
	// directory is not made for you: set it for any pod with volumes.
	RootDir string
	// Hostname and InternalIP are the node's addresses; empty ones are found
	// from the machine.
	Hostname, InternalIP string
	// CgroupParent is the cgroup under which pods' sandboxes go; empty lets
	// the runtime choose.
	CgroupParent string
	// StaticPodDir is a directory of pod manifests run as static pods; empty: none.
	StaticPodDir string
	// Workers is how many pods sync at once; 0 means 4.
	Workers int
	// Logger for what goes wrong in loops.
	Logger logr.Logger
	// StatusInterval and LeaseInterval default to 5 s; LeaseDuration to 40 s.
	StatusInterval, LeaseInterval, LeaseDuration time.Duration
	// RelistInterval is how often the runtime is listed to notice container
	// exits (kubelet's PLEG); 0 means 1 s.
	RelistInterval time.Duration
	// BackoffBase and BackoffMax bound crash-loop back-off; 10 s and 5 min by default.
	BackoffBase, BackoffMax time.Duration
	// RuntimeVersion is reported in nodeInfo.containerRuntimeVersion.
	RuntimeVersion string
	// Labels are added to the Node.
	Labels map[string]string
	// ClusterDNS are the cluster's DNS server IPs and ClusterDomain its
	// domain ("cluster.local"), as the kubelet's clusterDNS and clusterDomain:
	// pods with dnsPolicy ClusterFirst resolve through them. Without
	// ClusterDNS, ClusterFirst falls back to Default (a MissingClusterDNS
	// warning); without ClusterDomain, no cluster search domains and no
	// subdomain names in /etc/hosts.
	ClusterDNS    []string
	ClusterDomain string
	// ResolvConf is the node's resolver configuration that dnsPolicy Default
	// copies and ClusterFirst takes search domains from; empty means
	// /etc/resolv.conf.
	ResolvConf string
	// ImageGC is the image garbage collection policy (the kubelet's
	// imageGCHighThresholdPercent, imageGCLowThresholdPercent,
	// imageMinimumGCAge, imageMaximumGCAge); its zero value is the kubelet's
	// defaults: 85 %, 80 %, 2 min, no maximum age. ImageGCPeriod is how often
	// it runs; 0 means 5 min, negative turns collection off. PinnedImages
	// (names or IDs) are never collected, as the kubelet's pod infra image.
	ImageGC       imagegc.Policy
	ImageGCPeriod time.Duration
	PinnedImages  []string
	// Informers, if set, supplies the ConfigMap, Secret and Service informers
	// (informer.Shared), which the caller starts with Informers.Start: agents
	// in one process (simulated nodes) then share one watch per kind instead
	// of one each. Nil: the agent runs its own.
	Informers *informer.Factory
	// ShutdownGracePeriod and ShutdownGracePeriodCriticalPods enable graceful
	// node shutdown (see Shutdown) as the kubelet's fields of those names:
	// regular pods get ShutdownGracePeriod - ShutdownGracePeriodCriticalPods,
	// critical pods (priority >= SystemCriticalPriority) the rest. Zero: off.
	ShutdownGracePeriod, ShutdownGracePeriodCriticalPods time.Duration
	// ShutdownGracePeriodByPodPriority, instead of the two above, gives each
	// priority range its own period; ranges are terminated lowest first.
	ShutdownGracePeriodByPodPriority []ShutdownGracePeriodByPodPriority
}

// Version is the kubelet version the agent reports.
const Version = "v1.33.0-gantry"

// Agent is a node agent: it registers its Node, heartbeats, and runs the pods
// bound to it through a kubelet.Runtime. Create one with New, run it with Run.
type Agent struct {
	node  string
	s     store.Store
	rt    kubelet.Runtime
	opts  Options
	clock reconcile.Clock
	log   logr.Logger

	pods       *informer.Informer[*core.Pod]
	configMaps *informer.Informer[*core.ConfigMap]
	secrets    *informer.Informer[*core.Secret]
	services   *informer.Informer[*core.Service]
	ctrl       *reconcile.Controller

	mu      sync.Mutex
	state   map[apis.Key]*podState // pods the agent knows of, by key
	running bool
	events  *recorder
	probes  *prober
	hostIP  string
	// startedAt is when Run began: containers started before it are adopted.
	startedAt time.Time

	imageGC *imageGC

	resolvMu    sync.Mutex
	resolvCache *resolvCache // the node's resolv.conf, parsed

	shut *nodeShutdown // graceful node shutdown (shutdown.go)
}

// New returns an agent for node nodeName over store s and runtime rt.
func New(nodeName string, s store.Store, rt kubelet.Runtime, opts Options) (*Agent, error) {
	if nodeName == "" {
		return nil, fmt.Errorf("%w: node name is empty", ErrInvalid)
	}
	if s == nil || rt == nil {
		return nil, fmt.Errorf("%w: store and runtime are required", ErrInvalid)
	}
	if opts.Clock == nil {
		opts.Clock = reconcile.RealClock()
	}
	if opts.Workers <= 0 {
		opts.Workers = 4
	}
	if opts.StatusInterval <= 0 {
		opts.StatusInterval = 5 * time.Second
	}
	if opts.LeaseInterval <= 0 {
		opts.LeaseInterval = 5 * time.Second
	}
	if opts.LeaseDuration <= 0 {
		opts.LeaseDuration = 40 * time.Second
	}
	if opts.RelistInterval <= 0 {
		opts.RelistInterval = time.Second
	}
	if opts.BackoffBase <= 0 {
		opts.BackoffBase = 10 * time.Second
	}
	if opts.BackoffMax <= 0 {
		opts.BackoffMax = 5 * time.Minute
	}
	if opts.Machine == nil {
		opts.Machine = HostMachine{Dir: opts.RootDir}
	}
	for i, ip := range opts.ClusterDNS {
		if _, err := netip.ParseAddr(ip); err != nil {
			return nil, fmt.Errorf("%w: clusterDNS[%d]: %q is not an IP address", ErrInvalid, i, ip)
		}
	}
	gc, err := newImageGC(opts)
	if err != nil {
		return nil, err
	}
	a := &Agent{
		node: nodeName, s: s, rt: rt, opts: opts, clock: opts.Clock, log: opts.Logger,
		state: map[apis.Key]*podState{}, imageGC: gc,
	}
	a.pods = informer.New[*core.Pod](s, informer.Options[*core.Pod]{
		Fields: fields.OneTermEqual("spec.nodeName", nodeName), Logger: opts.Logger,
	})
	if f := opts.Informers; f != nil {
		a.configMaps, a.secrets, a.services = informer.Shared[*core.ConfigMap](f), informer.Shared[*core.Secret](f), informer.Shared[*core.Service](f)
	} else {
		a.configMaps = informer.New[*core.ConfigMap](s, informer.Options[*core.ConfigMap]{Logger: opts.Logger})
		a.secrets = informer.New[*core.Secret](s, informer.Options[*core.Secret]{Logger: opts.Logger})
		a.services = informer.New[*core.Service](s, informer.Options[*core.Service]{Logger: opts.Logger})
	}
	a.events = newRecorder(s, nodeName, a.clock)
	a.probes = newProber(a)
	shut, err := newNodeShutdown(opts)
	if err != nil {
		return nil, err
	}
	a.shut = shut
	a.ctrl = reconcile.NewController("kubelet-"+nodeName, reconcile.Func(a.syncPod), reconcile.Options{
		Workers: opts.Workers, Logger: opts.Logger, Clock: opts.Clock,
		BaseDelay: 200 * time.Millisecond, MaxDelay: 10 * time.Second,
	})
	inNamespace := func(ns string) []apis.Key {
		var keys []apis.Key
		for _, p := range a.pods.ListNamespace(ns) {
			keys = append(keys, apis.KeyOf(p))
		}
		return keys
	}
	if err := a.ctrl.Watch(
		reconcile.For[*core.Pod](a.pods),
		reconcile.Watches[*core.ConfigMap](a.configMaps, func(c *core.ConfigMap) []apis.Key { return inNamespace(c.Namespace) }),
		reconcile.Watches[*core.Secret](a.secrets, func(c *core.Secret) []apis.Key { return inNamespace(c.Namespace) }),
	); err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	return a, nil
}

// NodeName returns the agent's node name.
func (a *Agent) NodeName() string { return a.node }

// Run registers the node, adopts what the runtime already runs for this node,
// and runs pods, heartbeats and probes until ctx ends. It returns nil when ctx
// ends or a Shutdown finished, or the first fatal error.
func (a *Agent) Run(ctx context.Context) error {
	if a.shut.shutDown() {
		return fmt.Errorf("%w: agent for %s was shut down", ErrNotRunning, a.node)
	}
	a.mu.Lock()
	if a.running {
		a.mu.Unlock()
		return fmt.Errorf("%w: agent for %s already runs", ErrInvalid, a.node)
	}
	a.running = true
	a.mu.Unlock()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	a.shut.runStarted(ctx, cancel)
	defer a.shut.runEnded()

	a.startedAt = a.clock.Now()
	if m, err := a.machine(); err == nil {
		a.hostIP = m.InternalIP
	}
	if err := a.adopt(ctx); err != nil {
		return err
	}
	var wg sync.WaitGroup
	run := func(f func(context.Context)) {
		wg.Add(1)
		go func() { defer wg.Done(); f(ctx) }()
	}
	errc := make(chan error, 1)
	run(func(ctx context.Context) { _ = a.pods.Run(ctx) })
	if a.opts.Informers == nil {
		run(func(ctx context.Context) { _ = a.configMaps.Run(ctx) })
		run(func(ctx context.Context) { _ = a.secrets.Run(ctx) })
		run(func(ctx context.Context) { _ = a.services.Run(ctx) })
	}
	run(a.nodeLoop)
	run(a.leaseLoop)
	run(a.relistLoop)
	run(a.imageGCLoop)
	if a.opts.StaticPodDir != "" {
		run(a.staticLoop)
	}
	run(func(ctx context.Context) {
		if err := a.ctrl.Run(ctx); err != nil && ctx.Err() == nil {
			errc <- err
			cancel()
		}
	})
	<-ctx.Done()
	wg.Wait()
	a.probes.stopAll()
	a.mu.Lock()
	a.running = false
	a.mu.Unlock()
	select {
	case err := <-errc:
		return err
	default:
		return nil
	}
}

// WaitForSync waits until the agent's caches are filled.
func (a *Agent) WaitForSync(ctx context.Context) error {
	for _, w := range []func(context.Context) error{a.pods.WaitForSync, a.configMaps.WaitForSync, a.secrets.WaitForSync, a.services.WaitForSync} {
		if err := w(ctx); err != nil {
			return err
		}
	}
	return nil
}

// sleep waits d on the agent's clock; false if ctx ended first.
func (a *Agent) sleep(ctx context.Context, d time.Duration) bool {
	ch := make(chan struct{})
	t := a.clock.AfterFunc(d, func() { close(ch) })
	select {
	case <-ch:
		return true
	case <-ctx.Done():
		t.Stop()
		return false
	}
}

// retry runs f until it succeeds, with back-off from 200 ms doubling to 7 s
// (kubelet's heartbeat retry); false if ctx ended first.
func (a *Agent) retry(ctx context.Context, what string, f func(context.Context) error) bool {
	wait := 200 * time.Millisecond
	for {
		err := f(ctx)
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		a.log.Error(err, "retrying", "what", what, "after", wait)
		if !a.sleep(ctx, wait) {
			return false
		}
		wait = min(2*wait, 7*time.Second)
	}
}
