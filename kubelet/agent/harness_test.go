package agent

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/builtin"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/kubelet"
	"github.com/gantry-sdk/gantry/kubelet/fake"
	"github.com/gantry-sdk/gantry/store"
	"github.com/gantry-sdk/gantry/store/memory"
)

// harness is a store, a fake runtime and an agent, for use inside a
// testing/synctest bubble: every clock is the bubble's fake one.
type harness struct {
	t     testing.TB
	s     store.Store
	rt    *fake.Runtime   // nil over a real runtime
	run   kubelet.Runtime // what the agent runs on
	node  string
	agent *Agent
	opts  Options
	stop  func()
}

func testMachine() MachineInfo {
	return MachineInfo{
		CPUs: 4, MemoryBytes: 8 << 30, MemoryAvailableBytes: 6 << 30, DiskBytes: 100 << 30, DiskAvailableBytes: 50 << 30,
		PIDs: 300, PIDMax: 4 << 20, Hostname: "n1.test", InternalIP: "192.0.2.10", NetworkReady: true,
		KernelVersion: "6.18.0", OSImage: "Test Linux",
	}
}

func newHarness(t *testing.T, opts Options) *harness {
	t.Helper()
	rt := fake.New(fake.Options{Images: []string{"app:v1", "busybox:v1"}})
	h := newHarnessOn(t, rt, "n1", opts)
	h.rt = rt
	return h
}

// newHarnessOn runs an agent for node over any runtime.
func newHarnessOn(t testing.TB, rt kubelet.Runtime, node string, opts Options) *harness {
	t.Helper()
	scheme, err := builtin.NewScheme()
	require.NoError(t, err)
	kv := memory.New(memory.Options{})
	s, err := store.New(kv, scheme, store.Options{})
	require.NoError(t, err)
	if opts.RootDir == "" {
		opts.RootDir = t.TempDir()
	}
	if opts.Machine == nil {
		opts.Machine = MachineFunc(func() (MachineInfo, error) { return testMachine(), nil })
	}
	h := &harness{t: t, s: s, run: rt, node: node, opts: opts}
	h.start()
	t.Cleanup(func() {
		h.stop()
		kv.Close()
	})
	return h
}

// start runs a fresh agent over the harness' store and runtime.
func (h *harness) start() {
	a, err := New(h.node, h.s, h.run, h.opts)
	require.NoError(h.t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	h.agent = a
	h.stop = func() {
		cancel()
		require.NoError(h.t, <-done)
	}
	require.NoError(h.t, a.WaitForSync(ctx))
}

func (h *harness) restart() {
	h.stop()
	h.start()
}

func (h *harness) create(p *core.Pod) *core.Pod {
	h.t.Helper()
	if p.Namespace == "" {
		p.Namespace = "default"
	}
	p.Spec.NodeName = h.node
	out, err := store.For[*core.Pod](h.s).Create(context.Background(), p, store.WriteOptions{})
	require.NoError(h.t, err)
	return out
}

func (h *harness) pod(name string) *core.Pod {
	p, err := store.For[*core.Pod](h.s).Get(context.Background(), apis.Key{Namespace: "default", Name: name}, store.GetOptions{})
	if err != nil {
		return nil
	}
	return p
}

// eventually polls cond on the fake clock every 100 ms for up to d.
func (h *harness) eventually(d time.Duration, what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("not within %s: %s", d, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (h *harness) phase(name string, ph core.PodPhase) func() bool {
	return func() bool { p := h.pod(name); return p != nil && p.Status.Phase == ph }
}

func (h *harness) events(reason string) []*core.Event {
	l, err := store.For[*core.Event](h.s).List(context.Background(), store.ListOptions{})
	require.NoError(h.t, err)
	var out []*core.Event
	for _, e := range l.Items {
		if e.Reason == reason {
			out = append(out, e)
		}
	}
	return out
}

func (h *harness) containers(name string) []kubelet.ContainerStatus {
	cs, err := h.run.ListContainers(context.Background(), kubelet.ContainerFilter{Labels: map[string]string{kubelet.LabelContainerName: name, LabelNode: h.node}})
	require.NoError(h.t, err)
	return cs
}

func simplePod(name string, ctrs ...string) *core.Pod {
	p := &core.Pod{}
	p.Name = name
	for _, c := range ctrs {
		p.Spec.Containers = append(p.Spec.Containers, core.Container{Name: c, Image: "app:v1"})
	}
	return p
}

func cstatus(p *core.Pod, name string) core.ContainerStatus {
	for _, c := range append(append([]core.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
		if c.Name == name {
			return c
		}
	}
	return core.ContainerStatus{}
}
