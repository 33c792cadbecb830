package scheduler

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/gantry-sdk/gantry/apis/core"
)

// DefaultPreemption is the PostFilter that makes room for a pod no node
// fits by evicting lower-priority pods. On every node that failed for a
// reason eviction can fix, it removes all lower-priority pods, checks the
// pod then fits, and puts back as many as it can (highest priority first);
// those it cannot are the victims. It picks the node whose victims have the
// lowest highest priority, then the fewest victims, then the lowest sum of
// priorities. PodDisruptionBudgets are not consulted.
type DefaultPreemption struct{ handle Handle }

// Name implements Plugin.
func (*DefaultPreemption) Name() string { return DefaultPreemptionName }

type preemptionCandidate struct {
	node    string
	victims []*PodInfo
	maxPrio int32
	sumPrio int64
}

// PostFilter implements PostFilterPlugin.
func (d *DefaultPreemption) PostFilter(ctx context.Context, state *CycleState, pod *PodInfo, snap *Snapshot, statuses NodeStatuses) (*PostFilterResult, *Status) {
	if p := pod.Pod.Spec.PreemptionPolicy; p != nil && *p == core.PreemptNever {
		return nil, NewStatus(Unschedulable, "not eligible due to preemptionPolicy=Never.")
	}
	// A pod already nominated, whose victims are still terminating there,
	// waits for them rather than evicting more.
	if nn := pod.Pod.Status.NominatedNodeName; nn != "" {
		if ni, ok := snap.Get(nn); ok {
			for _, p := range ni.Pods {
				if p.Pod.DeletionTimestamp != nil && p.Priority < pod.Priority {
					return nil, NewStatus(Unschedulable, "not eligible due to a terminating pod on the nominated node.")
				}
			}
		}
	}
	var best *preemptionCandidate
	for _, ni := range snap.Nodes {
		if err := ctx.Err(); err != nil {
			return nil, AsStatus(err)
		}
		st, failed := statuses[ni.Node.Name]
		if !failed || st.Code() != Unschedulable {
			continue
		}
		c := d.selectVictims(ctx, state, pod, ni)
		if c == nil {
			continue
		}
		if best == nil || better(c, best) {
			best = c
		}
	}
	if best == nil {
		return nil, NewStatus(Unschedulable, fmt.Sprintf("0/%d nodes are available: No preemption victims found for incoming pod.", snap.NumNodes()))
	}
	res := &PostFilterResult{NominatedNode: best.node}
	for _, v := range best.victims {
		res.Victims = append(res.Victims, v.Pod)
	}
	return res, nil
}

func better(a, b *preemptionCandidate) bool {
	if c := cmp.Compare(a.maxPrio, b.maxPrio); c != 0 {
		return c < 0
	}
	if c := cmp.Compare(len(a.victims), len(b.victims)); c != 0 {
		return c < 0
	}
	return a.sumPrio < b.sumPrio
}

func (d *DefaultPreemption) selectVictims(ctx context.Context, state *CycleState, pod *PodInfo, ni *NodeInfo) *preemptionCandidate {
	node := ni.Clone()
	st := state.Clone()
	var lower []*PodInfo
	for _, p := range ni.Pods {
		if p.Priority < pod.Priority && p.Pod.DeletionTimestamp == nil {
			lower = append(lower, p)
		}
	}
	if len(lower) == 0 {
		return nil
	}
	for _, p := range lower {
		node.RemovePod(p)
		d.handle.RunPreFilterExtensionRemovePod(st, pod, p, node)
	}
	if !d.handle.RunFilterPlugins(ctx, st, pod, node).IsSuccess() {
		return nil
	}
	// Reprieve the most important pods first.
	slices.SortStableFunc(lower, func(a, b *PodInfo) int { return cmp.Compare(b.Priority, a.Priority) })
	c := &preemptionCandidate{node: ni.Node.Name}
	for _, p := range lower {
		node.AddPod(p)
		d.handle.RunPreFilterExtensionAddPod(st, pod, p, node)
		if d.handle.RunFilterPlugins(ctx, st, pod, node).IsSuccess() {
			continue
		}
		node.RemovePod(p)
		d.handle.RunPreFilterExtensionRemovePod(st, pod, p, node)
		c.victims = append(c.victims, p)
		c.maxPrio = max(c.maxPrio, p.Priority)
		if len(c.victims) == 1 {
			c.maxPrio = p.Priority
		}
		c.sumPrio += int64(p.Priority)
	}
	if len(c.victims) == 0 {
		return nil // it fits without evicting anything: not a preemption case
	}
	return c
}
