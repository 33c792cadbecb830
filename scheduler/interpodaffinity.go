package scheduler

import (
	"context"
	"maps"
	"math"

	"github.com/gantry-sdk/gantry/apis/labels"
)

// topologyPair is a topology domain: a node label key and value.
type topologyPair struct{ key, value string }

type pairCounts map[topologyPair]int64

func (c pairCounts) add(key string, node *NodeInfo, delta int64) {
	if v, ok := node.Node.Labels[key]; ok {
		p := topologyPair{key, v}
		c[p] += delta
		if c[p] == 0 {
			delete(c, p)
		}
	}
}

// InterPodAffinity enforces required pod affinity and anti-affinity (the
// incoming pod's, and existing pods' anti-affinity against it) and scores
// preferred terms of both sides.
type InterPodAffinity struct{}

// Name implements Plugin.
func (InterPodAffinity) Name() string { return InterPodAffinityName }

const (
	ipaFilterKey StateKey = "PreFilter" + InterPodAffinityName
	ipaScoreKey  StateKey = "PreScore" + InterPodAffinityName
	// hardPodAffinityWeight is how much an existing pod's required affinity
	// to the incoming pod counts when scoring (kube-scheduler's default).
	hardPodAffinityWeight = 1
)

type ipaFilterState struct {
	nsLabels     map[string]labels.Set // the snapshot's namespace labels (shared, read-only)
	existingAnti pairCounts            // existing pods' required anti-affinity that the pod matches
	affinity     pairCounts            // pods matching all of the pod's required affinity terms
	anti         pairCounts            // pods matching the pod's required anti-affinity terms
}

func (s *ipaFilterState) Clone() StateData {
	return &ipaFilterState{nsLabels: s.nsLabels, existingAnti: maps.Clone(s.existingAnti), affinity: maps.Clone(s.affinity), anti: maps.Clone(s.anti)}
}

func matchesAllTerms(terms []AffinityTerm, p *PodInfo, nsLabels map[string]labels.Set) bool {
	for i := range terms {
		if !terms[i].match(p.Pod.Namespace, nsLabels, p.Labels) {
			return false
		}
	}
	return len(terms) > 0
}

// PreFilter implements PreFilterPlugin.
func (InterPodAffinity) PreFilter(_ context.Context, state *CycleState, pod *PodInfo, snap *Snapshot) *Status {
	if len(pod.RequiredAffinity)+len(pod.RequiredAntiAffinity) == 0 && len(snap.HavePodsWithRequiredAntiAffinity) == 0 {
		return NewStatus(Skip)
	}
	s := &ipaFilterState{nsLabels: snap.Namespaces, existingAnti: pairCounts{}, affinity: pairCounts{}, anti: pairCounts{}}
	for _, ni := range snap.HavePodsWithRequiredAntiAffinity {
		for _, ex := range ni.PodsWithRequiredAntiAffinity {
			s.updateExisting(pod, ex, ni, 1)
		}
	}
	if len(pod.RequiredAffinity)+len(pod.RequiredAntiAffinity) > 0 {
		for _, ni := range snap.Nodes {
			for _, ex := range ni.Pods {
				s.updateIncoming(pod, ex, ni, 1)
			}
		}
	}
	state.Write(ipaFilterKey, s)
	return nil
}

func (s *ipaFilterState) updateExisting(pod, ex *PodInfo, ni *NodeInfo, d int64) {
	for i := range ex.RequiredAntiAffinity {
		t := &ex.RequiredAntiAffinity[i]
		if t.match(pod.Pod.Namespace, s.nsLabels, pod.Labels) {
			s.existingAnti.add(t.TopologyKey, ni, d)
		}
	}
}

func (s *ipaFilterState) updateIncoming(pod, ex *PodInfo, ni *NodeInfo, d int64) {
	if matchesAllTerms(pod.RequiredAffinity, ex, s.nsLabels) {
		for i := range pod.RequiredAffinity {
			s.affinity.add(pod.RequiredAffinity[i].TopologyKey, ni, d)
		}
	}
	for i := range pod.RequiredAntiAffinity {
		t := &pod.RequiredAntiAffinity[i]
		if t.match(ex.Pod.Namespace, s.nsLabels, ex.Labels) {
			s.anti.add(t.TopologyKey, ni, d)
		}
	}
}

// AddPod implements PreFilterExtensions.
func (InterPodAffinity) AddPod(state *CycleState, pod, add *PodInfo, node *NodeInfo) {
	if s, ok := state.Read(ipaFilterKey).(*ipaFilterState); ok {
		s.updateExisting(pod, add, node, 1)
		s.updateIncoming(pod, add, node, 1)
	}
}

// RemovePod implements PreFilterExtensions.
func (InterPodAffinity) RemovePod(state *CycleState, pod, remove *PodInfo, node *NodeInfo) {
	if s, ok := state.Read(ipaFilterKey).(*ipaFilterState); ok {
		s.updateExisting(pod, remove, node, -1)
		s.updateIncoming(pod, remove, node, -1)
	}
}

// Filter implements FilterPlugin.
func (InterPodAffinity) Filter(_ context.Context, state *CycleState, pod *PodInfo, node *NodeInfo) *Status {
	s, ok := state.Read(ipaFilterKey).(*ipaFilterState)
	if !ok {
		return AsStatus(errNoState(ipaFilterKey))
	}
	labels := node.Node.Labels
	for p := range s.existingAnti {
		if labels[p.key] == p.value {
			if _, has := labels[p.key]; has {
				return NewStatus(Unschedulable, errReasonExistingAntiAff)
			}
		}
	}
	for i := range pod.RequiredAntiAffinity {
		k := pod.RequiredAntiAffinity[i].TopologyKey
		if v, has := labels[k]; has && s.anti[topologyPair{k, v}] > 0 {
			return NewStatus(Unschedulable, errReasonAntiAffinityRules)
		}
	}
	if len(pod.RequiredAffinity) > 0 {
		all := true
		for i := range pod.RequiredAffinity {
			k := pod.RequiredAffinity[i].TopologyKey
			v, has := labels[k]
			if !has || s.affinity[topologyPair{k, v}] <= 0 {
				all = false
				break
			}
		}
		if !all {
			// The first pod of a group that selects itself may go anywhere
			// that has the topology keys.
			if len(s.affinity) == 0 && matchesAllTerms(pod.RequiredAffinity, pod, s.nsLabels) && hasAllKeys(pod.RequiredAffinity, node) {
				return nil
			}
			return NewStatus(UnschedulableAndUnresolvable, errReasonAffinityRules)
		}
	}
	return nil
}

func hasAllKeys(terms []AffinityTerm, node *NodeInfo) bool {
	for i := range terms {
		if _, ok := node.Node.Labels[terms[i].TopologyKey]; !ok {
			return false
		}
	}
	return true
}

type ipaScoreState struct{ pairs pairCounts }

func (s *ipaScoreState) Clone() StateData { return s }

// PreScore implements PreScorePlugin.
func (InterPodAffinity) PreScore(_ context.Context, state *CycleState, pod *PodInfo, _ []*NodeInfo) *Status {
	snapState, _ := state.Read(snapshotKey).(*snapshotState)
	if snapState == nil {
		return NewStatus(Skip)
	}
	snap := snapState.snap
	incoming := len(pod.PreferredAffinity)+len(pod.PreferredAnti) > 0
	if !incoming && len(snap.HavePodsWithAffinity) == 0 {
		return NewStatus(Skip)
	}
	pairs := pairCounts{}
	score := func(ex *PodInfo, ni *NodeInfo) {
		for i := range pod.PreferredAffinity {
			t := &pod.PreferredAffinity[i]
			if t.match(ex.Pod.Namespace, snap.Namespaces, ex.Labels) {
				pairs.add(t.TopologyKey, ni, int64(t.Weight))
			}
		}
		for i := range pod.PreferredAnti {
			t := &pod.PreferredAnti[i]
			if t.match(ex.Pod.Namespace, snap.Namespaces, ex.Labels) {
				pairs.add(t.TopologyKey, ni, -int64(t.Weight))
			}
		}
		for i := range ex.PreferredAffinity {
			t := &ex.PreferredAffinity[i]
			if t.match(pod.Pod.Namespace, snap.Namespaces, pod.Labels) {
				pairs.add(t.TopologyKey, ni, int64(t.Weight))
			}
		}
		for i := range ex.PreferredAnti {
			t := &ex.PreferredAnti[i]
			if t.match(pod.Pod.Namespace, snap.Namespaces, pod.Labels) {
				pairs.add(t.TopologyKey, ni, -int64(t.Weight))
			}
		}
		for i := range ex.RequiredAffinity {
			t := &ex.RequiredAffinity[i]
			if t.match(pod.Pod.Namespace, snap.Namespaces, pod.Labels) {
				pairs.add(t.TopologyKey, ni, hardPodAffinityWeight)
			}
		}
	}
	if incoming {
		for _, ni := range snap.Nodes {
			for _, ex := range ni.Pods {
				score(ex, ni)
			}
		}
	} else {
		for _, ni := range snap.HavePodsWithAffinity {
			for _, ex := range ni.PodsWithAffinity {
				score(ex, ni)
			}
		}
	}
	if len(pairs) == 0 {
		return NewStatus(Skip)
	}
	state.Write(ipaScoreKey, &ipaScoreState{pairs: pairs})
	return nil
}

// Score implements ScorePlugin (raw, may be negative; see NormalizeScore).
func (InterPodAffinity) Score(_ context.Context, state *CycleState, _ *PodInfo, node *NodeInfo) (int64, *Status) {
	s, ok := state.Read(ipaScoreKey).(*ipaScoreState)
	if !ok {
		return 0, AsStatus(errNoState(ipaScoreKey))
	}
	var sum int64
	for p, w := range s.pairs {
		if v, has := node.Node.Labels[p.key]; has && v == p.value {
			sum += w
		}
	}
	return sum, nil
}

// NormalizeScore implements ScoreNormalizer: min..max onto 0..100.
func (InterPodAffinity) NormalizeScore(_ context.Context, _ *CycleState, _ *PodInfo, scores []NodeScore) *Status {
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	for _, s := range scores {
		lo, hi = min(lo, s.Score), max(hi, s.Score)
	}
	for i := range scores {
		if hi > lo {
			scores[i].Score = MaxNodeScore * (scores[i].Score - lo) / (hi - lo)
		} else {
			scores[i].Score = 0
		}
	}
	return nil
}
