package scheduler

import (
	"context"
	"fmt"
	"strconv"

	"github.com/gantry-sdk/gantry/apis/core"
)

// Names of the default plugins (kube-scheduler's).
const (
	NodeResourcesFitName         = "NodeResourcesFit"
	BalancedAllocationName       = "NodeResourcesBalancedAllocation"
	NodeNameName                 = "NodeName"
	NodeUnschedulableName        = "NodeUnschedulable"
	NodeAffinityName             = "NodeAffinity"
	TaintTolerationName          = "TaintToleration"
	InterPodAffinityName         = "InterPodAffinity"
	PodTopologySpreadName        = "PodTopologySpread"
	NodePortsName                = "NodePorts"
	ImageLocalityName            = "ImageLocality"
	DefaultPreemptionName        = "DefaultPreemption"
	DefaultBinderName            = "DefaultBinder"
	PrioritySortName             = "PrioritySort"
	ScoringLeastAllocated        = "LeastAllocated"
	ScoringMostAllocated         = "MostAllocated"
	errReasonNodeName            = "node(s) didn't match the requested node name"
	errReasonUnschedulable       = "node(s) were unschedulable"
	errReasonNodeAffinity        = "node(s) didn't match Pod's node affinity/selector"
	errReasonPorts               = "node(s) didn't have free ports for the requested pod ports"
	errReasonTooManyPods         = "Too many pods"
	errReasonAffinityRules       = "node(s) didn't match pod affinity rules"
	errReasonAntiAffinityRules   = "node(s) didn't match pod anti-affinity rules"
	errReasonExistingAntiAff     = "node(s) didn't satisfy existing pods anti-affinity rules"
	errReasonSpread              = "node(s) didn't match pod topology spread constraints"
	errReasonSpreadMissingLabel  = "node(s) didn't match pod topology spread constraints (missing required label)"
	errReasonNodeNotFoundForSelf = "node(s) had no pods"
)

// DefaultRegistry returns the built-in plugins. DefaultBinder is not in it:
// binding needs a store, so the Scheduler adds it.
func DefaultRegistry() Registry {
	return Registry{
		NodeResourcesFitName:   func(args any, _ Handle) (Plugin, error) { return newFit(args) },
		BalancedAllocationName: func(any, Handle) (Plugin, error) { return BalancedAllocation{}, nil },
		NodeNameName:           func(any, Handle) (Plugin, error) { return NodeName{}, nil },
		NodeUnschedulableName:  func(any, Handle) (Plugin, error) { return NodeUnschedulable{}, nil },
		NodeAffinityName:       func(any, Handle) (Plugin, error) { return NodeAffinity{}, nil },
		TaintTolerationName:    func(any, Handle) (Plugin, error) { return TaintToleration{}, nil },
		InterPodAffinityName:   func(any, Handle) (Plugin, error) { return InterPodAffinity{}, nil },
		PodTopologySpreadName:  func(any, Handle) (Plugin, error) { return PodTopologySpread{}, nil },
		NodePortsName:          func(any, Handle) (Plugin, error) { return NodePorts{}, nil },
		ImageLocalityName:      func(any, Handle) (Plugin, error) { return ImageLocality{}, nil },
		DefaultPreemptionName:  func(_ any, h Handle) (Plugin, error) { return &DefaultPreemption{handle: h}, nil },
	}
}

// DefaultPlugins is kube-scheduler's default profile, with its score weights.
func DefaultPlugins() []PluginConfig {
	return []PluginConfig{
		{Name: NodeUnschedulableName},
		{Name: NodeNameName},
		{Name: TaintTolerationName, Weight: 3},
		{Name: NodeAffinityName, Weight: 2},
		{Name: NodePortsName},
		{Name: NodeResourcesFitName, Weight: 1},
		{Name: InterPodAffinityName, Weight: 2},
		{Name: PodTopologySpreadName, Weight: 2},
		{Name: BalancedAllocationName, Weight: 1},
		{Name: ImageLocalityName, Weight: 1},
		{Name: DefaultPreemptionName},
		{Name: DefaultBinderName},
	}
}

// ---- NodeName

// NodeName keeps a pod with spec.nodeName to that node.
type NodeName struct{}

// Name implements Plugin.
func (NodeName) Name() string { return NodeNameName }

// Filter implements FilterPlugin.
func (NodeName) Filter(_ context.Context, _ *CycleState, pod *PodInfo, node *NodeInfo) *Status {
	if n := pod.Pod.Spec.NodeName; n != "" && n != node.name {
		return NewStatus(UnschedulableAndUnresolvable, errReasonNodeName)
	}
	return nil
}

// ---- NodeUnschedulable

// NodeUnschedulable rejects cordoned nodes unless the pod tolerates the
// node.kubernetes.io/unschedulable:NoSchedule taint.
type NodeUnschedulable struct{}

// Name implements Plugin.
func (NodeUnschedulable) Name() string { return NodeUnschedulableName }

var unschedulableTaint = core.Taint{Key: core.TaintNodeUnschedulable, Effect: core.TaintEffectNoSchedule}

// Filter implements FilterPlugin.
func (NodeUnschedulable) Filter(_ context.Context, _ *CycleState, pod *PodInfo, node *NodeInfo) *Status {
	if !node.unschedulable {
		return nil
	}
	for i := range pod.Pod.Spec.Tolerations {
		if pod.Pod.Spec.Tolerations[i].ToleratesTaint(&unschedulableTaint) {
			return nil
		}
	}
	return NewStatus(UnschedulableAndUnresolvable, errReasonUnschedulable)
}

// ---- NodeAffinity

// NodeAffinity enforces spec.nodeSelector and required node affinity, and
// scores preferred node affinity terms by weight.
type NodeAffinity struct{}

// Name implements Plugin.
func (NodeAffinity) Name() string { return NodeAffinityName }

// PreFilter implements PreFilterPlugin: pods without constraints skip Filter.
func (NodeAffinity) PreFilter(_ context.Context, _ *CycleState, pod *PodInfo, _ *Snapshot) *Status {
	s := &pod.Pod.Spec
	if len(s.NodeSelector) == 0 && (s.Affinity == nil || s.Affinity.NodeAffinity == nil || s.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil) {
		return NewStatus(Skip)
	}
	return nil
}

// Filter implements FilterPlugin.
func (NodeAffinity) Filter(_ context.Context, _ *CycleState, pod *PodInfo, node *NodeInfo) *Status {
	if !PodMatchesNodeSelectorAndAffinity(pod.Pod, node.Node) {
		return NewStatus(UnschedulableAndUnresolvable, errReasonNodeAffinity)
	}
	return nil
}

// PodMatchesNodeSelectorAndAffinity reports whether node satisfies the
// pod's nodeSelector and required node affinity.
func PodMatchesNodeSelectorAndAffinity(pod *core.Pod, node *core.Node) bool {
	for k, v := range pod.Spec.NodeSelector {
		if lv, ok := node.Labels[k]; !ok || lv != v {
			return false
		}
	}
	a := pod.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return true
	}
	for i := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		if nodeMatchesTerm(&a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[i], node) {
			return true
		}
	}
	return false
}

// nodeMatchesTerm: all requirements hold; a term with none matches nothing.
func nodeMatchesTerm(t *core.NodeSelectorTerm, node *core.Node) bool {
	if len(t.MatchExpressions)+len(t.MatchFields) == 0 {
		return false
	}
	for i := range t.MatchExpressions {
		r := &t.MatchExpressions[i]
		v, ok := node.Labels[r.Key]
		if !requirementHolds(r, v, ok) {
			return false
		}
	}
	for i := range t.MatchFields {
		r := &t.MatchFields[i]
		if r.Key != "metadata.name" {
			return false
		}
		if !requirementHolds(r, node.Name, true) {
			return false
		}
	}
	return true
}

func requirementHolds(r *core.NodeSelectorRequirement, v string, has bool) bool {
	switch r.Operator {
	case core.NodeSelectorOpIn:
		if !has {
			return false
		}
		for _, x := range r.Values {
			if x == v {
				return true
			}
		}
		return false
	case core.NodeSelectorOpNotIn:
		for _, x := range r.Values {
			if has && x == v {
				return false
			}
		}
		return true
	case core.NodeSelectorOpExists:
		return has
	case core.NodeSelectorOpDoesNotExist:
		return !has
	case core.NodeSelectorOpGt, core.NodeSelectorOpLt:
		if !has || len(r.Values) != 1 {
			return false
		}
		a, err1 := strconv.ParseInt(v, 10, 64)
		b, err2 := strconv.ParseInt(r.Values[0], 10, 64)
		if err1 != nil || err2 != nil {
			return false
		}
		if r.Operator == core.NodeSelectorOpGt {
			return a > b
		}
		return a < b
	}
	return false
}

// PreScore implements PreScorePlugin: pods without preferences skip Score.
func (NodeAffinity) PreScore(_ context.Context, _ *CycleState, pod *PodInfo, _ []*NodeInfo) *Status {
	a := pod.Pod.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || len(a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution) == 0 {
		return NewStatus(Skip)
	}
	return nil
}

// Score implements ScorePlugin: the sum of the matching preferences' weights.
func (NodeAffinity) Score(_ context.Context, _ *CycleState, pod *PodInfo, node *NodeInfo) (int64, *Status) {
	var s int64
	for i := range pod.Pod.Spec.Affinity.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution {
		t := &pod.Pod.Spec.Affinity.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution[i]
		if t.Weight != 0 && nodeMatchesTerm(&t.Preference, node.Node) {
			s += int64(t.Weight)
		}
	}
	return s, nil
}

// NormalizeScore implements ScoreNormalizer.
func (NodeAffinity) NormalizeScore(_ context.Context, _ *CycleState, _ *PodInfo, scores []NodeScore) *Status {
	normalize(scores, false)
	return nil
}

// normalize scales scores so the highest becomes MaxNodeScore (reversed:
// the highest becomes 0 and 0 becomes MaxNodeScore).
func normalize(scores []NodeScore, reverse bool) {
	var hi int64
	for _, s := range scores {
		hi = max(hi, s.Score)
	}
	for i := range scores {
		switch {
		case hi == 0 && reverse:
			scores[i].Score = MaxNodeScore
		case hi == 0:
		default:
			scores[i].Score = scores[i].Score * MaxNodeScore / hi
			if reverse {
				scores[i].Score = MaxNodeScore - scores[i].Score
			}
		}
	}
}

// ---- TaintToleration

// TaintToleration rejects nodes with NoSchedule or NoExecute taints the pod
// does not tolerate, and prefers nodes with fewer untolerated
// PreferNoSchedule taints.
type TaintToleration struct{}

// Name implements Plugin.
func (TaintToleration) Name() string { return TaintTolerationName }

// Filter implements FilterPlugin.
func (TaintToleration) Filter(_ context.Context, _ *CycleState, pod *PodInfo, node *NodeInfo) *Status {
	if !node.hardTaints {
		return nil
	}
	for i := range node.Node.Spec.Taints {
		t := &node.Node.Spec.Taints[i]
		if t.Effect != core.TaintEffectNoSchedule && t.Effect != core.TaintEffectNoExecute {
			continue
		}
		if !tolerated(pod.Pod.Spec.Tolerations, t) {
			return NewStatus(UnschedulableAndUnresolvable, fmt.Sprintf("node(s) had untolerated taint {%s: %s}", t.Key, t.Value))
		}
	}
	return nil
}

func tolerated(tols []core.Toleration, t *core.Taint) bool {
	for i := range tols {
		if tols[i].ToleratesTaint(t) {
			return true
		}
	}
	return false
}

// Score implements ScorePlugin: the number of untolerated PreferNoSchedule taints.
func (TaintToleration) Score(_ context.Context, _ *CycleState, pod *PodInfo, node *NodeInfo) (int64, *Status) {
	if !node.softTaints {
		return 0, nil
	}
	var n int64
	for i := range node.Node.Spec.Taints {
		t := &node.Node.Spec.Taints[i]
		if t.Effect != core.TaintEffectPreferNoSchedule {
			continue
		}
		ok := false
		for j := range pod.Pod.Spec.Tolerations {
			tol := &pod.Pod.Spec.Tolerations[j]
			if (tol.Effect == "" || tol.Effect == core.TaintEffectPreferNoSchedule) && tol.ToleratesTaint(t) {
				ok = true
				break
			}
		}
		if !ok {
			n++
		}
	}
	return n, nil
}

// NormalizeScore implements ScoreNormalizer: fewer taints score higher.
func (TaintToleration) NormalizeScore(_ context.Context, _ *CycleState, _ *PodInfo, scores []NodeScore) *Status {
	normalize(scores, true)
	return nil
}

// ---- NodePorts

// NodePorts rejects nodes where a host port the pod asks for is taken.
type NodePorts struct{}

// Name implements Plugin.
func (NodePorts) Name() string { return NodePortsName }

// PreFilter implements PreFilterPlugin: pods without host ports skip Filter.
func (NodePorts) PreFilter(_ context.Context, _ *CycleState, pod *PodInfo, _ *Snapshot) *Status {
	if len(pod.Ports) == 0 {
		return NewStatus(Skip)
	}
	return nil
}

// Filter implements FilterPlugin.
func (NodePorts) Filter(_ context.Context, _ *CycleState, pod *PodInfo, node *NodeInfo) *Status {
	for _, want := range pod.Ports {
		for _, used := range node.UsedPorts {
			if want.conflicts(used) {
				return NewStatus(Unschedulable, errReasonPorts)
			}
		}
	}
	return nil
}

// ---- ImageLocality

// ImageLocality prefers nodes that already have the pod's images, weighted
// by image size and by how many nodes share the image (kube-scheduler's
// formula: images on few nodes count less, to avoid piling onto them).
type ImageLocality struct{}

// Name implements Plugin.
func (ImageLocality) Name() string { return ImageLocalityName }

const (
	imageMinThreshold int64 = 23 * 1024 * 1024
	imageMaxThreshold int64 = 1000 * 1024 * 1024
)

// Score implements ScorePlugin.
func (ImageLocality) Score(_ context.Context, state *CycleState, pod *PodInfo, node *NodeInfo) (int64, *Status) {
	if len(node.Images) == 0 {
		return 0, nil
	}
	snapNodes, _ := state.Read(snapshotKey).(*snapshotState)
	var sum int64
	for _, c := range pod.Pod.Spec.Containers {
		name := NormalizeImageName(c.Image)
		st, ok := node.Images[name]
		if !ok {
			continue
		}
		spread := 1.0
		if snapNodes != nil && snapNodes.snap.NumNodes() > 0 {
			spread = float64(snapNodes.snap.ImageNodes[name]) / float64(snapNodes.snap.NumNodes())
		}
		sum += int64(float64(st.Size) * spread)
	}
	maxT := imageMaxThreshold * int64(len(pod.Pod.Spec.Containers))
	switch {
	case sum < imageMinThreshold:
		sum = imageMinThreshold
	case sum > maxT:
		sum = maxT
	}
	return MaxNodeScore * (sum - imageMinThreshold) / (maxT - imageMinThreshold), nil
}

// snapshotKey holds the cycle's snapshot for score plugins that need
// cluster-wide figures.
const snapshotKey StateKey = "Snapshot"

type snapshotState struct{ snap *Snapshot }

func (s *snapshotState) Clone() StateData { return s }
