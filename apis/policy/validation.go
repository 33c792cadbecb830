package policy

import (
	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/apps"
	"github.com/gantry-sdk/gantry/apis/field"
)

// ValidatePodDisruptionBudget checks the spec (not both minAvailable and
// maxUnavailable; each a count ≥ 0 or a percentage ≤ 100%; a valid
// selector; a known eviction policy) and the status counts (≥ 0).
func ValidatePodDisruptionBudget(pdb *PodDisruptionBudget) field.ErrorList {
	errs := apis.ValidateObjectMeta(&pdb.ObjectMeta, true, apis.IsDNS1123Subdomain, field.NewPath("metadata"))
	sp := field.NewPath("spec")
	s := &pdb.Spec
	if s.MinAvailable != nil && s.MaxUnavailable != nil {
		errs = append(errs, field.Invalid(sp, "minAvailable and maxUnavailable", "minAvailable and maxUnavailable cannot be both set"))
	}
	errs = append(errs, apps.ValidateIntOrPercent(s.MinAvailable, true, sp.Child("minAvailable"))...)
	errs = append(errs, apps.ValidateIntOrPercent(s.MaxUnavailable, true, sp.Child("maxUnavailable"))...)
	errs = append(errs, apis.ValidateLabelSelector(s.Selector, sp.Child("selector"))...)
	if p := s.UnhealthyPodEvictionPolicy; p != nil && *p != IfHealthyBudget && *p != AlwaysAllow {
		errs = append(errs, field.NotSupported(sp.Child("unhealthyPodEvictionPolicy"), string(*p), []string{string(IfHealthyBudget), string(AlwaysAllow)}))
	}
	st := field.NewPath("status")
	errs = append(errs, apis.ValidateNonnegative(pdb.Status.DisruptionsAllowed, st.Child("disruptionsAllowed"))...)
	errs = append(errs, apis.ValidateNonnegative(pdb.Status.CurrentHealthy, st.Child("currentHealthy"))...)
	errs = append(errs, apis.ValidateNonnegative(pdb.Status.DesiredHealthy, st.Child("desiredHealthy"))...)
	errs = append(errs, apis.ValidateNonnegative(pdb.Status.ExpectedPods, st.Child("expectedPods"))...)
	return errs
}

// GroupVersion is policy/v1.
var GroupVersion = apis.GroupVersion{Group: "policy", Version: "v1"}

// AddToScheme registers PodDisruptionBudget (short name pdb).
func AddToScheme(s *apis.Scheme) error {
	return apis.Register[PodDisruptionBudget](s, apis.Kind[*PodDisruptionBudget]{
		GroupVersionKind: GroupVersion.WithKind("PodDisruptionBudget"), Resource: "poddisruptionbudgets", ShortNames: []string{"pdb"},
		Validate: ValidatePodDisruptionBudget,
	})
}
