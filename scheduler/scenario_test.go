package scheduler

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/builtin"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/store"
	"github.com/gantry-sdk/gantry/store/memory"
)

type cluster struct {
	t      testing.TB
	s      store.Store
	pods   store.Typed[*core.Pod]
	nodes  store.Typed[*core.Node]
	events store.Typed[*core.Event]
	sched  *Scheduler
}

// newCluster starts a store (memory KV) and a scheduler over it. Pods are
// deleted at once (no kubelet here to finish a graceful deletion).
func newCluster(t testing.TB, opts Options) *cluster {
	t.Helper()
	scheme, err := builtin.NewScheme()
	require.NoError(t, err)
	kv := memory.New(memory.Options{})
	s, err := store.New(kv, scheme, store.Options{GracePeriod: func(*apis.KindInfo, apis.Object, *int64) int64 { return 0 }})
	require.NoError(t, err)
	if opts.FlushInterval == 0 {
		opts.FlushInterval = 20 * time.Millisecond
	}
	if opts.Queue.InitialBackoff == 0 {
		opts.Queue.InitialBackoff = 10 * time.Millisecond
		opts.Queue.MaxBackoff = 50 * time.Millisecond
	}
	sched, err := New(s, opts)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sched.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
		kv.Close()
	})
	return &cluster{t: t, s: s, pods: store.For[*core.Pod](s), nodes: store.For[*core.Node](s), events: store.For[*core.Event](s), sched: sched}
}

func (c *cluster) addNode(n *core.Node) {
	c.t.Helper()
	_, err := c.nodes.Create(context.Background(), n, store.WriteOptions{})
	require.NoError(c.t, err)
}

func (c *cluster) addPod(p *core.Pod) {
	c.t.Helper()
	_, err := c.pods.Create(context.Background(), p, store.WriteOptions{})
	require.NoError(c.t, err)
}

func (c *cluster) pod(name string) *core.Pod {
	c.t.Helper()
	p, err := c.pods.Get(context.Background(), apis.Key{Namespace: "default", Name: name}, store.GetOptions{})
	require.NoError(c.t, err)
	return p
}

func (c *cluster) waitBound(name string) string {
	c.t.Helper()
	var node string
	require.Eventually(c.t, func() bool {
		node = c.pod(name).Spec.NodeName
		return node != ""
	}, 20*time.Second, 5*time.Millisecond, "pod %s not bound", name)
	return node
}

func (c *cluster) waitEvent(pod, reason, contains string) *core.Event {
	c.t.Helper()
	var found *core.Event
	require.Eventually(c.t, func() bool {
		l, err := c.events.List(context.Background(), store.ListOptions{Namespace: "default"})
		require.NoError(c.t, err)
		for _, e := range l.Items {
			if e.InvolvedObject.Name == pod && e.Reason == reason && strings.Contains(e.Message, contains) {
				found = e
				return true
			}
		}
		return false
	}, 20*time.Second, 5*time.Millisecond, "no %s event for %s containing %q", reason, pod, contains)
	return found
}

func TestScenarioPendingUntilNodeAppears(t *testing.T) {
	c := newCluster(t, Options{})
	c.addPod(mkPod("web", "500m", "256Mi"))
	ev := c.waitEvent("web", "FailedScheduling", "0/0 nodes are available")
	require.Equal(t, core.EventTypeWarning, ev.EventType)
	require.Eventually(t, func() bool {
		cond := c.pod("web").Status.GetPodCondition(core.PodScheduled)
		return cond != nil && cond.Status == apis.ConditionFalse && cond.Reason == "Unschedulable"
	}, 10*time.Second, 5*time.Millisecond)

	c.addNode(mkNode("n1", "2", "4Gi"))
	require.Equal(t, "n1", c.waitBound("web"))
	ev = c.waitEvent("web", "Scheduled", "Successfully assigned default/web to n1")
	require.Equal(t, core.EventTypeNormal, ev.EventType)
	require.Equal(t, DefaultSchedulerName, ev.Source.Component)
	require.Eventually(t, func() bool {
		cond := c.pod("web").Status.GetPodCondition(core.PodScheduled)
		return cond != nil && cond.Status == apis.ConditionTrue
	}, 10*time.Second, 5*time.Millisecond)
}

func TestScenarioTaintsAndMessages(t *testing.T) {
	c := newCluster(t, Options{})
	c.addNode(mkNode("cp", "8", "8Gi", withTaint(core.TaintNodeControlPlane, "", core.TaintEffectNoSchedule)))
	c.addNode(mkNode("small", "1", "8Gi"))
	c.addNode(mkNode("gpu", "8", "8Gi", withTaint("gpu", "true", core.TaintEffectNoSchedule)))
	c.addPod(mkPod("big", "2", "1Gi"))
	c.waitEvent("big", "FailedScheduling",
		"0/3 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {gpu: true}, 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }.")
	c.addPod(mkPod("tolerant", "2", "1Gi", tolerate("gpu", core.TaintEffectNoSchedule)))
	require.Equal(t, "gpu", c.waitBound("tolerant"))
	// Removing the taint lets the first pod in.
	n, err := c.nodes.Get(context.Background(), apis.Key{Name: "cp"}, store.GetOptions{})
	require.NoError(t, err)
	n.Spec.Taints = nil
	_, err = c.nodes.Update(context.Background(), n, store.WriteOptions{})
	require.NoError(t, err)
	require.Equal(t, "cp", c.waitBound("big"))
}

func TestScenarioPreemption(t *testing.T) {
	c := newCluster(t, Options{})
	c.addNode(mkNode("n1", "2", "4Gi"))
	c.addNode(mkNode("n2", "2", "4Gi"))
	// n1 holds two low-priority pods, n2 one medium-priority pod.
	c.addPod(mkPod("low-a", "1", "", priority(1), onNode("n1")))
	c.addPod(mkPod("low-b", "1", "", priority(1), onNode("n1")))
	c.addPod(mkPod("mid", "2", "", priority(50), onNode("n2")))
	lowNode := "n1"
	// A pod needing 1.5 cpu fits nowhere. Evicting both priority-1 pods
	// beats evicting the one priority-50 pod: the lowest highest victim
	// priority wins before the number of victims.
	c.addPod(mkPod("high", "1500m", "", priority(100)))
	c.waitEvent("high", "FailedScheduling", "Insufficient cpu")
	require.Equal(t, lowNode, c.waitBound("high"))
	_, err := c.pods.Get(context.Background(), apis.Key{Namespace: "default", Name: "mid"}, store.GetOptions{})
	require.NoError(t, err, "the higher-priority pod is not a victim")
	gone := 0
	for _, n := range []string{"low-a", "low-b"} {
		if _, err := c.pods.Get(context.Background(), apis.Key{Namespace: "default", Name: n}, store.GetOptions{}); err != nil {
			gone++
		}
	}
	require.Equal(t, 2, gone, "1.5 cpu on a 2-cpu node needs both 1-cpu pods gone")
	c.waitEvent("low-a", "Preempted", "")

	// A pod that may not preempt stays pending.
	c.addPod(mkPod("polite", "2", "", priority(1000), func(p *core.Pod) {
		never := core.PreemptNever
		p.Spec.PreemptionPolicy = &never
	}))
	c.waitEvent("polite", "FailedScheduling", "preemption: not eligible due to preemptionPolicy=Never.")
}

func TestScenarioAffinityAndSpreadAtScale(t *testing.T) {
	c := newCluster(t, Options{})
	zones := []string{"a", "b", "c"}
	for i := range 30 {
		c.addNode(mkNode(fmt.Sprintf("n%02d", i), "8", "32Gi", withLabels(core.LabelTopologyZone, zones[i%3])))
	}
	// 30 replicas spread across zones with maxSkew 1, one per node by anti-affinity.
	for i := range 30 {
		c.addPod(mkPod(fmt.Sprintf("web-%02d", i), "100m", "64Mi", podLabels("app", "web"),
			antiAffinity(core.LabelHostname, selector("app", "web")),
			spread(core.LabelTopologyZone, 1, core.DoNotSchedule, selector("app", "web"))))
	}
	// Caches follow the web pods' zones.
	for i := range 6 {
		c.addPod(mkPod(fmt.Sprintf("cache-%d", i), "100m", "64Mi", podAffinity(core.LabelTopologyZone, selector("app", "web"))))
	}
	perZone := map[string]int{}
	perNode := map[string]int{}
	for i := range 30 {
		n := c.waitBound(fmt.Sprintf("web-%02d", i))
		perNode[n]++
		var z int
		fmt.Sscanf(n, "n%02d", &z)
		perZone[zones[z%3]]++
	}
	require.Len(t, perNode, 30, "anti-affinity: one web pod per node")
	require.Equal(t, map[string]int{"a": 10, "b": 10, "c": 10}, perZone)
	for i := range 6 {
		c.waitBound(fmt.Sprintf("cache-%d", i))
	}
	// A 31st replica has no node left.
	c.addPod(mkPod("web-extra", "100m", "64Mi", podLabels("app", "web"), antiAffinity(core.LabelHostname, selector("app", "web"))))
	c.waitEvent("web-extra", "FailedScheduling", "0/30 nodes are available: 30 node(s) didn't satisfy existing pods anti-affinity rules.")
}

func TestScenarioProfiles(t *testing.T) {
	c := newCluster(t, Options{Profiles: []ProfileConfig{
		{SchedulerName: DefaultSchedulerName, Plugins: DefaultPlugins()},
		{SchedulerName: "packer", Plugins: []PluginConfig{{Name: NodeResourcesFitName, Args: FitArgs{ScoringStrategy: ScoringMostAllocated}}, {Name: DefaultBinderName}}},
	}})
	c.addNode(mkNode("n1", "4", "8Gi"))
	c.addNode(mkNode("n2", "4", "8Gi"))
	first := ""
	for i := range 4 {
		c.addPod(mkPod(fmt.Sprintf("p%d", i), "500m", "", func(p *core.Pod) { p.Spec.SchedulerName = "packer" }))
		n := c.waitBound(fmt.Sprintf("p%d", i))
		if first == "" {
			first = n
		}
		require.Equal(t, first, n, "MostAllocated packs onto one node")
	}
	// A pod for a scheduler nobody runs stays pending, untouched.
	c.addPod(mkPod("other", "", "", func(p *core.Pod) { p.Spec.SchedulerName = "elsewhere" }))
	time.Sleep(100 * time.Millisecond)
	require.Empty(t, c.pod("other").Spec.NodeName)
	require.Nil(t, c.pod("other").Status.GetPodCondition(core.PodScheduled))
}
