package scheduler

import (
	"cmp"
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/apis/policy"
	"github.com/gantry-sdk/gantry/store"
)

func startedAt(t time.Time) podOpt {
	return func(p *core.Pod) { p.Status.StartTime = &apis.Time{Time: t} }
}

func budget(ns string, allowed int32, sel *apis.LabelSelector, disrupted ...string) *policy.PodDisruptionBudget {
	pdb := &policy.PodDisruptionBudget{ObjectMeta: apis.ObjectMeta{Name: "pdb", Namespace: ns}, Spec: policy.PodDisruptionBudgetSpec{Selector: sel}}
	pdb.Status.DisruptionsAllowed = allowed
	for _, d := range disrupted {
		if pdb.Status.DisruptedPods == nil {
			pdb.Status.DisruptedPods = map[string]apis.Time{}
		}
		pdb.Status.DisruptedPods[d] = apis.NewTime(time.Unix(1e9, 0))
	}
	return pdb
}

// preempt runs a cycle that fails and then preemption; it returns the
// nominated node and the victims' names.
func preempt(t *testing.T, nodes []*core.Node, pods []*core.Pod, pdbs []*policy.PodDisruptionBudget, pod *core.Pod) (string, []string) {
	t.Helper()
	p := defaultProfile(t)
	snap := NewSnapshot(nodes, pods)
	snap.PodDisruptionBudgets = pdbs
	state := NewCycleState()
	pi := NewPodInfo(pod)
	_, err := p.Schedule(context.Background(), state, pi, snap, rand.New(rand.NewPCG(1, 2)))
	var fe *FitError
	require.True(t, errors.As(err, &fe), "want a FitError, got %v", err)
	res, st := p.RunPostFilter(context.Background(), state, pi, snap, fe.Statuses)
	if res == nil {
		return "", st.Reasons()
	}
	var victims []string
	for _, v := range res.Victims {
		victims = append(victims, v.Name)
	}
	slices.Sort(victims)
	return res.NominatedNode, victims
}

// TestPreemptionPicksNode checks the order of upstream's
// pickOneNodeForPreemption: fewest PodDisruptionBudget violations, lowest
// highest victim priority, lowest (shifted) sum of priorities, fewest
// victims, latest start of the highest-priority victims.
func TestPreemptionPicksNode(t *testing.T) {
	nodes := []*core.Node{mkNode("n1", "2", "4Gi"), mkNode("n2", "2", "4Gi")}
	t0 := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	web := selector("app", "web")
	lowWeb := mkPod("low-web", "2", "", onNode("n1"), priority(10), podLabels("app", "web"))
	mid := mkPod("mid", "2", "", onNode("n2"), priority(50))
	tests := []struct {
		name        string
		pods        []*core.Pod
		pdbs        []*policy.PodDisruptionBudget
		wantNode    string
		wantVictims []string
		// preemptor: cpu "2" and priority 100 unless set
		cpu  string
		prio int32
	}{
		{"no budgets: lowest priority", []*core.Pod{lowWeb, mid}, nil, "n1", []string{"low-web"}, "", 0},
		{"a violated budget outweighs priority", []*core.Pod{lowWeb, mid}, []*policy.PodDisruptionBudget{budget("default", 0, web)}, "n2", []string{"mid"}, "", 0},
		{"a budget with room is not violated", []*core.Pod{lowWeb, mid}, []*policy.PodDisruptionBudget{budget("default", 1, web)}, "n1", []string{"low-web"}, "", 0},
		{"already disrupted pods do not count", []*core.Pod{lowWeb, mid}, []*policy.PodDisruptionBudget{budget("default", 0, web, "low-web")}, "n1", []string{"low-web"}, "", 0},
		{"budgets of other namespaces", []*core.Pod{lowWeb, mid}, []*policy.PodDisruptionBudget{budget("prod", 0, web)}, "n1", []string{"low-web"}, "", 0},
		{"an empty selector protects nothing", []*core.Pod{lowWeb, mid}, []*policy.PodDisruptionBudget{budget("default", 0, &apis.LabelSelector{})}, "n1", []string{"low-web"}, "", 0},
		{"a nil selector protects nothing", []*core.Pod{lowWeb, mid}, []*policy.PodDisruptionBudget{budget("default", 0, nil)}, "n1", []string{"low-web"}, "", 0},
		{"fewer violations among violating nodes", []*core.Pod{
			mkPod("a1", "1", "", onNode("n1"), priority(10), podLabels("app", "web")),
			mkPod("a2", "1", "", onNode("n1"), priority(10), podLabels("app", "web")),
			mkPod("b1", "1", "", onNode("n2"), priority(20), podLabels("app", "web")),
			mkPod("b2", "1", "", onNode("n2"), priority(20)),
		}, []*policy.PodDisruptionBudget{budget("default", 0, web)}, "n2", []string{"b1", "b2"}, "", 0},
		{"lowest highest priority before count", []*core.Pod{
			mkPod("a1", "1", "", onNode("n1"), priority(10)),
			mkPod("a2", "1", "", onNode("n1"), priority(10)),
			mkPod("b", "2", "", onNode("n2"), priority(20)),
		}, nil, "n1", []string{"a1", "a2"}, "", 0},
		{"sum of priorities before count", []*core.Pod{
			mkPod("a1", "1", "", onNode("n1"), priority(1e9)),
			mkPod("a2", "1", "", onNode("n1"), priority(1e9)),
			mkPod("b1", "1", "", onNode("n2"), priority(1e9)),
			mkPod("b2", "500m", "", onNode("n2"), priority(-2e9)),
			mkPod("b3", "500m", "", onNode("n2"), priority(-2e9)),
		}, nil, "n2", []string{"b1", "b2", "b3"}, "", 2e9},
		{"latest start", []*core.Pod{
			mkPod("old", "2", "", onNode("n1"), priority(10), startedAt(t0)),
			mkPod("new", "2", "", onNode("n2"), priority(10), startedAt(t0.Add(time.Hour))),
		}, nil, "n2", []string{"new"}, "", 0},
		{"not started counts as latest", []*core.Pod{
			mkPod("old", "2", "", onNode("n1"), priority(10), startedAt(t0)),
			mkPod("pending", "2", "", onNode("n2"), priority(10)),
		}, nil, "n2", []string{"pending"}, "", 0},
		{"a protected pod is reprieved first", []*core.Pod{
			// Either pod alone makes room; the unprotected one goes even
			// though it has the higher priority.
			mkPod("guarded", "1", "", onNode("n1"), priority(5), podLabels("app", "web")),
			mkPod("free", "1", "", onNode("n1"), priority(8)),
			mkPod("big", "2", "", onNode("n2"), priority(90)),
		}, []*policy.PodDisruptionBudget{budget("default", 0, web)}, "n1", []string{"free"}, "1", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := mkPod("preemptor", cmp.Or(tt.cpu, "2"), "", priority(cmp.Or(tt.prio, 100)))
			node, victims := preempt(t, nodes, tt.pods, tt.pdbs, pod)
			assert.Equal(t, tt.wantNode, node, "victims %v", victims)
			assert.Equal(t, tt.wantVictims, victims)
		})
	}
}

func TestSplitByBudgetViolation(t *testing.T) {
	mk := func(name, app string) *PodInfo { return NewPodInfo(mkPod(name, "", "", podLabels("app", app))) }
	pods := []*PodInfo{mk("w1", "web"), mk("w2", "web"), mk("d1", "db"), mk("w3", "web")}
	budgets := parseBudgets([]*policy.PodDisruptionBudget{budget("default", 1, selector("app", "web"), "w2"), budget("default", 0, &apis.LabelSelector{})})
	violating, ok := splitByBudgetViolation(pods, budgets)
	names := func(ps []*PodInfo) (out []string) {
		for _, p := range ps {
			out = append(out, p.Pod.Name)
		}
		return out
	}
	// w1 takes the one disruption allowed, w2 is already disrupted, w3 is one too many.
	assert.Equal(t, []string{"w3"}, names(violating))
	assert.Equal(t, []string{"w1", "w2", "d1"}, names(ok))
}

// TestScenarioPreemptionHonoursPodDisruptionBudget: through the store, a
// PodDisruptionBudget with no disruptions allowed steers preemption to the
// node whose victims it does not protect.
func TestScenarioPreemptionHonoursPodDisruptionBudget(t *testing.T) {
	c := newCluster(t, Options{})
	ctx := context.Background()
	pdbs := store.For[*policy.PodDisruptionBudget](c.s)
	created, err := pdbs.Create(ctx, budget("default", 0, selector("app", "web")), store.WriteOptions{})
	require.NoError(t, err)
	created.Status.DisruptionsAllowed = 0
	created.Status.ExpectedPods = 1
	_, err = pdbs.UpdateStatus(ctx, created, store.WriteOptions{})
	require.NoError(t, err)
	c.addNode(mkNode("n1", "2", "4Gi"))
	c.addNode(mkNode("n2", "2", "4Gi"))
	c.addPod(mkPod("web", "2", "", priority(1), onNode("n1"), podLabels("app", "web")))
	c.addPod(mkPod("batch", "2", "", priority(50), onNode("n2")))
	// The scheduler must see the budget, both nodes and both pods before the preemptor.
	require.Eventually(t, func() bool {
		c.sched.cache.mu.Lock()
		defer c.sched.cache.mu.Unlock()
		nodes := 0
		for _, ni := range c.sched.cache.nodes {
			if ni.Node != nil {
				nodes++
			}
		}
		return len(c.sched.cache.pdbs) == 1 && len(c.sched.cache.pods) == 2 && nodes == 2
	}, 10*time.Second, 5*time.Millisecond)

	c.addPod(mkPod("urgent", "2", "", priority(100)))
	require.Equal(t, "n2", c.waitBound("urgent"))
	_, err = c.pods.Get(ctx, apis.Key{Namespace: "default", Name: "web"}, store.GetOptions{})
	require.NoError(t, err, "the budget-protected pod stays")
	c.waitEvent("batch", "Preempted", "")
}

// TestPreemptionWaitsForNominatedNode: a preemptor whose victims are still
// terminating on the node it was nominated to evicts nothing more, whether
// the nomination is in its status yet or only in the scheduler's record.
func TestPreemptionWaitsForNominatedNode(t *testing.T) {
	nodes := []*core.Node{mkNode("n1", "2", "4Gi"), mkNode("n2", "2", "4Gi")}
	now := apis.NewTime(time.Unix(1e9, 0))
	pods := []*core.Pod{
		mkPod("low", "2", "", onNode("n1"), priority(1)),
		mkPod("going", "2", "", onNode("n2"), priority(1), func(p *core.Pod) { p.DeletionTimestamp = &now }),
	}
	for _, inStatus := range []bool{true, false} {
		pod := mkPod("preemptor", "2", "", priority(100), func(p *core.Pod) { p.UID = "u1" })
		p := defaultProfile(t)
		snap := NewSnapshot(nodes, pods)
		if inStatus {
			pod.Status.NominatedNodeName = "n2"
		} else {
			nominated := *pod
			nominated.Status.NominatedNodeName = "n2"
			snap.Nominated = map[string][]*PodInfo{"n2": {NewPodInfo(&nominated)}}
		}
		state := NewCycleState()
		pi := NewPodInfo(pod)
		_, err := p.Schedule(context.Background(), state, pi, snap, rand.New(rand.NewPCG(1, 2)))
		var fe *FitError
		require.True(t, errors.As(err, &fe))
		res, st := p.RunPostFilter(context.Background(), state, pi, snap, fe.Statuses)
		assert.Nil(t, res, "in status: %v", inStatus)
		assert.Equal(t, []string{"not eligible due to a terminating pod on the nominated node."}, st.Reasons())
	}
}
