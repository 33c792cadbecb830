package scheduler

import (
	"context"
	"fmt"

	"github.com/gantry-sdk/gantry/apis/core"
)

// FitArgs configure NodeResourcesFit. The zero value scores LeastAllocated
// over cpu and memory with weight 1 each.
type FitArgs struct {
	// ScoringStrategy is LeastAllocated (spread) or MostAllocated (pack).
	ScoringStrategy string
	// Resources weights the resources scored; nil is cpu:1, memory:1.
	Resources map[core.ResourceName]int64
}

// NodeResourcesFit rejects nodes without room for the pod's requests (cpu,
// memory, ephemeral storage, pod count, extended resources) and scores the
// others by how much would be left (LeastAllocated) or used (MostAllocated).
type NodeResourcesFit struct {
	most      bool
	resources []weightedResource
}

type weightedResource struct {
	name   core.ResourceName
	weight int64
}

func newFit(args any) (*NodeResourcesFit, error) {
	var a FitArgs
	switch v := args.(type) {
	case nil:
	case FitArgs:
		a = v
	case *FitArgs:
		a = *v
	default:
		return nil, fmt.Errorf("%w: NodeResourcesFit args are %T, want FitArgs", ErrInvalidProfile, args)
	}
	f := &NodeResourcesFit{}
	switch a.ScoringStrategy {
	case "", ScoringLeastAllocated:
	case ScoringMostAllocated:
		f.most = true
	default:
		return nil, fmt.Errorf("%w: NodeResourcesFit scoringStrategy %q: want %s or %s", ErrInvalidProfile, a.ScoringStrategy, ScoringLeastAllocated, ScoringMostAllocated)
	}
	if len(a.Resources) == 0 {
		f.resources = []weightedResource{{core.ResourceCPU, 1}, {core.ResourceMemory, 1}}
	}
	for name, w := range a.Resources {
		if w <= 0 {
			return nil, fmt.Errorf("%w: NodeResourcesFit resources[%s]: weight %d must be positive", ErrInvalidProfile, name, w)
		}
		f.resources = append(f.resources, weightedResource{name, w})
	}
	return f, nil
}

// Name implements Plugin.
func (*NodeResourcesFit) Name() string { return NodeResourcesFitName }

// Filter implements FilterPlugin.
func (*NodeResourcesFit) Filter(_ context.Context, _ *CycleState, pod *PodInfo, node *NodeInfo) *Status {
	var reasons []string
	alloc, used, req := &node.Allocatable, &node.Requested, &pod.Requests
	if used.Pods+1 > alloc.Pods {
		reasons = append(reasons, errReasonTooManyPods)
	}
	if req.MilliCPU > 0 && used.MilliCPU+req.MilliCPU > alloc.MilliCPU {
		reasons = append(reasons, "Insufficient cpu")
	}
	if req.Memory > 0 && used.Memory+req.Memory > alloc.Memory {
		reasons = append(reasons, "Insufficient memory")
	}
	if req.EphemeralStorage > 0 && used.EphemeralStorage+req.EphemeralStorage > alloc.EphemeralStorage {
		reasons = append(reasons, "Insufficient ephemeral-storage")
	}
	for name, q := range req.Scalar {
		if q > 0 && used.Scalar[name]+q > alloc.Scalar[name] {
			reasons = append(reasons, "Insufficient "+string(name))
		}
	}
	if len(reasons) > 0 {
		return NewStatus(Unschedulable, reasons...)
	}
	return nil
}

// requestedAndAllocatable returns what the node would have requested with
// the pod, for scoring (cpu and memory use non-zero defaults).
func requestedAndAllocatable(pod *PodInfo, node *NodeInfo, name core.ResourceName) (req, alloc int64) {
	switch name {
	case core.ResourceCPU:
		return node.NonZeroMilliCPU + pod.NonZeroMilliCPU, node.Allocatable.MilliCPU
	case core.ResourceMemory:
		return node.NonZeroMemory + pod.NonZeroMemory, node.Allocatable.Memory
	case core.ResourceEphemeralStorage:
		return node.Requested.EphemeralStorage + pod.Requests.EphemeralStorage, node.Allocatable.EphemeralStorage
	}
	return node.Requested.Scalar[name] + pod.Requests.Scalar[name], node.Allocatable.Scalar[name]
}

// Score implements ScorePlugin: the weighted mean over resources of the
// free (LeastAllocated) or used (MostAllocated) share, 0-100.
func (f *NodeResourcesFit) Score(_ context.Context, _ *CycleState, pod *PodInfo, node *NodeInfo) (int64, *Status) {
	var sum, weights int64
	for _, r := range f.resources {
		req, alloc := requestedAndAllocatable(pod, node, r.name)
		if alloc == 0 {
			continue
		}
		var s int64
		if req > alloc {
			req = alloc
		}
		if f.most {
			s = req * MaxNodeScore / alloc
		} else {
			s = (alloc - req) * MaxNodeScore / alloc
		}
		sum += s * r.weight
		weights += r.weight
	}
	if weights == 0 {
		return 0, nil
	}
	return sum / weights, nil
}

// BalancedAllocation prefers nodes whose cpu and memory would be used in
// similar shares (1 - standard deviation of the shares, times 100).
type BalancedAllocation struct{}

// Name implements Plugin.
func (BalancedAllocation) Name() string { return BalancedAllocationName }

// Score implements ScorePlugin.
func (BalancedAllocation) Score(_ context.Context, _ *CycleState, pod *PodInfo, node *NodeInfo) (int64, *Status) {
	var fr [2]float64
	for i, name := range [2]core.ResourceName{core.ResourceCPU, core.ResourceMemory} {
		req, alloc := requestedAndAllocatable(pod, node, name)
		if alloc == 0 {
			return 0, nil
		}
		fr[i] = min(float64(req)/float64(alloc), 1)
	}
	// The standard deviation of two values is half their distance.
	std := fr[0] - fr[1]
	if std < 0 {
		std = -std
	}
	std /= 2
	return int64((1 - std) * float64(MaxNodeScore)), nil
}
