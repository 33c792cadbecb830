package scheduler_test

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/builtin"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/apis/resource"
	"github.com/gantry-sdk/gantry/scheduler"
	"github.com/gantry-sdk/gantry/store"
	"github.com/gantry-sdk/gantry/store/memory"
)

// GroupLabel names a pod's gang.
const GroupLabel = "pod-group"

// Coscheduling is a gang-scheduling Permit plugin: the pods of a group
// (same namespace and GroupLabel) are held at Permit, each reserved on its
// node, until MinMember of them are; then all are let through together. If
// the group does not form within Timeout, the held pods are rejected, their
// room freed, and they are retried with backoff.
type Coscheduling struct {
	Handle    scheduler.Handle
	MinMember int
	Timeout   time.Duration
}

func (*Coscheduling) Name() string { return "Coscheduling" }

func (c *Coscheduling) Permit(_ context.Context, _ *scheduler.CycleState, pod *scheduler.PodInfo, _ string) (*scheduler.Status, time.Duration) {
	group, ok := pod.Pod.Labels[GroupLabel]
	if !ok {
		return nil, 0
	}
	var waiting []*scheduler.WaitingPod
	c.Handle.IterateOverWaitingPods(func(w *scheduler.WaitingPod) {
		if w.Pod().Namespace == pod.Pod.Namespace && w.Pod().Labels[GroupLabel] == group {
			waiting = append(waiting, w)
		}
	})
	if len(waiting)+1 < c.MinMember {
		return scheduler.NewStatus(scheduler.Wait, "waiting for the rest of group "+group), c.Timeout
	}
	for _, w := range waiting {
		w.Allow(c.Name())
	}
	return nil, 0
}

// newGangScheduler starts a scheduler over a memory store with Coscheduling
// enabled beside the default plugins. It returns the store, the plugin and
// a stop function.
func newGangScheduler(minMember int, timeout time.Duration) (store.Store, *Coscheduling, func()) {
	scheme, _ := builtin.NewScheme()
	kv := memory.New(memory.Options{})
	// Deleted pods go at once (no kubelet here to finish a graceful deletion).
	s, _ := store.New(kv, scheme, store.Options{GracePeriod: func(*apis.KindInfo, apis.Object, *int64) int64 { return 0 }})
	gang := &Coscheduling{MinMember: minMember, Timeout: timeout}
	sched, err := scheduler.New(s, scheduler.Options{
		Registry: scheduler.Registry{"Coscheduling": func(_ any, h scheduler.Handle) (scheduler.Plugin, error) {
			gang.Handle = h
			return gang, nil
		}},
		Profiles: []scheduler.ProfileConfig{{
			Plugins: append(scheduler.DefaultPlugins(), scheduler.PluginConfig{Name: "Coscheduling"}),
		}},
		FlushInterval: 10 * time.Millisecond,
		Queue:         scheduler.QueueOptions{InitialBackoff: 10 * time.Millisecond, MaxBackoff: 40 * time.Millisecond},
	})
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- sched.Run(ctx) }()
	return s, gang, func() {
		cancel()
		<-done
		kv.Close()
	}
}

func gangNode(name string) *core.Node {
	return &core.Node{
		ObjectMeta: apis.ObjectMeta{Name: name, Labels: map[string]string{core.LabelHostname: name}},
		Status: core.NodeStatus{Allocatable: core.ResourceList{
			core.ResourceCPU: resource.MustParse("1"), core.ResourceMemory: resource.MustParse("4Gi"), core.ResourcePods: resource.MustParse("110")}},
	}
}

func gangPod(name, group string) *core.Pod {
	p := &core.Pod{
		ObjectMeta: apis.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{}},
		Spec: core.PodSpec{Containers: []core.Container{{Name: "c", Image: "trainer",
			Resources: core.ResourceRequirements{Requests: core.ResourceList{core.ResourceCPU: resource.MustParse("1")}}}}},
	}
	if group != "" {
		p.Labels[GroupLabel] = group
	}
	return p
}

// boundNodes returns the nodes of the named pods, "" for those not bound.
func boundNodes(ctx context.Context, s store.Store, names ...string) []string {
	pods := store.For[*core.Pod](s)
	out := make([]string, len(names))
	for i, n := range names {
		if p, err := pods.Get(ctx, apis.Key{Namespace: "default", Name: n}, store.GetOptions{}); err == nil {
			out[i] = p.Spec.NodeName
		}
	}
	return out
}

func waitFor(cond func() bool) bool {
	for range 2000 {
		if cond() {
			return true
		}
		time.Sleep(5 * time.Millisecond)
	}
	return false
}

// A gang of three pods is bound all together or not at all: the first two
// wait at Permit, holding their nodes, until the third arrives.
func Example_coscheduling() {
	ctx := context.Background()
	s, gang, stop := newGangScheduler(3, time.Minute)
	defer stop()
	for _, n := range []string{"n1", "n2", "n3"} {
		_, _ = store.For[*core.Node](s).Create(ctx, gangNode(n), store.WriteOptions{})
	}
	pods := store.For[*core.Pod](s)
	_, _ = pods.Create(ctx, gangPod("worker-0", "train"), store.WriteOptions{})
	_, _ = pods.Create(ctx, gangPod("worker-1", "train"), store.WriteOptions{})
	waitFor(func() bool {
		n := 0
		gang.Handle.IterateOverWaitingPods(func(*scheduler.WaitingPod) { n++ })
		return n == 2
	})
	w := gang.Handle.GetWaitingPod(apis.Key{Namespace: "default", Name: "worker-0"})
	fmt.Println("worker-0 waits for", w.PendingPlugins(), "bound:", boundNodes(ctx, s, "worker-0", "worker-1"))

	_, _ = pods.Create(ctx, gangPod("worker-2", "train"), store.WriteOptions{})
	waitFor(func() bool { return !slices.Contains(boundNodes(ctx, s, "worker-0", "worker-1", "worker-2"), "") })
	nodes := boundNodes(ctx, s, "worker-0", "worker-1", "worker-2")
	slices.Sort(nodes)
	fmt.Println("after:", nodes)
	// Output:
	// worker-0 waits for [Coscheduling] bound: [ ]
	// after: [n1 n2 n3]
}
