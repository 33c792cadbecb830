package scheduler

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/apis/core"
)

// filterOne runs PreFilter (if any) and Filter of one plugin.
func filterOne(t *testing.T, pl Plugin, nodes []*core.Node, pods []*core.Pod, pod *core.Pod, node string) *Status {
	t.Helper()
	snap := NewSnapshot(nodes, pods)
	state := NewCycleState()
	state.Write(snapshotKey, &snapshotState{snap: snap})
	pi := NewPodInfo(pod)
	if pf, ok := pl.(PreFilterPlugin); ok {
		st := pf.PreFilter(context.Background(), state, pi, snap)
		if st.IsSkip() {
			return nil
		}
		if !st.IsSuccess() {
			return st
		}
	}
	ni, ok := snap.Get(node)
	require.True(t, ok)
	return pl.(FilterPlugin).Filter(context.Background(), state, pi, ni)
}

func TestFilterPlugins(t *testing.T) {
	zoneA := withLabels(core.LabelTopologyZone, "a")
	zoneB := withLabels(core.LabelTopologyZone, "b")
	fit, err := newFit(nil)
	require.NoError(t, err)
	tests := []struct {
		name   string
		plugin Plugin
		nodes  []*core.Node
		pods   []*core.Pod
		pod    *core.Pod
		node   string
		code   Code
		reason string
	}{
		{"fit ok", fit, []*core.Node{mkNode("n1", "2", "4Gi")}, nil, mkPod("p", "1", "1Gi"), "n1", Success, ""},
		{"fit cpu", fit, []*core.Node{mkNode("n1", "2", "4Gi")}, []*core.Pod{mkPod("e", "1500m", "", onNode("n1"))}, mkPod("p", "1", "1Gi"), "n1", Unschedulable, "Insufficient cpu"},
		{"fit memory", fit, []*core.Node{mkNode("n1", "2", "4Gi")}, nil, mkPod("p", "1", "5Gi"), "n1", Unschedulable, "Insufficient memory"},
		{"fit pods", fit, []*core.Node{mkNode("n1", "2", "4Gi", withAlloc(core.ResourcePods, "1"))}, []*core.Pod{mkPod("e", "", "", onNode("n1"))}, mkPod("p", "", ""), "n1", Unschedulable, "Too many pods"},
		{"fit extended", fit, []*core.Node{mkNode("n1", "2", "4Gi", withAlloc("nvidia.com/gpu", "1"))}, nil, mkPod("p", "1", "", extended("nvidia.com/gpu", "2")), "n1", Unschedulable, "Insufficient nvidia.com/gpu"},
		{"fit extended ok", fit, []*core.Node{mkNode("n1", "2", "4Gi", withAlloc("nvidia.com/gpu", "2"))}, nil, mkPod("p", "1", "", extended("nvidia.com/gpu", "2")), "n1", Success, ""},
		{"nodename mismatch", NodeName{}, []*core.Node{mkNode("n1", "2", "4Gi")}, nil, mkPod("p", "", "", onNode("n2")), "n1", UnschedulableAndUnresolvable, errReasonNodeName},
		{"unschedulable", NodeUnschedulable{}, []*core.Node{mkNode("n1", "2", "4Gi", func(n *core.Node) { n.Spec.Unschedulable = true })}, nil, mkPod("p", "", ""), "n1", UnschedulableAndUnresolvable, errReasonUnschedulable},
		{"unschedulable tolerated", NodeUnschedulable{}, []*core.Node{mkNode("n1", "2", "4Gi", func(n *core.Node) { n.Spec.Unschedulable = true })}, nil, mkPod("p", "", "", tolerate(core.TaintNodeUnschedulable, core.TaintEffectNoSchedule)), "n1", Success, ""},
		{"nodeSelector", NodeAffinity{}, []*core.Node{mkNode("n1", "2", "4Gi", zoneA)}, nil, mkPod("p", "", "", func(p *core.Pod) { p.Spec.NodeSelector = map[string]string{core.LabelTopologyZone: "b"} }), "n1", UnschedulableAndUnresolvable, errReasonNodeAffinity},
		{"required affinity In", NodeAffinity{}, []*core.Node{mkNode("n1", "2", "4Gi", zoneB)}, nil, mkPod("p", "", "", requireZone(core.NodeSelectorOpIn, "b")), "n1", Success, ""},
		{"required affinity NotIn", NodeAffinity{}, []*core.Node{mkNode("n1", "2", "4Gi", zoneB)}, nil, mkPod("p", "", "", requireZone(core.NodeSelectorOpNotIn, "b")), "n1", UnschedulableAndUnresolvable, errReasonNodeAffinity},
		{"control-plane taint", TaintToleration{}, []*core.Node{mkNode("cp", "2", "4Gi", withTaint(core.TaintNodeControlPlane, "", core.TaintEffectNoSchedule))}, nil, mkPod("p", "", ""), "cp", UnschedulableAndUnresolvable, "node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }"},
		{"NoExecute taint", TaintToleration{}, []*core.Node{mkNode("n", "2", "4Gi", withTaint("k", "v", core.TaintEffectNoExecute))}, nil, mkPod("p", "", ""), "n", UnschedulableAndUnresolvable, "node(s) had untolerated taint {k: v}"},
		{"PreferNoSchedule passes", TaintToleration{}, []*core.Node{mkNode("n", "2", "4Gi", withTaint("k", "v", core.TaintEffectPreferNoSchedule))}, nil, mkPod("p", "", ""), "n", Success, ""},
		{"tolerated taint", TaintToleration{}, []*core.Node{mkNode("cp", "2", "4Gi", withTaint(core.TaintNodeControlPlane, "", core.TaintEffectNoSchedule))}, nil, mkPod("p", "", "", tolerate(core.TaintNodeControlPlane, "")), "cp", Success, ""},
		{"host port taken", NodePorts{}, []*core.Node{mkNode("n", "2", "4Gi")}, []*core.Pod{mkPod("e", "", "", onNode("n"), hostPort(80))}, mkPod("p", "", "", hostPort(80)), "n", Unschedulable, errReasonPorts},
		{"host port free", NodePorts{}, []*core.Node{mkNode("n", "2", "4Gi")}, []*core.Pod{mkPod("e", "", "", onNode("n"), hostPort(81))}, mkPod("p", "", "", hostPort(80)), "n", Success, ""},
		{"anti-affinity hostname", InterPodAffinity{}, []*core.Node{mkNode("n1", "2", "4Gi"), mkNode("n2", "2", "4Gi")}, []*core.Pod{mkPod("e", "", "", onNode("n1"), podLabels("app", "web"))}, mkPod("p", "", "", antiAffinity(core.LabelHostname, selector("app", "web"))), "n1", Unschedulable, errReasonAntiAffinityRules},
		{"anti-affinity other node", InterPodAffinity{}, []*core.Node{mkNode("n1", "2", "4Gi"), mkNode("n2", "2", "4Gi")}, []*core.Pod{mkPod("e", "", "", onNode("n1"), podLabels("app", "web"))}, mkPod("p", "", "", antiAffinity(core.LabelHostname, selector("app", "web"))), "n2", Success, ""},
		{"existing anti-affinity", InterPodAffinity{}, []*core.Node{mkNode("n1", "2", "4Gi", zoneA), mkNode("n2", "2", "4Gi", zoneA)}, []*core.Pod{mkPod("e", "", "", onNode("n1"), antiAffinity(core.LabelTopologyZone, selector("app", "db")))}, mkPod("p", "", "", podLabels("app", "db")), "n2", Unschedulable, errReasonExistingAntiAff},
		{"affinity zone", InterPodAffinity{}, []*core.Node{mkNode("n1", "2", "4Gi", zoneA), mkNode("n2", "2", "4Gi", zoneB)}, []*core.Pod{mkPod("e", "", "", onNode("n1"), podLabels("app", "cache"))}, mkPod("p", "", "", podAffinity(core.LabelTopologyZone, selector("app", "cache"))), "n2", UnschedulableAndUnresolvable, errReasonAffinityRules},
		{"affinity zone ok", InterPodAffinity{}, []*core.Node{mkNode("n1", "2", "4Gi", zoneA), mkNode("n2", "2", "4Gi", zoneA)}, []*core.Pod{mkPod("e", "", "", onNode("n1"), podLabels("app", "cache"))}, mkPod("p", "", "", podAffinity(core.LabelTopologyZone, selector("app", "cache"))), "n2", Success, ""},
		{"affinity first of group", InterPodAffinity{}, []*core.Node{mkNode("n1", "2", "4Gi", zoneA)}, nil, mkPod("p", "", "", podLabels("app", "cache"), podAffinity(core.LabelTopologyZone, selector("app", "cache"))), "n1", Success, ""},
		{"spread skew", PodTopologySpread{}, []*core.Node{mkNode("n1", "2", "4Gi", zoneA), mkNode("n2", "2", "4Gi", zoneB)}, []*core.Pod{mkPod("e", "", "", onNode("n1"), podLabels("app", "w"))}, mkPod("p", "", "", podLabels("app", "w"), spread(core.LabelTopologyZone, 1, core.DoNotSchedule, selector("app", "w"))), "n1", Unschedulable, errReasonSpread},
		{"spread ok", PodTopologySpread{}, []*core.Node{mkNode("n1", "2", "4Gi", zoneA), mkNode("n2", "2", "4Gi", zoneB)}, []*core.Pod{mkPod("e", "", "", onNode("n1"), podLabels("app", "w"))}, mkPod("p", "", "", podLabels("app", "w"), spread(core.LabelTopologyZone, 1, core.DoNotSchedule, selector("app", "w"))), "n2", Success, ""},
		{"spread missing label", PodTopologySpread{}, []*core.Node{mkNode("n1", "2", "4Gi", zoneA), mkNode("n2", "2", "4Gi")}, nil, mkPod("p", "", "", spread(core.LabelTopologyZone, 1, core.DoNotSchedule, selector("app", "w"))), "n2", UnschedulableAndUnresolvable, errReasonSpreadMissingLabel},
		{"spread minDomains", PodTopologySpread{}, []*core.Node{mkNode("n1", "2", "4Gi", zoneA)}, []*core.Pod{mkPod("e", "", "", onNode("n1"), podLabels("app", "w"))}, mkPod("p", "", "", podLabels("app", "w"), spread(core.LabelTopologyZone, 1, core.DoNotSchedule, selector("app", "w")), func(p *core.Pod) {
			two := int32(2)
			p.Spec.TopologySpreadConstraints[0].MinDomains = &two
		}), "n1", Unschedulable, errReasonSpread},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := filterOne(t, tt.plugin, tt.nodes, tt.pods, tt.pod, tt.node)
			assert.Equal(t, tt.code, st.Code(), "reasons %v", st.Reasons())
			if tt.reason != "" {
				assert.Contains(t, st.Reasons(), tt.reason)
			}
		})
	}
}

func requireZone(op core.NodeSelectorOperator, values ...string) podOpt {
	return func(p *core.Pod) {
		p.Spec.Affinity = &core.Affinity{NodeAffinity: &core.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &core.NodeSelector{
			NodeSelectorTerms: []core.NodeSelectorTerm{{MatchExpressions: []core.NodeSelectorRequirement{{Key: core.LabelTopologyZone, Operator: op, Values: values}}}},
		}}}
	}
}

func TestScorePlugins(t *testing.T) {
	most, err := newFit(FitArgs{ScoringStrategy: ScoringMostAllocated})
	require.NoError(t, err)
	least, err := newFit(nil)
	require.NoError(t, err)
	nodes := []*core.Node{mkNode("empty", "4", "8Gi"), mkNode("busy", "4", "8Gi")}
	pods := []*core.Pod{mkPod("e", "3", "6Gi", onNode("busy"))}
	pod := mkPod("p", "500m", "1Gi")
	tests := []struct {
		name   string
		plugin ScorePlugin
		nodes  []*core.Node
		pods   []*core.Pod
		pod    *core.Pod
		best   string
	}{
		{"least allocated spreads", least, nodes, pods, pod, "empty"},
		{"most allocated packs", most, nodes, pods, pod, "busy"},
		{"balanced", BalancedAllocation{}, []*core.Node{mkNode("skewed", "4", "8Gi"), mkNode("even", "4", "8Gi")},
			[]*core.Pod{mkPod("e", "3", "1Gi", onNode("skewed")), mkPod("f", "2", "4Gi", onNode("even"))}, pod, "even"},
		{"prefer no schedule", TaintToleration{}, []*core.Node{mkNode("tainted", "4", "8Gi", withTaint("k", "", core.TaintEffectPreferNoSchedule)), mkNode("clean", "4", "8Gi")}, nil, pod, "clean"},
		{"preferred node affinity", NodeAffinity{}, []*core.Node{mkNode("a", "4", "8Gi", withLabels("disk", "hdd")), mkNode("b", "4", "8Gi", withLabels("disk", "ssd"))}, nil,
			mkPod("p", "", "", func(p *core.Pod) {
				p.Spec.Affinity = &core.Affinity{NodeAffinity: &core.NodeAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []core.PreferredSchedulingTerm{{Weight: 10, Preference: core.NodeSelectorTerm{MatchExpressions: []core.NodeSelectorRequirement{{Key: "disk", Operator: core.NodeSelectorOpIn, Values: []string{"ssd"}}}}}}}}
			}), "b"},
		{"image locality", ImageLocality{}, []*core.Node{mkNode("cold", "4", "8Gi"), mkNode("warm", "4", "8Gi", func(n *core.Node) {
			n.Status.Images = []core.ContainerImage{{Names: []string{"busybox:latest"}, SizeBytes: 500 << 20}}
		})}, nil, pod, "warm"},
		{"preferred pod affinity", InterPodAffinity{}, []*core.Node{mkNode("a", "4", "8Gi"), mkNode("b", "4", "8Gi")}, []*core.Pod{mkPod("e", "", "", onNode("b"), podLabels("app", "db"))},
			mkPod("p", "", "", func(p *core.Pod) {
				p.Spec.Affinity = &core.Affinity{PodAffinity: &core.PodAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []core.WeightedPodAffinityTerm{{Weight: 5, PodAffinityTerm: core.PodAffinityTerm{LabelSelector: selector("app", "db"), TopologyKey: core.LabelHostname}}}}}
			}), "b"},
		{"spread anyway", PodTopologySpread{}, []*core.Node{mkNode("a", "4", "8Gi"), mkNode("b", "4", "8Gi")}, []*core.Pod{mkPod("e", "", "", onNode("a"), podLabels("app", "w"))},
			mkPod("p", "", "", podLabels("app", "w"), spread(core.LabelHostname, 1, core.ScheduleAnyway, selector("app", "w"))), "b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap := NewSnapshot(tt.nodes, tt.pods)
			state := NewCycleState()
			state.Write(snapshotKey, &snapshotState{snap: snap})
			pi := NewPodInfo(tt.pod)
			if ps, ok := tt.plugin.(PreScorePlugin); ok {
				require.False(t, ps.PreScore(context.Background(), state, pi, snap.Nodes).IsSkip())
			}
			scores := make([]NodeScore, len(snap.Nodes))
			for i, ni := range snap.Nodes {
				s, st := tt.plugin.Score(context.Background(), state, pi, ni)
				require.True(t, st.IsSuccess())
				scores[i] = NodeScore{Name: ni.Node.Name, Score: s}
			}
			if nz, ok := tt.plugin.(ScoreNormalizer); ok {
				require.True(t, nz.NormalizeScore(context.Background(), state, pi, scores).IsSuccess())
			}
			best := scores[0]
			for _, s := range scores[1:] {
				assert.NotEqual(t, best.Score, s.Score, "scores %v", scores)
				if s.Score > best.Score {
					best = s
				}
			}
			for _, s := range scores {
				assert.True(t, s.Score >= 0 && s.Score <= MaxNodeScore, "score %v out of range", s)
			}
			assert.Equal(t, tt.best, best.Name, "scores %v", scores)
		})
	}
}

func TestFitErrorMessage(t *testing.T) {
	nodes := []*core.Node{
		mkNode("cp1", "8", "8Gi", withTaint(core.TaintNodeControlPlane, "", core.TaintEffectNoSchedule)),
		mkNode("cp2", "8", "8Gi", withTaint(core.TaintNodeControlPlane, "", core.TaintEffectNoSchedule)),
		mkNode("w1", "1", "8Gi"),
	}
	_, err := schedule(t, nodes, nil, mkPod("p", "2", "1Gi"))
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrUnschedulable))
	assert.Equal(t, "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }.", err.Error())
	var fe *FitError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, []string{NodeResourcesFitName, TaintTolerationName}, fe.UnschedulablePlugins())

	_, err = schedule(t, nil, nil, mkPod("p", "2", "1Gi"))
	assert.EqualError(t, err, "0/0 nodes are available: no nodes available to schedule pods.")
}

func TestProfileErrors(t *testing.T) {
	reg := DefaultRegistry()
	_, err := NewProfile(ProfileConfig{Plugins: []PluginConfig{{Name: "Nope"}}}, reg, ProfileOptions{})
	assert.ErrorIs(t, err, ErrUnknownPlugin)
	_, err = NewProfile(ProfileConfig{Plugins: []PluginConfig{{Name: NodeNameName}, {Name: NodeNameName}}}, reg, ProfileOptions{})
	assert.ErrorIs(t, err, ErrInvalidProfile)
	_, err = NewProfile(ProfileConfig{Plugins: []PluginConfig{{Name: NodeResourcesFitName, Args: FitArgs{ScoringStrategy: "Random"}}}}, reg, ProfileOptions{})
	assert.ErrorIs(t, err, ErrInvalidProfile)
	_, err = NewProfile(ProfileConfig{PercentageOfNodesToScore: 101}, reg, ProfileOptions{})
	assert.ErrorIs(t, err, ErrInvalidProfile)
}

func TestNumFeasibleNodesToFind(t *testing.T) {
	for _, tt := range []struct {
		pct       int32
		all, want int
	}{
		{0, 50, 50}, {0, 100, 50 * 100 / 100}, {0, 1000, 420}, {0, 5000, 500}, {0, 6000, 300}, {0, 100000, 5000}, {10, 500, 100}, {100, 5000, 5000}, {30, 1000, 300},
	} {
		got := numFeasibleNodesToFind(tt.pct, tt.all)
		want := tt.want
		if want < MinFeasibleNodesToFind && tt.all >= MinFeasibleNodesToFind {
			want = MinFeasibleNodesToFind
		}
		assert.Equal(t, want, got, "pct %d of %d", tt.pct, tt.all)
	}
}

func TestScheduleDeterministicWithSeed(t *testing.T) {
	var nodes []*core.Node
	for i := range 300 {
		nodes = append(nodes, mkNode("n"+string(rune('a'+i%26))+string(rune('a'+i/26)), "4", "8Gi"))
	}
	run := func() []string {
		p := defaultProfile(t)
		snap := NewSnapshot(nodes, nil)
		rng := newRNG(7)
		var out []string
		for i := range 50 {
			res, err := p.Schedule(context.Background(), NewCycleState(), NewPodInfo(mkPod("p"+string(rune('a'+i)), "100m", "100Mi")), snap, rng)
			require.NoError(t, err)
			out = append(out, res.NodeName)
		}
		return out
	}
	a, b := run(), run()
	assert.Equal(t, a, b)
	distinct := map[string]bool{}
	for _, n := range a {
		distinct[n] = true
	}
	assert.Greater(t, len(distinct), 10, "ties are broken at random, not always the first node")
}

func TestNominatedPodsHoldTheirRoom(t *testing.T) {
	nodes := []*core.Node{mkNode("n1", "2", "4Gi")}
	snap := NewSnapshot(nodes, nil)
	preemptor := mkPod("preemptor", "1500m", "", priority(100))
	preemptor.UID = "u-preemptor"
	snap.Nominated = map[string][]*PodInfo{"n1": {NewPodInfo(preemptor)}}
	p := defaultProfile(t)
	_, err := p.Schedule(context.Background(), NewCycleState(), NewPodInfo(mkPod("low", "1", "", priority(1))), snap, newRNG(1))
	require.ErrorIs(t, err, ErrUnschedulable, "a lower-priority pod may not take the nominated room")
	res, err := p.Schedule(context.Background(), NewCycleState(), NewPodInfo(mkPod("higher", "1", "", priority(200))), snap, newRNG(1))
	require.NoError(t, err, "a higher-priority pod may")
	require.Equal(t, "n1", res.NodeName)
	res, err = p.Schedule(context.Background(), NewCycleState(), NewPodInfo(preemptor), snap, newRNG(1))
	require.NoError(t, err, "the nominated pod itself fits")
	require.Equal(t, "n1", res.NodeName)
}
