package scheduler

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/apis/resource"
)

type nodeOpt func(*core.Node)

func mkNode(name, cpu, mem string, opts ...nodeOpt) *core.Node {
	n := &core.Node{ObjectMeta: apis.ObjectMeta{Name: name, Labels: map[string]string{core.LabelHostname: name}}}
	n.Status.Allocatable = core.ResourceList{
		core.ResourceCPU: resource.MustParse(cpu), core.ResourceMemory: resource.MustParse(mem), core.ResourcePods: resource.MustParse("110"),
	}
	n.Status.Capacity = n.Status.Allocatable.Clone()
	for _, o := range opts {
		o(n)
	}
	return n
}

func withLabels(kv ...string) nodeOpt {
	return func(n *core.Node) {
		for i := 0; i+1 < len(kv); i += 2 {
			n.Labels[kv[i]] = kv[i+1]
		}
	}
}

func withTaint(key, value string, effect core.TaintEffect) nodeOpt {
	return func(n *core.Node) {
		n.Spec.Taints = append(n.Spec.Taints, core.Taint{Key: key, Value: value, Effect: effect})
	}
}

func withAlloc(name core.ResourceName, q string) nodeOpt {
	return func(n *core.Node) { n.Status.Allocatable[name] = resource.MustParse(q) }
}

type podOpt func(*core.Pod)

func mkPod(name, cpu, mem string, opts ...podOpt) *core.Pod {
	p := &core.Pod{ObjectMeta: apis.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{}}}
	c := core.Container{Name: "c", Image: "busybox"}
	if cpu != "" || mem != "" {
		c.Resources.Requests = core.ResourceList{}
		if cpu != "" {
			c.Resources.Requests[core.ResourceCPU] = resource.MustParse(cpu)
		}
		if mem != "" {
			c.Resources.Requests[core.ResourceMemory] = resource.MustParse(mem)
		}
	}
	p.Spec.Containers = []core.Container{c}
	for _, o := range opts {
		o(p)
	}
	return p
}

func onNode(n string) podOpt { return func(p *core.Pod) { p.Spec.NodeName = n } }
func podLabels(kv ...string) podOpt {
	return func(p *core.Pod) {
		for i := 0; i+1 < len(kv); i += 2 {
			p.Labels[kv[i]] = kv[i+1]
		}
	}
}
func priority(v int32) podOpt { return func(p *core.Pod) { p.Spec.Priority = &v } }
func tolerate(key string, effect core.TaintEffect) podOpt {
	return func(p *core.Pod) {
		p.Spec.Tolerations = append(p.Spec.Tolerations, core.Toleration{Key: key, Operator: core.TolerationOpExists, Effect: effect})
	}
}
func hostPort(port int32) podOpt {
	return func(p *core.Pod) {
		p.Spec.Containers[0].Ports = append(p.Spec.Containers[0].Ports, core.ContainerPort{ContainerPort: port, HostPort: port, Protocol: core.ProtocolTCP})
	}
}
func extended(name core.ResourceName, q string) podOpt {
	return func(p *core.Pod) { p.Spec.Containers[0].Resources.Requests[name] = resource.MustParse(q) }
}
func selector(kv ...string) *apis.LabelSelector {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return &apis.LabelSelector{MatchLabels: m}
}
func antiAffinity(key string, sel *apis.LabelSelector) podOpt {
	return func(p *core.Pod) {
		if p.Spec.Affinity == nil {
			p.Spec.Affinity = &core.Affinity{}
		}
		if p.Spec.Affinity.PodAntiAffinity == nil {
			p.Spec.Affinity.PodAntiAffinity = &core.PodAntiAffinity{}
		}
		a := p.Spec.Affinity.PodAntiAffinity
		a.RequiredDuringSchedulingIgnoredDuringExecution = append(a.RequiredDuringSchedulingIgnoredDuringExecution, core.PodAffinityTerm{LabelSelector: sel, TopologyKey: key})
	}
}
func podAffinity(key string, sel *apis.LabelSelector) podOpt {
	return func(p *core.Pod) {
		if p.Spec.Affinity == nil {
			p.Spec.Affinity = &core.Affinity{}
		}
		if p.Spec.Affinity.PodAffinity == nil {
			p.Spec.Affinity.PodAffinity = &core.PodAffinity{}
		}
		a := p.Spec.Affinity.PodAffinity
		a.RequiredDuringSchedulingIgnoredDuringExecution = append(a.RequiredDuringSchedulingIgnoredDuringExecution, core.PodAffinityTerm{LabelSelector: sel, TopologyKey: key})
	}
}
func spread(key string, skew int32, action core.UnsatisfiableConstraintAction, sel *apis.LabelSelector) podOpt {
	return func(p *core.Pod) {
		p.Spec.TopologySpreadConstraints = append(p.Spec.TopologySpreadConstraints, core.TopologySpreadConstraint{MaxSkew: skew, TopologyKey: key, WhenUnsatisfiable: action, LabelSelector: sel})
	}
}

func defaultProfile(t testing.TB) *Profile {
	t.Helper()
	reg := DefaultRegistry()
	var plugins []PluginConfig
	for _, pc := range DefaultPlugins() {
		if pc.Name != DefaultBinderName {
			plugins = append(plugins, pc)
		}
	}
	p, err := NewProfile(ProfileConfig{Plugins: plugins}, reg, ProfileOptions{})
	require.NoError(t, err)
	return p
}

// schedule runs one cycle of the default profile on nodes and pods.
func schedule(t testing.TB, nodes []*core.Node, pods []*core.Pod, pod *core.Pod) (string, error) {
	t.Helper()
	p := defaultProfile(t)
	snap := NewSnapshot(nodes, pods)
	res, err := p.Schedule(context.Background(), NewCycleState(), NewPodInfo(pod), snap, rand.New(rand.NewPCG(1, 2)))
	return res.NodeName, err
}
