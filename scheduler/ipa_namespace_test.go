package scheduler

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/apis/labels"
	"github.com/gantry-sdk/gantry/store"
)

var testNamespaces = map[string]labels.Set{
	"prod":    {"env": "prod", "team": "a"},
	"staging": {"env": "staging", "team": "a"},
	"default": {},
}

func inNamespace(ns string) podOpt { return func(p *core.Pod) { p.Namespace = ns } }

// term builds a PodAffinityTerm for app=db on hostname with the given namespaces.
func term(namespaces []string, nsSel *apis.LabelSelector) core.PodAffinityTerm {
	return core.PodAffinityTerm{LabelSelector: selector("app", "db"), TopologyKey: core.LabelHostname, Namespaces: namespaces, NamespaceSelector: nsSel}
}

func withAntiTerm(t core.PodAffinityTerm) podOpt {
	return func(p *core.Pod) {
		p.Spec.Affinity = &core.Affinity{PodAntiAffinity: &core.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []core.PodAffinityTerm{t}}}
	}
}

func withAffinityTerm(t core.PodAffinityTerm) podOpt {
	return func(p *core.Pod) {
		p.Spec.Affinity = &core.Affinity{PodAffinity: &core.PodAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []core.PodAffinityTerm{t}}}
	}
}

// TestInterPodAffinityNamespaces checks which namespaces a term covers, as
// upstream: listed namespaces, plus those whose labels match the
// namespaceSelector; an empty selector is every namespace; no list and no
// selector is the pod's own namespace.
func TestInterPodAffinityNamespaces(t *testing.T) {
	envIn := func(v ...string) *apis.LabelSelector {
		return &apis.LabelSelector{MatchExpressions: []apis.LabelSelectorRequirement{{Key: "env", Operator: apis.LabelSelectorOpIn, Values: v}}}
	}
	nodes := []*core.Node{mkNode("n1", "2", "4Gi"), mkNode("n2", "2", "4Gi")}
	dbInProd := mkPod("db", "", "", inNamespace("prod"), onNode("n1"), podLabels("app", "db"))
	tests := []struct {
		name       string
		existing   *core.Pod
		pod        *core.Pod
		namespaces map[string]labels.Set
		want       Code // the filter's verdict on n1
	}{
		{"own namespace only", dbInProd, mkPod("p", "", "", withAntiTerm(term(nil, nil))), testNamespaces, Success},
		{"own namespace is prod", dbInProd, mkPod("p", "", "", inNamespace("prod"), withAntiTerm(term(nil, nil))), testNamespaces, Unschedulable},
		{"listed namespace", dbInProd, mkPod("p", "", "", withAntiTerm(term([]string{"staging", "prod"}, nil))), testNamespaces, Unschedulable},
		{"other listed namespace", dbInProd, mkPod("p", "", "", withAntiTerm(term([]string{"staging"}, nil))), testNamespaces, Success},
		{"empty selector is all namespaces", dbInProd, mkPod("p", "", "", withAntiTerm(term(nil, &apis.LabelSelector{}))), testNamespaces, Unschedulable},
		{"empty selector wins over a list", dbInProd, mkPod("p", "", "", withAntiTerm(term([]string{"staging"}, &apis.LabelSelector{}))), testNamespaces, Unschedulable},
		{"selector matches", dbInProd, mkPod("p", "", "", withAntiTerm(term(nil, envIn("prod")))), testNamespaces, Unschedulable},
		{"selector by another label", dbInProd, mkPod("p", "", "", withAntiTerm(term(nil, selector("team", "a")))), testNamespaces, Unschedulable},
		{"selector does not match", dbInProd, mkPod("p", "", "", withAntiTerm(term(nil, envIn("staging")))), testNamespaces, Success},
		{"selector does not add the own namespace", dbInProd, mkPod("p", "", "", inNamespace("prod"), withAntiTerm(term(nil, envIn("staging")))), testNamespaces, Success},
		{"list or selector", dbInProd, mkPod("p", "", "", withAntiTerm(term([]string{"staging"}, envIn("prod")))), testNamespaces, Unschedulable},
		{"unknown namespace labels match nothing", dbInProd, mkPod("p", "", "", withAntiTerm(term(nil, envIn("prod")))), nil, Success},
		{"existing pod's anti-affinity selects the incoming pod's namespace",
			mkPod("guard", "", "", inNamespace("staging"), onNode("n1"), withAntiTerm(term(nil, envIn("prod")))),
			mkPod("p", "", "", inNamespace("prod"), podLabels("app", "db")), testNamespaces, Unschedulable},
		{"existing pod's anti-affinity does not select it",
			mkPod("guard", "", "", inNamespace("staging"), onNode("n1"), withAntiTerm(term(nil, envIn("prod")))),
			mkPod("p", "", "", inNamespace("default"), podLabels("app", "db")), testNamespaces, Success},
		{"affinity through a namespace selector", dbInProd, mkPod("p", "", "", withAffinityTerm(term(nil, selector("team", "a")))), testNamespaces, Success},
		{"affinity misses without it", dbInProd, mkPod("p", "", "", withAffinityTerm(term(nil, nil))), testNamespaces, UnschedulableAndUnresolvable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap := NewSnapshot(nodes, []*core.Pod{tt.existing})
			snap.Namespaces = tt.namespaces
			state := NewCycleState()
			pi := NewPodInfo(tt.pod)
			require.NoError(t, pi.ParseErr)
			pl := InterPodAffinity{}
			st := pl.PreFilter(context.Background(), state, pi, snap)
			require.True(t, st.IsSuccess(), "%v", st.Reasons())
			n1, _ := snap.Get("n1")
			assert.Equal(t, tt.want, pl.Filter(context.Background(), state, pi, n1).Code())

			if a := tt.pod.Spec.Affinity; a != nil && a.PodAffinity != nil {
				return
			}
			// Preemption's view: without the existing pod, n1 fits.
			cs := state.Clone()
			ni := n1.Clone()
			victim := ni.Pods[0]
			ni.RemovePod(victim)
			pl.RemovePod(cs, pi, victim, ni)
			assert.True(t, pl.Filter(context.Background(), cs, pi, ni).IsSuccess())
		})
	}
}

// TestInterPodAffinityScoreNamespaceSelector: preferred terms count pods in
// the namespaces their selector picks, and only those.
func TestInterPodAffinityScoreNamespaceSelector(t *testing.T) {
	nodes := []*core.Node{mkNode("a", "4", "8Gi"), mkNode("b", "4", "8Gi")}
	pods := []*core.Pod{
		mkPod("db-staging", "", "", inNamespace("staging"), onNode("a"), podLabels("app", "db")),
		mkPod("db-prod", "", "", inNamespace("prod"), onNode("b"), podLabels("app", "db")),
	}
	for _, env := range []string{"staging", "prod"} {
		t.Run(env, func(t *testing.T) {
			pod := mkPod("p", "", "", func(p *core.Pod) {
				p.Spec.Affinity = &core.Affinity{PodAffinity: &core.PodAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []core.WeightedPodAffinityTerm{
					{Weight: 10, PodAffinityTerm: term(nil, selector("env", env))}}}}
			})
			snap := NewSnapshot(nodes, pods)
			snap.Namespaces = testNamespaces
			state := NewCycleState()
			state.Write(snapshotKey, &snapshotState{snap: snap})
			pi := NewPodInfo(pod)
			pl := InterPodAffinity{}
			require.True(t, pl.PreScore(context.Background(), state, pi, snap.Nodes).IsSuccess())
			scores := make([]NodeScore, len(snap.Nodes))
			for i, ni := range snap.Nodes {
				s, st := pl.Score(context.Background(), state, pi, ni)
				require.True(t, st.IsSuccess())
				scores[i] = NodeScore{Name: ni.Name(), Score: s}
			}
			require.True(t, pl.NormalizeScore(context.Background(), state, pi, scores).IsSuccess())
			want := map[string][]NodeScore{
				"staging": {{"a", MaxNodeScore}, {"b", 0}},
				"prod":    {{"a", 0}, {"b", MaxNodeScore}},
			}[env]
			assert.Equal(t, want, scores)
		})
	}
}

func TestAffinityTermParseErrorNamesSelector(t *testing.T) {
	bad := &apis.LabelSelector{MatchExpressions: []apis.LabelSelectorRequirement{{Key: "env", Operator: "Near"}}}
	pi := NewPodInfo(mkPod("p", "", "", withAntiTerm(term(nil, bad))))
	require.Error(t, pi.ParseErr)
	assert.Contains(t, pi.ParseErr.Error(), "spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].namespaceSelector: ")
	_, err := schedule(t, []*core.Node{mkNode("n1", "1", "1Gi")}, nil, mkPod("p", "", "", withAntiTerm(term(nil, bad))))
	assert.ErrorContains(t, err, "namespaceSelector")
}

func TestAffinityTermMatches(t *testing.T) {
	pod := mkPod("p", "", "", inNamespace("default"))
	sel := func(nss *apis.LabelSelector, list ...string) AffinityTerm {
		ct := term(list, nss)
		at, err := newAffinityTerm(pod, &ct, 0)
		require.NoError(t, err)
		return at
	}
	db := labels.Set{"app": "db"}
	tests := []struct {
		name string
		term AffinityTerm
		ns   string
		want bool
	}{
		{"own namespace", sel(nil), "default", true},
		{"other namespace", sel(nil), "prod", false},
		{"listed", sel(nil, "prod"), "prod", true},
		{"listed excludes own", sel(nil, "prod"), "default", false},
		{"empty selector", sel(&apis.LabelSelector{}), "anything", true},
		{"selector", sel(selector("env", "prod")), "prod", true},
		{"selector excludes own", sel(selector("env", "prod")), "default", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.term.Matches(tt.ns, testNamespaces[tt.ns], db))
			assert.Equal(t, tt.want, tt.term.match(tt.ns, testNamespaces, db))
			assert.False(t, tt.term.Matches(tt.ns, testNamespaces[tt.ns], labels.Set{"app": "web"}))
		})
	}
}

// TestScenarioNamespaceSelectorFollowsNamespaceLabels: a pod whose required
// affinity selects namespaces by label waits until a namespace gets the
// label, then joins the pod it selects there.
func TestScenarioNamespaceSelectorFollowsNamespaceLabels(t *testing.T) {
	c := newCluster(t, Options{})
	ctx := context.Background()
	nss := store.For[*core.Namespace](c.s)
	_, err := nss.Create(ctx, &core.Namespace{ObjectMeta: apis.ObjectMeta{Name: "prod"}}, store.WriteOptions{})
	require.NoError(t, err)
	c.addNode(mkNode("n1", "2", "4Gi"))
	c.addNode(mkNode("n2", "2", "4Gi"))
	c.addPod(mkPod("db", "", "", inNamespace("prod"), onNode("n2"), podLabels("app", "db")))
	c.addPod(mkPod("app", "", "", withAffinityTerm(term(nil, selector("env", "prod")))))
	c.waitEvent("app", "FailedScheduling", "0/2 nodes are available: 2 node(s) didn't match pod affinity rules.")

	ns, err := nss.Get(ctx, apis.Key{Name: "prod"}, store.GetOptions{})
	require.NoError(t, err)
	ns.Labels = map[string]string{"env": "prod"}
	_, err = nss.Update(ctx, ns, store.WriteOptions{})
	require.NoError(t, err)
	require.Equal(t, "n2", c.waitBound("app"))
}
