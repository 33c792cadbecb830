package scheduler

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/apis/labels"
	"github.com/gantry-sdk/gantry/apis/policy"
)

// DefaultPreemption is the PostFilter that makes room for a pod no node
// fits by evicting lower-priority pods. On every node that failed for a
// reason eviction can fix, it removes all lower-priority pods, checks the
// pod then fits, and puts back as many as it can, most important first
// (those whose eviction would violate a PodDisruptionBudget before the
// others); those it cannot are the victims. As upstream's
// pickOneNodeForPreemption, it then picks the node with the fewest
// PodDisruptionBudget violations, then the lowest highest victim priority,
// then the lowest sum of priorities, then the fewest victims, then the
// latest start of its highest-priority victims. Budgets are read from the
// Snapshot (status.disruptionsAllowed and disruptedPods); a budget with an
// empty or invalid selector protects nothing, as upstream.
type DefaultPreemption struct{ handle Handle }

// Name implements Plugin.
func (*DefaultPreemption) Name() string { return DefaultPreemptionName }

type preemptionCandidate struct {
	node string
	// victims, most important (highest priority, then earliest start) first.
	victims       []*PodInfo
	pdbViolations int
	maxPrio       int32
	sumPrio       int64
	// earliestStart is the earliest start among the highest-priority
	// victims; a victim not started yet counts as starting now (latest).
	earliestStart time.Time
	notStarted    bool
}

// disruptionBudget is a PodDisruptionBudget as preemption reads it.
type disruptionBudget struct {
	namespace string
	selector  labels.Selector
	allowed   int32
	disrupted map[string]apis.Time
}

func parseBudgets(pdbs []*policy.PodDisruptionBudget) []disruptionBudget {
	var out []disruptionBudget
	for _, pdb := range pdbs {
		sel := pdb.Spec.Selector
		if sel == nil || len(sel.MatchLabels)+len(sel.MatchExpressions) == 0 {
			continue
		}
		s, err := labels.FromLabelSelector(sel)
		if err != nil {
			continue
		}
		out = append(out, disruptionBudget{namespace: pdb.Namespace, selector: s, allowed: pdb.Status.DisruptionsAllowed, disrupted: pdb.Status.DisruptedPods})
	}
	return out
}

// splitByBudgetViolation splits pods (in order) into those whose eviction,
// all of them together, would take some budget below zero, and the rest.
func splitByBudgetViolation(pods []*PodInfo, budgets []disruptionBudget) (violating, ok []*PodInfo) {
	if len(budgets) == 0 {
		return nil, pods
	}
	allowed := make([]int32, len(budgets))
	for i := range budgets {
		allowed[i] = budgets[i].allowed
	}
	for _, p := range pods {
		violated := false
		if len(p.Labels) > 0 {
			for i := range budgets {
				b := &budgets[i]
				if b.namespace != p.Pod.Namespace || !b.selector.Matches(p.Labels) {
					continue
				}
				// Already counted by the disruption controller.
				if _, gone := b.disrupted[p.Pod.Name]; gone {
					continue
				}
				allowed[i]--
				if allowed[i] < 0 {
					violated = true
				}
			}
		}
		if violated {
			violating = append(violating, p)
		} else {
			ok = append(ok, p)
		}
	}
	return violating, ok
}

// moreImportant orders pods by priority, highest first, then by start,
// earliest first.
func moreImportant(a, b *PodInfo) int {
	if c := cmp.Compare(b.Priority, a.Priority); c != 0 {
		return c
	}
	sa, sb := a.Pod.Status.StartTime, b.Pod.Status.StartTime
	switch {
	case sa == nil && sb == nil:
		return 0
	case sa == nil:
		return 1
	case sb == nil:
		return -1
	}
	return sa.Time.Compare(sb.Time)
}

// PostFilter implements PostFilterPlugin.
func (d *DefaultPreemption) PostFilter(ctx context.Context, state *CycleState, pod *PodInfo, snap *Snapshot, statuses NodeStatuses) (*PostFilterResult, *Status) {
	if p := pod.Pod.Spec.PreemptionPolicy; p != nil && *p == core.PreemptNever {
		return nil, NewStatus(Unschedulable, "not eligible due to preemptionPolicy=Never.")
	}
	// A pod already nominated, whose victims are still terminating there,
	// waits for them rather than evicting more. The nomination may not be
	// in the pod's status yet (it is written in the background): the
	// snapshot's record of it counts too.
	if nn := nominatedNode(pod, snap); nn != "" {
		if ni, ok := snap.Get(nn); ok {
			for _, p := range ni.Pods {
				if p.Pod.DeletionTimestamp != nil && p.Priority < pod.Priority {
					return nil, NewStatus(Unschedulable, "not eligible due to a terminating pod on the nominated node.")
				}
			}
		}
	}
	budgets := parseBudgets(snap.PodDisruptionBudgets)
	var best *preemptionCandidate
	for _, ni := range snap.Nodes {
		if err := ctx.Err(); err != nil {
			return nil, AsStatus(err)
		}
		st, failed := statuses[ni.Node.Name]
		if !failed || st.Code() != Unschedulable {
			continue
		}
		c := d.selectVictims(ctx, state, pod, ni, budgets)
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

// better reports whether a beats b, as upstream's pickOneNodeForPreemption.
// nominatedNode returns the node pod is nominated to, from its status or
// else from the snapshot's nominations.
func nominatedNode(pod *PodInfo, snap *Snapshot) string {
	if nn := pod.Pod.Status.NominatedNodeName; nn != "" {
		return nn
	}
	for node, pods := range snap.Nominated {
		for _, np := range pods {
			if np.Pod.UID == pod.Pod.UID && np.Pod.Name == pod.Pod.Name && np.Pod.Namespace == pod.Pod.Namespace {
				return node
			}
		}
	}
	return ""
}

func better(a, b *preemptionCandidate) bool {
	if c := cmp.Compare(a.pdbViolations, b.pdbViolations); c != 0 {
		return c < 0
	}
	if c := cmp.Compare(a.maxPrio, b.maxPrio); c != 0 {
		return c < 0
	}
	if c := cmp.Compare(a.sumPrio, b.sumPrio); c != 0 {
		return c < 0
	}
	if c := cmp.Compare(len(a.victims), len(b.victims)); c != 0 {
		return c < 0
	}
	// The latest start wins: evict what has run for the shortest time.
	switch {
	case a.notStarted || b.notStarted:
		return a.notStarted && !b.notStarted
	default:
		return a.earliestStart.After(b.earliestStart)
	}
}

func (d *DefaultPreemption) selectVictims(ctx context.Context, state *CycleState, pod *PodInfo, ni *NodeInfo, budgets []disruptionBudget) *preemptionCandidate {
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
	// Reprieve the most important pods first, and those a budget protects
	// before the others.
	slices.SortStableFunc(lower, moreImportant)
	violating, nonViolating := splitByBudgetViolation(lower, budgets)
	c := &preemptionCandidate{node: ni.Node.Name}
	reprieve := func(p *PodInfo) bool {
		node.AddPod(p)
		d.handle.RunPreFilterExtensionAddPod(st, pod, p, node)
		if d.handle.RunFilterPlugins(ctx, st, pod, node).IsSuccess() {
			return true
		}
		node.RemovePod(p)
		d.handle.RunPreFilterExtensionRemovePod(st, pod, p, node)
		c.victims = append(c.victims, p)
		return false
	}
	for _, p := range violating {
		if !reprieve(p) {
			c.pdbViolations++
		}
	}
	for _, p := range nonViolating {
		reprieve(p)
	}
	if len(c.victims) == 0 {
		return nil // it fits without evicting anything: not a preemption case
	}
	slices.SortStableFunc(c.victims, moreImportant)
	c.maxPrio = c.victims[0].Priority
	for _, v := range c.victims {
		// Shifted so that negative priorities still add up (as upstream).
		c.sumPrio += int64(v.Priority) + math.MaxInt32 + 1
	}
	// The highest-priority victims come first; the earliest of them started first.
	if t := c.victims[0].Pod.Status.StartTime; t != nil {
		c.earliestStart = t.Time
	} else {
		c.notStarted = true
	}
	return c
}
