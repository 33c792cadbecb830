package scheduler

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/core"
)

// The checker below re-implements the hard constraints from their
// definitions, sharing no code with the plugins: it reads raw quantities,
// labels and taints, and only handles what the generator produces
// (matchLabels selectors, Exists/Equal tolerations).

type checker struct {
	nodes  map[string]*core.Node
	placed []*core.Pod
}

func (c *checker) podsOn(node string) []*core.Pod {
	var out []*core.Pod
	for _, p := range c.placed {
		if p.Spec.NodeName == node {
			out = append(out, p)
		}
	}
	return out
}

func selMatches(sel *apis.LabelSelector, l map[string]string) bool {
	for k, v := range sel.MatchLabels {
		if got, ok := l[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// propNamespaces are the namespaces generated pods live in, with their labels.
var propNamespaces = map[string]map[string]string{
	"default": {},
	"prod":    {"env": "prod"},
	"dev":     {"env": "dev", "team": "x"},
}

// inTermNamespaces says whether namespace ns is one that owner's term
// covers: an empty namespaceSelector covers all; otherwise those listed and
// those the selector picks; with neither, owner's own.
func inTermNamespaces(owner *core.Pod, term core.PodAffinityTerm, ns string) bool {
	sel := term.NamespaceSelector
	if sel != nil && len(sel.MatchLabels) == 0 && len(sel.MatchExpressions) == 0 {
		return true
	}
	for _, n := range term.Namespaces {
		if n == ns {
			return true
		}
	}
	if sel != nil {
		return selMatches(sel, propNamespaces[ns])
	}
	return len(term.Namespaces) == 0 && ns == owner.Namespace
}

func sameDomain(a, b *core.Node, key string) bool {
	va, oka := a.Labels[key]
	vb, okb := b.Labels[key]
	return oka && okb && va == vb
}

// violations lists every hard constraint pod would break on node.
func (c *checker) violations(pod *core.Pod, nodeName string) []string {
	node := c.nodes[nodeName]
	var out []string
	if node.Spec.Unschedulable {
		out = append(out, "unschedulable")
	}
	// Resources: sum of container requests in milli-units.
	on := c.podsOn(nodeName)
	for _, res := range []core.ResourceName{core.ResourceCPU, core.ResourceMemory} {
		var used int64
		for _, p := range append(on, pod) {
			for _, ct := range p.Spec.Containers {
				q := ct.Resources.Requests[res]
				used += q.MilliValue()
			}
		}
		alloc := node.Status.Allocatable[res]
		if used > alloc.MilliValue() {
			out = append(out, "resource "+string(res))
		}
	}
	maxPods := node.Status.Allocatable[core.ResourcePods]
	if int64(len(on)+1) > maxPods.Value() {
		out = append(out, "pods")
	}
	for k, v := range pod.Spec.NodeSelector {
		if node.Labels[k] != v {
			out = append(out, "nodeSelector")
		}
	}
	for _, t := range node.Spec.Taints {
		if t.Effect == core.TaintEffectPreferNoSchedule {
			continue
		}
		ok := false
		for _, tol := range pod.Spec.Tolerations {
			keyOK := tol.Key == "" || tol.Key == t.Key
			effOK := tol.Effect == "" || tol.Effect == t.Effect
			valOK := tol.Operator == core.TolerationOpExists || tol.Value == t.Value
			if keyOK && effOK && valOK {
				ok = true
			}
		}
		if !ok {
			out = append(out, "taint "+t.Key)
		}
	}
	for _, ct := range pod.Spec.Containers {
		for _, port := range ct.Ports {
			for _, p := range on {
				for _, oc := range p.Spec.Containers {
					for _, op := range oc.Ports {
						if port.HostPort != 0 && op.HostPort == port.HostPort {
							out = append(out, fmt.Sprintf("hostPort %d", port.HostPort))
						}
					}
				}
			}
		}
	}
	// Anti-affinity, both ways, within the term's topology domain.
	if a := pod.Spec.Affinity; a != nil && a.PodAntiAffinity != nil {
		for _, term := range a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution {
			for _, p := range c.placed {
				if inTermNamespaces(pod, term, p.Namespace) && selMatches(term.LabelSelector, p.Labels) && sameDomain(node, c.nodes[p.Spec.NodeName], term.TopologyKey) {
					out = append(out, "anti-affinity with "+p.Name)
				}
			}
		}
	}
	for _, p := range c.placed {
		if p.Spec.Affinity == nil || p.Spec.Affinity.PodAntiAffinity == nil {
			continue
		}
		for _, term := range p.Spec.Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution {
			if inTermNamespaces(p, term, pod.Namespace) && selMatches(term.LabelSelector, pod.Labels) && sameDomain(node, c.nodes[p.Spec.NodeName], term.TopologyKey) {
				out = append(out, "existing anti-affinity of "+p.Name)
			}
		}
	}
	// Affinity: some matching pod in the domain, unless none exists in any
	// domain of the key and the pod matches its own terms.
	if a := pod.Spec.Affinity; a != nil && a.PodAffinity != nil {
		for _, term := range a.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution {
			if _, ok := node.Labels[term.TopologyKey]; !ok {
				out = append(out, "affinity key missing")
				continue
			}
			found, anywhere := false, false
			for _, p := range c.placed {
				if _, has := c.nodes[p.Spec.NodeName].Labels[term.TopologyKey]; !has {
					continue // pods in no domain of this key do not count (as upstream)
				}
				if inTermNamespaces(pod, term, p.Namespace) && selMatches(term.LabelSelector, p.Labels) {
					anywhere = true
					if sameDomain(node, c.nodes[p.Spec.NodeName], term.TopologyKey) {
						found = true
					}
				}
			}
			if !found && (anywhere || !inTermNamespaces(pod, term, pod.Namespace) || !selMatches(term.LabelSelector, pod.Labels)) {
				out = append(out, "affinity")
			}
		}
	}
	// Spread: count matching pods per domain over nodes passing the pod's
	// nodeSelector; skew after placement must stay within maxSkew.
	for _, tsc := range pod.Spec.TopologySpreadConstraints {
		if tsc.WhenUnsatisfiable != core.DoNotSchedule {
			continue
		}
		v, ok := node.Labels[tsc.TopologyKey]
		if !ok {
			out = append(out, "spread key missing")
			continue
		}
		counts := map[string]int{}
		for _, n := range c.nodes {
			dv, has := n.Labels[tsc.TopologyKey]
			if !has {
				continue
			}
			eligible := true
			for k, want := range pod.Spec.NodeSelector {
				if n.Labels[k] != want {
					eligible = false
				}
			}
			if !eligible {
				continue
			}
			if _, seen := counts[dv]; !seen {
				counts[dv] = 0
			}
			for _, p := range c.podsOn(n.Name) {
				if p.Namespace == pod.Namespace && selMatches(tsc.LabelSelector, p.Labels) {
					counts[dv]++
				}
			}
		}
		minCount := -1
		for _, n := range counts {
			if minCount < 0 || n < minCount {
				minCount = n
			}
		}
		self := 0
		if selMatches(tsc.LabelSelector, pod.Labels) {
			self = 1
		}
		if counts[v]+self-minCount > int(tsc.MaxSkew) {
			out = append(out, "spread skew")
		}
	}
	return out
}

func genCluster(r *rand.Rand, numNodes int) []*core.Node {
	var nodes []*core.Node
	for i := range numNodes {
		n := mkNode(fmt.Sprintf("n%03d", i), fmt.Sprint(1+r.IntN(8)), fmt.Sprintf("%dGi", 1+r.IntN(16)),
			withLabels(core.LabelTopologyZone, fmt.Sprintf("z%d", r.IntN(3)), "disk", []string{"ssd", "hdd"}[r.IntN(2)]),
			withAlloc(core.ResourcePods, fmt.Sprint(2+r.IntN(10))))
		switch r.IntN(10) {
		case 0:
			n.Spec.Taints = []core.Taint{{Key: core.TaintNodeControlPlane, Effect: core.TaintEffectNoSchedule}}
		case 1:
			n.Spec.Taints = []core.Taint{{Key: "dedicated", Value: "gpu", Effect: core.TaintEffectNoExecute}}
		case 2:
			n.Spec.Unschedulable = true
		case 3:
			delete(n.Labels, core.LabelTopologyZone)
		}
		nodes = append(nodes, n)
	}
	return nodes
}

func genPod(r *rand.Rand, i int) *core.Pod {
	app := fmt.Sprintf("app%d", r.IntN(4))
	p := mkPod(fmt.Sprintf("p%03d", i), fmt.Sprintf("%dm", 100*(1+r.IntN(20))), fmt.Sprintf("%dMi", 128*(1+r.IntN(16))), podLabels("app", app))
	if r.IntN(5) == 0 {
		p.Spec.NodeSelector = map[string]string{"disk": "ssd"}
	}
	if r.IntN(4) == 0 {
		tolerate("dedicated", "")(p)
	}
	if r.IntN(8) == 0 {
		hostPort(int32(8080 + r.IntN(3)))(p)
	}
	p.Namespace = []string{"default", "default", "prod", "dev"}[r.IntN(4)]
	keys := []string{core.LabelHostname, core.LabelTopologyZone}
	switch r.IntN(6) {
	case 0:
		antiAffinity(keys[r.IntN(2)], selector("app", app))(p)
		genTermNamespaces(r, &p.Spec.Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution[0])
	case 1:
		podAffinity(keys[r.IntN(2)], selector("app", fmt.Sprintf("app%d", r.IntN(4))))(p)
		genTermNamespaces(r, &p.Spec.Affinity.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution[0])
	case 2:
		spread(keys[r.IntN(2)], int32(1+r.IntN(2)), core.DoNotSchedule, selector("app", app))(p)
	}
	return p
}

// genTermNamespaces sets a term's namespaces and namespaceSelector: none
// (the pod's own), a list, a selector, an empty selector (all), or both.
func genTermNamespaces(r *rand.Rand, t *core.PodAffinityTerm) {
	switch r.IntN(5) {
	case 1:
		t.Namespaces = []string{[]string{"default", "prod", "dev"}[r.IntN(3)]}
	case 2:
		t.NamespaceSelector = selector("env", []string{"prod", "dev"}[r.IntN(2)])
	case 3:
		t.NamespaceSelector = &apis.LabelSelector{}
	case 4:
		t.Namespaces = []string{"default"}
		t.NamespaceSelector = selector("team", "x")
	}
}

func TestPropertyPlacementsSatisfyHardConstraints(t *testing.T) {
	seeds := 30
	if testing.Short() {
		seeds = 5
	}
	for seed := range seeds {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(seed), 99))
			nodes := genCluster(r, 5+r.IntN(40))
			chk := &checker{nodes: map[string]*core.Node{}}
			cache := NewCache(0)
			for name, l := range propNamespaces {
				cache.AddNamespace(&core.Namespace{ObjectMeta: apis.ObjectMeta{Name: name, Labels: l}})
			}
			for _, n := range nodes {
				chk.nodes[n.Name] = n
				cache.AddNode(n)
			}
			prof := defaultProfile(t)
			snap := &Snapshot{}
			rng := newRNG(uint64(seed))
			placed := 0
			for i := range 60 + r.IntN(100) {
				pod := genPod(r, i)
				cache.UpdateSnapshot(snap)
				res, err := prof.Schedule(context.Background(), NewCycleState(), NewPodInfo(pod), snap, rng)
				if err != nil {
					require.ErrorIs(t, err, ErrUnschedulable)
					for name := range chk.nodes {
						require.NotEmpty(t, chk.violations(pod, name), "pod %s declared unschedulable (%v) but fits %s", pod.Name, err, name)
					}
					continue
				}
				v := chk.violations(pod, res.NodeName)
				require.Empty(t, v, "pod %s on %s", pod.Name, res.NodeName)
				bound := *pod
				bound.Spec.NodeName = res.NodeName
				chk.placed = append(chk.placed, &bound)
				require.NoError(t, cache.AssumePod(NewPodInfo(&bound)))
				placed++
			}
			require.Positive(t, placed)
		})
	}
}
