package coordination

import (
	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/field"
)

// ValidateLease checks the duration (> 0) and transitions (≥ 0).
func ValidateLease(l *Lease) field.ErrorList {
	errs := apis.ValidateObjectMeta(&l.ObjectMeta, true, apis.IsDNS1123Subdomain, field.NewPath("metadata"))
	sp := field.NewPath("spec")
	if d := l.Spec.LeaseDurationSeconds; d != nil && *d <= 0 {
		errs = append(errs, field.Invalid(sp.Child("leaseDurationSeconds"), *d, "must be greater than 0"))
	}
	if t := l.Spec.LeaseTransitions; t != nil && *t < 0 {
		errs = append(errs, field.Invalid(sp.Child("leaseTransitions"), *t, "must be greater than or equal to 0"))
	}
	if s := l.Spec.Strategy; s != nil && *s != "OldestEmulationVersion" {
		errs = append(errs, field.NotSupported(sp.Child("strategy"), *s, []string{"OldestEmulationVersion"}))
	}
	return errs
}

// GroupVersion is coordination.k8s.io/v1.
var GroupVersion = apis.GroupVersion{Group: "coordination.k8s.io", Version: "v1"}

// AddToScheme registers Lease.
func AddToScheme(s *apis.Scheme) error {
	return apis.Register[Lease](s, apis.Kind[*Lease]{
		GroupVersionKind: GroupVersion.WithKind("Lease"), Resource: "leases",
		Validate: ValidateLease,
		Fields: func(l *Lease) map[string]string {
			h := ""
			if l.Spec.HolderIdentity != nil {
				h = *l.Spec.HolderIdentity
			}
			return map[string]string{"spec.holderIdentity": h}
		},
	})
}
