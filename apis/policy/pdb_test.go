package policy

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/field"
	"github.com/gantry-sdk/gantry/apis/field/fieldtest"
)

func ptr[T any](v T) *T { return &v }

func validPDB() *PodDisruptionBudget {
	return &PodDisruptionBudget{
		ObjectMeta: apis.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: PodDisruptionBudgetSpec{
			MinAvailable: ptr(apis.IntOrStringFromString("50%")),
			Selector:     &apis.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
		},
	}
}

func TestValidatePodDisruptionBudget(t *testing.T) {
	assert.Empty(t, ValidatePodDisruptionBudget(validPDB()))
	tests := []struct {
		name string
		edit func(*PodDisruptionBudget)
		path string
		typ  field.Type
	}{
		{"both set", func(p *PodDisruptionBudget) { p.Spec.MaxUnavailable = ptr(apis.IntOrStringFromInt(1)) }, "spec", field.TypeInvalid},
		{"negative minAvailable", func(p *PodDisruptionBudget) { p.Spec.MinAvailable = ptr(apis.IntOrStringFromInt(-1)) }, "spec.minAvailable", field.TypeInvalid},
		{"over 100%", func(p *PodDisruptionBudget) { p.Spec.MinAvailable = ptr(apis.IntOrStringFromString("101%")) }, "spec.minAvailable", field.TypeInvalid},
		{"not a percent", func(p *PodDisruptionBudget) {
			p.Spec.MinAvailable = nil
			p.Spec.MaxUnavailable = ptr(apis.IntOrStringFromString("half"))
		}, "spec.maxUnavailable", field.TypeInvalid},
		{"bad selector", func(p *PodDisruptionBudget) {
			p.Spec.Selector.MatchExpressions = []apis.LabelSelectorRequirement{{Key: "tier", Operator: apis.LabelSelectorOpIn}}
		}, "spec.selector.matchExpressions[0].values", field.TypeRequired},
		{"unknown eviction policy", func(p *PodDisruptionBudget) {
			p.Spec.UnhealthyPodEvictionPolicy = ptr(UnhealthyPodEvictionPolicyType("Sometimes"))
		}, "spec.unhealthyPodEvictionPolicy", field.TypeNotSupported},
		{"negative disruptionsAllowed", func(p *PodDisruptionBudget) { p.Status.DisruptionsAllowed = -1 }, "status.disruptionsAllowed", field.TypeInvalid},
		{"negative expectedPods", func(p *PodDisruptionBudget) { p.Status.ExpectedPods = -2 }, "status.expectedPods", field.TypeInvalid},
		{"no name", func(p *PodDisruptionBudget) { p.Name = "" }, "metadata.name", field.TypeRequired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := validPDB()
			tt.edit(p)
			fieldtest.ExpectOnly(t, ValidatePodDisruptionBudget(p), tt.path, tt.typ)
		})
	}
	for _, ok := range []func(*PodDisruptionBudget){
		func(p *PodDisruptionBudget) { p.Spec.MinAvailable = ptr(apis.IntOrStringFromInt(0)) },
		func(p *PodDisruptionBudget) {
			p.Spec.MinAvailable = nil
			p.Spec.MaxUnavailable = ptr(apis.IntOrStringFromString("100%"))
		},
		func(p *PodDisruptionBudget) { p.Spec.Selector = &apis.LabelSelector{} },
		func(p *PodDisruptionBudget) { p.Spec.UnhealthyPodEvictionPolicy = ptr(AlwaysAllow) },
	} {
		p := validPDB()
		ok(p)
		assert.Empty(t, ValidatePodDisruptionBudget(p))
	}
}

func TestPodDisruptionBudgetJSON(t *testing.T) {
	p := validPDB()
	p.Spec.UnhealthyPodEvictionPolicy = ptr(IfHealthyBudget)
	p.Status = PodDisruptionBudgetStatus{ObservedGeneration: 2, DisruptionsAllowed: 1, CurrentHealthy: 3, DesiredHealthy: 2, ExpectedPods: 3,
		DisruptedPods: map[string]apis.Time{"web-1": apis.NewTime(time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC))}}
	b, err := json.Marshal(struct {
		Spec   PodDisruptionBudgetSpec   `json:"spec"`
		Status PodDisruptionBudgetStatus `json:"status"`
	}{p.Spec, p.Status})
	require.NoError(t, err)
	assert.JSONEq(t, `{
		"spec": {"minAvailable": "50%", "selector": {"matchLabels": {"app": "web"}}, "unhealthyPodEvictionPolicy": "IfHealthyBudget"},
		"status": {"observedGeneration": 2, "disruptedPods": {"web-1": "2026-11-22T00:00:00Z"}, "disruptionsAllowed": 1,
			"currentHealthy": 3, "desiredHealthy": 2, "expectedPods": 3}}`, string(b))

	s := apis.NewScheme()
	require.NoError(t, AddToScheme(s))
	k, err := s.ByResource("pdb")
	require.NoError(t, err)
	assert.Equal(t, "policy/v1, Kind=PodDisruptionBudget", k.GVK.String())
	assert.True(t, k.Namespaced())
	assert.True(t, k.HasStatus())
}
