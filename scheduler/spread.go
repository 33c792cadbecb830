package scheduler

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/apis/labels"
)

// PodTopologySpread enforces topologySpreadConstraints with
// whenUnsatisfiable DoNotSchedule (maxSkew, minDomains, node inclusion
// policies, matchLabelKeys) and scores those with ScheduleAnyway.
// kube-scheduler's system default constraints (for pods of Services and
// ReplicaSets) are not applied: only the pod's own constraints count.
type PodTopologySpread struct{}

// Name implements Plugin.
func (PodTopologySpread) Name() string { return PodTopologySpreadName }

const (
	spreadFilterKey StateKey = "PreFilter" + PodTopologySpreadName
	spreadScoreKey  StateKey = "PreScore" + PodTopologySpreadName
)

type spreadConstraint struct {
	maxSkew       int64
	key           string
	selector      labels.Selector
	minDomains    int
	honorAffinity bool
	honorTaints   bool
	selfMatch     int64
}

func buildConstraints(pod *PodInfo, action core.UnsatisfiableConstraintAction) ([]spreadConstraint, error) {
	var out []spreadConstraint
	for i := range pod.Pod.Spec.TopologySpreadConstraints {
		c := &pod.Pod.Spec.TopologySpreadConstraints[i]
		if c.WhenUnsatisfiable != action {
			continue
		}
		ls := c.LabelSelector
		if len(c.MatchLabelKeys) > 0 && ls != nil {
			cp := *ls
			cp.MatchExpressions = slices.Clone(ls.MatchExpressions)
			for _, k := range c.MatchLabelKeys {
				if v, ok := pod.Pod.Labels[k]; ok {
					cp.MatchExpressions = append(cp.MatchExpressions, apis.LabelSelectorRequirement{Key: k, Operator: apis.LabelSelectorOpIn, Values: []string{v}})
				}
			}
			ls = &cp
		}
		sel, err := labels.FromLabelSelector(ls)
		if err != nil {
			return nil, fmt.Errorf("spec.topologySpreadConstraints[%d].labelSelector: %w", i, err)
		}
		sc := spreadConstraint{maxSkew: int64(max(c.MaxSkew, 1)), key: c.TopologyKey, selector: sel, minDomains: 1,
			honorAffinity: c.NodeAffinityPolicy == nil || *c.NodeAffinityPolicy == core.NodeInclusionPolicyHonor,
			honorTaints:   c.NodeTaintsPolicy != nil && *c.NodeTaintsPolicy == core.NodeInclusionPolicyHonor}
		if c.MinDomains != nil && *c.MinDomains > 0 {
			sc.minDomains = int(*c.MinDomains)
		}
		if sel.Matches(pod.Labels) {
			sc.selfMatch = 1
		}
		out = append(out, sc)
	}
	return out, nil
}

// eligible reports whether node's pods count for constraint c.
func (c *spreadConstraint) eligible(pod *PodInfo, node *NodeInfo) bool {
	if c.honorAffinity && !PodMatchesNodeSelectorAndAffinity(pod.Pod, node.Node) {
		return false
	}
	if c.honorTaints {
		for i := range node.Node.Spec.Taints {
			t := &node.Node.Spec.Taints[i]
			if (t.Effect == core.TaintEffectNoSchedule || t.Effect == core.TaintEffectNoExecute) && !tolerated(pod.Pod.Spec.Tolerations, t) {
				return false
			}
		}
	}
	return true
}

func hasKeys(cs []spreadConstraint, node *NodeInfo) bool {
	for i := range cs {
		if _, ok := node.Node.Labels[cs[i].key]; !ok {
			return false
		}
	}
	return true
}

func (c *spreadConstraint) countOn(pod *PodInfo, node *NodeInfo) int64 {
	var n int64
	for _, p := range node.Pods {
		if p.Pod.Namespace == pod.Pod.Namespace && p.Pod.DeletionTimestamp == nil && c.selector.Matches(p.Labels) {
			n++
		}
	}
	return n
}

type spreadFilterState struct {
	constraints []spreadConstraint
	counts      []map[string]int64 // per constraint: domain -> matching pods
	mins        []int64
}

func (s *spreadFilterState) Clone() StateData {
	c := &spreadFilterState{constraints: s.constraints, mins: slices.Clone(s.mins)}
	for _, m := range s.counts {
		c.counts = append(c.counts, maps.Clone(m))
	}
	return c
}

func (s *spreadFilterState) recomputeMin(i int) {
	m := int64(math.MaxInt64)
	for _, v := range s.counts[i] {
		m = min(m, v)
	}
	if len(s.counts[i]) < s.constraints[i].minDomains || m == math.MaxInt64 {
		m = 0
	}
	s.mins[i] = m
}

// PreFilter implements PreFilterPlugin.
func (PodTopologySpread) PreFilter(_ context.Context, state *CycleState, pod *PodInfo, snap *Snapshot) *Status {
	cs, err := buildConstraints(pod, core.DoNotSchedule)
	if err != nil {
		return NewStatus(UnschedulableAndUnresolvable, err.Error())
	}
	if len(cs) == 0 {
		return NewStatus(Skip)
	}
	s := &spreadFilterState{constraints: cs, counts: make([]map[string]int64, len(cs)), mins: make([]int64, len(cs))}
	for i := range cs {
		s.counts[i] = map[string]int64{}
	}
	for _, ni := range snap.Nodes {
		if !hasKeys(cs, ni) {
			continue
		}
		for i := range cs {
			if !cs[i].eligible(pod, ni) {
				continue
			}
			s.counts[i][ni.Node.Labels[cs[i].key]] += cs[i].countOn(pod, ni)
		}
	}
	for i := range cs {
		s.recomputeMin(i)
	}
	state.Write(spreadFilterKey, s)
	return nil
}

func (s *spreadFilterState) update(pod, other *PodInfo, node *NodeInfo, d int64) {
	if other.Pod.Namespace != pod.Pod.Namespace || !hasKeys(s.constraints, node) {
		return
	}
	for i := range s.constraints {
		c := &s.constraints[i]
		if c.eligible(pod, node) && c.selector.Matches(other.Labels) {
			s.counts[i][node.Node.Labels[c.key]] += d
			s.recomputeMin(i)
		}
	}
}

// AddPod implements PreFilterExtensions.
func (PodTopologySpread) AddPod(state *CycleState, pod, add *PodInfo, node *NodeInfo) {
	if s, ok := state.Read(spreadFilterKey).(*spreadFilterState); ok {
		s.update(pod, add, node, 1)
	}
}

// RemovePod implements PreFilterExtensions.
func (PodTopologySpread) RemovePod(state *CycleState, pod, remove *PodInfo, node *NodeInfo) {
	if s, ok := state.Read(spreadFilterKey).(*spreadFilterState); ok {
		s.update(pod, remove, node, -1)
	}
}

// Filter implements FilterPlugin.
func (PodTopologySpread) Filter(_ context.Context, state *CycleState, pod *PodInfo, node *NodeInfo) *Status {
	s, ok := state.Read(spreadFilterKey).(*spreadFilterState)
	if !ok {
		return AsStatus(errNoState(spreadFilterKey))
	}
	for i := range s.constraints {
		c := &s.constraints[i]
		v, has := node.Node.Labels[c.key]
		if !has {
			return NewStatus(UnschedulableAndUnresolvable, errReasonSpreadMissingLabel)
		}
		if s.counts[i][v]+c.selfMatch-s.mins[i] > c.maxSkew {
			return NewStatus(Unschedulable, errReasonSpread)
		}
	}
	return nil
}

type spreadScoreState struct {
	constraints []spreadConstraint
	counts      []map[string]int64
	weights     []float64
}

func (s *spreadScoreState) Clone() StateData { return s }

// PreScore implements PreScorePlugin.
func (PodTopologySpread) PreScore(_ context.Context, state *CycleState, pod *PodInfo, nodes []*NodeInfo) *Status {
	cs, err := buildConstraints(pod, core.ScheduleAnyway)
	if err != nil {
		return AsStatus(err)
	}
	if len(cs) == 0 {
		return NewStatus(Skip)
	}
	snapState, _ := state.Read(snapshotKey).(*snapshotState)
	all := nodes
	if snapState != nil {
		all = snapState.snap.Nodes
	}
	s := &spreadScoreState{constraints: cs, counts: make([]map[string]int64, len(cs)), weights: make([]float64, len(cs))}
	for i := range cs {
		s.counts[i] = map[string]int64{}
	}
	for _, ni := range all {
		if !hasKeys(cs, ni) {
			continue
		}
		for i := range cs {
			if cs[i].eligible(pod, ni) {
				s.counts[i][ni.Node.Labels[cs[i].key]] += cs[i].countOn(pod, ni)
			}
		}
	}
	for i := range cs {
		// More domains make each one's count matter more, as upstream weighs them.
		s.weights[i] = math.Log(float64(len(s.counts[i]) + 2))
	}
	state.Write(spreadScoreKey, s)
	return nil
}

// Score implements ScorePlugin: weighted matching pods in the node's domains
// (fewer is better; see NormalizeScore).
func (PodTopologySpread) Score(_ context.Context, state *CycleState, _ *PodInfo, node *NodeInfo) (int64, *Status) {
	s, ok := state.Read(spreadScoreKey).(*spreadScoreState)
	if !ok {
		return 0, AsStatus(errNoState(spreadScoreKey))
	}
	if !hasKeys(s.constraints, node) {
		return -1, nil // marks a node without the keys: scored 0
	}
	var f float64
	for i := range s.constraints {
		c := &s.constraints[i]
		f += float64(s.counts[i][node.Node.Labels[c.key]])*s.weights[i] + float64(c.maxSkew-1)
	}
	return int64(math.Round(f)), nil
}

// NormalizeScore implements ScoreNormalizer: the fewest matching pods get 100.
func (PodTopologySpread) NormalizeScore(_ context.Context, _ *CycleState, _ *PodInfo, scores []NodeScore) *Status {
	lo, hi := int64(math.MaxInt64), int64(0)
	for _, s := range scores {
		if s.Score < 0 {
			continue
		}
		lo, hi = min(lo, s.Score), max(hi, s.Score)
	}
	for i := range scores {
		switch {
		case scores[i].Score < 0:
			scores[i].Score = 0
		case hi == 0:
			scores[i].Score = MaxNodeScore
		default:
			scores[i].Score = MaxNodeScore * (hi + lo - scores[i].Score) / hi
		}
	}
	return nil
}
