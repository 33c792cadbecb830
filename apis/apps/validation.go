package apps

import (
	"slices"
	"strconv"
	"strings"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/apis/field"
	"github.com/gantry-sdk/gantry/apis/labels"
)

var (
	metadataPath = field.NewPath("metadata")
	specPath     = field.NewPath("spec")
)

// ValidateSelectorAndTemplate checks a workload's selector (required,
// non-empty, valid) and that its pod template's labels match it; the error
// names spec.template.metadata.labels, as Kubernetes does.
func ValidateSelectorAndTemplate(sel *apis.LabelSelector, tmpl *core.PodTemplateSpec, sp *field.Path) field.ErrorList {
	if sel == nil {
		return field.ErrorList{field.Required(sp.Child("selector"), "")}
	}
	errs := apis.ValidateLabelSelector(sel, sp.Child("selector"))
	if len(sel.MatchLabels)+len(sel.MatchExpressions) == 0 {
		errs = append(errs, field.Invalid(sp.Child("selector"), "", "empty selector is invalid for this workload"))
	}
	if len(errs) > 0 {
		return errs
	}
	s, err := labels.FromLabelSelector(sel)
	if err != nil {
		return field.ErrorList{field.Invalid(sp.Child("selector"), "", err.Error())}
	}
	if !s.Matches(labels.Set(tmpl.Labels)) {
		errs = append(errs, field.Invalid(sp.Child("template", "metadata", "labels"), labels.Set(tmpl.Labels).String(), "`selector` does not match template `labels`"))
	}
	return errs
}

// validateWorkloadTemplate checks a template whose pods must restart Always.
func validateWorkloadTemplate(t *core.PodTemplateSpec, sp *field.Path) field.ErrorList {
	tp := sp.Child("template")
	errs := core.ValidatePodTemplateSpec(t, tp)
	return append(errs, core.ValidateTemplateRestartPolicy(&t.Spec, tp.Child("spec"), core.RestartPolicyAlways)...)
}

// ValidateIntOrPercent checks a count (≥ 0) or a percentage ("25%", ≤ 100%
// when capped).
func ValidateIntOrPercent(v *apis.IntOrString, capped bool, p *field.Path) field.ErrorList {
	if v == nil {
		return nil
	}
	if v.Type == apis.TypeInt {
		return apis.ValidateNonnegative(v.IntVal, p)
	}
	if !v.IsPercent() {
		return field.ErrorList{field.Invalid(p, v.StrVal, "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%')")}
	}
	n, _ := strconv.Atoi(strings.TrimSuffix(v.StrVal, "%"))
	if capped && n > 100 {
		return field.ErrorList{field.Invalid(p, v.StrVal, "must not be greater than 100%")}
	}
	return nil
}

func isZeroIntOrPercent(v *apis.IntOrString) bool {
	if v == nil {
		return true
	}
	n, err := v.ScaledValue(100, true)
	return err == nil && n == 0
}

func validateReplicas(r *int32, p *field.Path) field.ErrorList {
	if r == nil {
		return nil
	}
	return apis.ValidateNonnegative(*r, p)
}

func validateHistoryLimit(r *int32, p *field.Path) field.ErrorList {
	if r == nil {
		return nil
	}
	return apis.ValidateNonnegative(*r, p)
}

// ValidateDeployment checks a Deployment: replicas ≥ 0, selector matching
// the template, the template, the strategy and its bounds, and the timing
// fields.
func ValidateDeployment(d *Deployment) field.ErrorList {
	errs := apis.ValidateObjectMeta(&d.ObjectMeta, true, apis.IsDNS1123Subdomain, metadataPath)
	s := &d.Spec
	errs = append(errs, validateReplicas(s.Replicas, specPath.Child("replicas"))...)
	errs = append(errs, ValidateSelectorAndTemplate(s.Selector, &s.Template, specPath)...)
	errs = append(errs, validateWorkloadTemplate(&s.Template, specPath)...)
	errs = append(errs, apis.ValidateNonnegative(s.MinReadySeconds, specPath.Child("minReadySeconds"))...)
	errs = append(errs, validateHistoryLimit(s.RevisionHistoryLimit, specPath.Child("revisionHistoryLimit"))...)
	if pd := s.ProgressDeadlineSeconds; pd != nil {
		if *pd < 0 {
			errs = append(errs, apis.ValidateNonnegative(*pd, specPath.Child("progressDeadlineSeconds"))...)
		} else if *pd <= s.MinReadySeconds {
			errs = append(errs, field.Invalid(specPath.Child("progressDeadlineSeconds"), *pd, "must be greater than minReadySeconds"))
		}
	}
	sp := specPath.Child("strategy")
	switch s.Strategy.Type {
	case RecreateDeploymentStrategyType:
		if s.Strategy.RollingUpdate != nil {
			errs = append(errs, field.Forbidden(sp.Child("rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'"))
		}
	case RollingUpdateDeploymentStrategyType:
		if ru := s.Strategy.RollingUpdate; ru != nil {
			rp := sp.Child("rollingUpdate")
			errs = append(errs, ValidateIntOrPercent(ru.MaxUnavailable, true, rp.Child("maxUnavailable"))...)
			errs = append(errs, ValidateIntOrPercent(ru.MaxSurge, false, rp.Child("maxSurge"))...)
			if isZeroIntOrPercent(ru.MaxUnavailable) && isZeroIntOrPercent(ru.MaxSurge) {
				errs = append(errs, field.Invalid(rp.Child("maxUnavailable"), iosString(ru.MaxUnavailable), "may not be 0 when `maxSurge` is 0"))
			}
		}
	case "":
		errs = append(errs, field.Required(sp.Child("type"), ""))
	default:
		errs = append(errs, field.NotSupported(sp.Child("type"), string(s.Strategy.Type), []string{string(RecreateDeploymentStrategyType), string(RollingUpdateDeploymentStrategyType)}))
	}
	return errs
}

// validateSelectorImmutable reports a changed selector (immutable in apps/v1).
func validateSelectorImmutable(sel, old *apis.LabelSelector) field.ErrorList {
	if !apis.SemanticEqual(sel, old) {
		return field.ErrorList{field.Invalid(specPath.Child("selector"), selectorString(sel), "field is immutable")}
	}
	return nil
}

func selectorString(sel *apis.LabelSelector) string {
	s, err := labels.FromLabelSelector(sel)
	if err != nil || labels.IsNothing(s) {
		return ""
	}
	return s.String()
}

// ValidateDeploymentUpdate keeps the selector.
func ValidateDeploymentUpdate(d, old *Deployment) field.ErrorList {
	return validateSelectorImmutable(d.Spec.Selector, old.Spec.Selector)
}

// ValidateReplicaSet checks replicas, selector, and template.
func ValidateReplicaSet(rs *ReplicaSet) field.ErrorList {
	errs := apis.ValidateObjectMeta(&rs.ObjectMeta, true, apis.IsDNS1123Subdomain, metadataPath)
	s := &rs.Spec
	errs = append(errs, validateReplicas(s.Replicas, specPath.Child("replicas"))...)
	errs = append(errs, apis.ValidateNonnegative(s.MinReadySeconds, specPath.Child("minReadySeconds"))...)
	errs = append(errs, ValidateSelectorAndTemplate(s.Selector, &s.Template, specPath)...)
	return append(errs, validateWorkloadTemplate(&s.Template, specPath)...)
}

// ValidateReplicaSetUpdate keeps the selector.
func ValidateReplicaSetUpdate(rs, old *ReplicaSet) field.ErrorList {
	return validateSelectorImmutable(rs.Spec.Selector, old.Spec.Selector)
}

// ValidateStatefulSet checks replicas, selector, template, the pod
// management and update policies, claim templates and ordinals.
func ValidateStatefulSet(ss *StatefulSet) field.ErrorList {
	errs := apis.ValidateObjectMeta(&ss.ObjectMeta, true, apis.IsDNS1123Subdomain, metadataPath)
	s := &ss.Spec
	errs = append(errs, validateReplicas(s.Replicas, specPath.Child("replicas"))...)
	errs = append(errs, apis.ValidateNonnegative(s.MinReadySeconds, specPath.Child("minReadySeconds"))...)
	errs = append(errs, validateHistoryLimit(s.RevisionHistoryLimit, specPath.Child("revisionHistoryLimit"))...)
	errs = append(errs, ValidateSelectorAndTemplate(s.Selector, &s.Template, specPath)...)
	errs = append(errs, validateWorkloadTemplate(withClaimVolumes(&s.Template, s.VolumeClaimTemplates), specPath)...)
	if s.ServiceName != "" {
		for _, msg := range apis.IsDNS1123Label(s.ServiceName) {
			errs = append(errs, field.Invalid(specPath.Child("serviceName"), s.ServiceName, msg))
		}
	}
	switch s.PodManagementPolicy {
	case OrderedReadyPodManagement, ParallelPodManagement:
	case "":
		errs = append(errs, field.Required(specPath.Child("podManagementPolicy"), ""))
	default:
		errs = append(errs, field.NotSupported(specPath.Child("podManagementPolicy"), string(s.PodManagementPolicy), []string{string(OrderedReadyPodManagement), string(ParallelPodManagement)}))
	}
	up := specPath.Child("updateStrategy")
	switch s.UpdateStrategy.Type {
	case OnDeleteStatefulSetStrategyType:
		if s.UpdateStrategy.RollingUpdate != nil {
			errs = append(errs, field.Invalid(up.Child("rollingUpdate"), "", "only allowed for updateStrategy 'RollingUpdate'"))
		}
	case RollingUpdateStatefulSetStrategyType:
		if ru := s.UpdateStrategy.RollingUpdate; ru != nil {
			rp := up.Child("rollingUpdate")
			if ru.Partition != nil {
				errs = append(errs, apis.ValidateNonnegative(*ru.Partition, rp.Child("partition"))...)
			}
			if mu := ru.MaxUnavailable; mu != nil {
				errs = append(errs, ValidateIntOrPercent(mu, true, rp.Child("maxUnavailable"))...)
				if isZeroIntOrPercent(mu) {
					errs = append(errs, field.Invalid(rp.Child("maxUnavailable"), iosString(mu), "must be greater than 0"))
				}
			}
		}
	case "":
		errs = append(errs, field.Required(up.Child("type"), ""))
	default:
		errs = append(errs, field.NotSupported(up.Child("type"), string(s.UpdateStrategy.Type), []string{string(RollingUpdateStatefulSetStrategyType), string(OnDeleteStatefulSetStrategyType)}))
	}
	names := map[string]bool{}
	for i := range s.VolumeClaimTemplates {
		t := &s.VolumeClaimTemplates[i]
		p := specPath.Child("volumeClaimTemplates").Index(i)
		if t.Name == "" {
			errs = append(errs, field.Required(p.Child("metadata", "name"), ""))
		} else {
			for _, msg := range apis.IsDNS1123Subdomain(t.Name) {
				errs = append(errs, field.Invalid(p.Child("metadata", "name"), t.Name, msg))
			}
			if names[t.Name] {
				errs = append(errs, field.Duplicate(p.Child("metadata", "name"), t.Name))
			}
			names[t.Name] = true
		}
		errs = append(errs, core.ValidatePersistentVolumeClaimSpec(&t.Spec, p.Child("spec"))...)
	}
	if rp := s.PersistentVolumeClaimRetentionPolicy; rp != nil {
		valid := []string{string(RetainPersistentVolumeClaimRetentionPolicyType), string(DeletePersistentVolumeClaimRetentionPolicyType)}
		pp := specPath.Child("persistentVolumeClaimRetentionPolicy")
		for _, f := range []struct {
			name string
			v    PersistentVolumeClaimRetentionPolicyType
		}{{"whenDeleted", rp.WhenDeleted}, {"whenScaled", rp.WhenScaled}} {
			if f.v != RetainPersistentVolumeClaimRetentionPolicyType && f.v != DeletePersistentVolumeClaimRetentionPolicyType {
				errs = append(errs, field.NotSupported(pp.Child(f.name), string(f.v), valid))
			}
		}
	}
	if o := s.Ordinals; o != nil {
		errs = append(errs, apis.ValidateNonnegative(o.Start, specPath.Child("ordinals", "start"))...)
	}
	return errs
}

// ValidateStatefulSetUpdate allows changes only to replicas, ordinals,
// template, updateStrategy, persistentVolumeClaimRetentionPolicy,
// minReadySeconds and revisionHistoryLimit, as Kubernetes does.
func ValidateStatefulSetUpdate(ss, old *StatefulSet) field.ErrorList {
	errs := validateSelectorImmutable(ss.Spec.Selector, old.Spec.Selector)
	mutated := ss.Spec
	mutated.Replicas = old.Spec.Replicas
	mutated.Ordinals = old.Spec.Ordinals
	mutated.Template = old.Spec.Template
	mutated.UpdateStrategy = old.Spec.UpdateStrategy
	mutated.PersistentVolumeClaimRetentionPolicy = old.Spec.PersistentVolumeClaimRetentionPolicy
	mutated.MinReadySeconds = old.Spec.MinReadySeconds
	mutated.RevisionHistoryLimit = old.Spec.RevisionHistoryLimit
	mutated.Selector = old.Spec.Selector
	if !apis.SemanticEqual(mutated, old.Spec) {
		errs = append(errs, field.Forbidden(specPath, "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy', 'revisionHistoryLimit' and 'minReadySeconds' are forbidden"))
	}
	return errs
}

// ValidateDaemonSet checks selector, template and update strategy.
func ValidateDaemonSet(ds *DaemonSet) field.ErrorList {
	errs := apis.ValidateObjectMeta(&ds.ObjectMeta, true, apis.IsDNS1123Subdomain, metadataPath)
	s := &ds.Spec
	errs = append(errs, ValidateSelectorAndTemplate(s.Selector, &s.Template, specPath)...)
	errs = append(errs, validateWorkloadTemplate(&s.Template, specPath)...)
	errs = append(errs, apis.ValidateNonnegative(s.MinReadySeconds, specPath.Child("minReadySeconds"))...)
	errs = append(errs, validateHistoryLimit(s.RevisionHistoryLimit, specPath.Child("revisionHistoryLimit"))...)
	up := specPath.Child("updateStrategy")
	switch s.UpdateStrategy.Type {
	case OnDeleteDaemonSetStrategyType:
	case RollingUpdateDaemonSetStrategyType:
		if ru := s.UpdateStrategy.RollingUpdate; ru != nil {
			rp := up.Child("rollingUpdate")
			errs = append(errs, ValidateIntOrPercent(ru.MaxUnavailable, true, rp.Child("maxUnavailable"))...)
			errs = append(errs, ValidateIntOrPercent(ru.MaxSurge, true, rp.Child("maxSurge"))...)
			zu, zs := isZeroIntOrPercent(ru.MaxUnavailable), isZeroIntOrPercent(ru.MaxSurge)
			switch {
			case zu && zs:
				errs = append(errs, field.Invalid(rp.Child("maxUnavailable"), iosString(ru.MaxUnavailable), "may not be 0 when `maxSurge` is 0"))
			case !zu && !zs:
				errs = append(errs, field.Invalid(rp.Child("maxSurge"), iosString(ru.MaxSurge), "may not be set when maxUnavailable is non-zero"))
			}
		}
	case "":
		errs = append(errs, field.Required(up.Child("type"), ""))
	default:
		errs = append(errs, field.NotSupported(up.Child("type"), string(s.UpdateStrategy.Type), []string{string(RollingUpdateDaemonSetStrategyType), string(OnDeleteDaemonSetStrategyType)}))
	}
	return errs
}

// ValidateDaemonSetUpdate keeps the selector.
func ValidateDaemonSetUpdate(ds, old *DaemonSet) field.ErrorList {
	return validateSelectorImmutable(ds.Spec.Selector, old.Spec.Selector)
}

// ValidateControllerRevision checks the revision number.
func ValidateControllerRevision(r *ControllerRevision) field.ErrorList {
	errs := apis.ValidateObjectMeta(&r.ObjectMeta, true, apis.IsDNS1123Subdomain, metadataPath)
	if r.Revision < 0 {
		errs = append(errs, field.Invalid(field.NewPath("revision"), r.Revision, "must be greater than or equal to 0"))
	}
	return errs
}

// ValidateControllerRevisionUpdate keeps the data: a revision is a snapshot.
func ValidateControllerRevisionUpdate(r, old *ControllerRevision) field.ErrorList {
	if string(r.Data) != string(old.Data) {
		return field.ErrorList{field.Invalid(field.NewPath("data"), "", "field is immutable")}
	}
	return nil
}

func iosString(v *apis.IntOrString) string {
	if v == nil {
		return ""
	}
	return v.String()
}

// withClaimVolumes returns the template with a volume for each claim template
// it does not already name, so that its containers may mount the claims (the
// StatefulSet controller adds these volumes to every pod it creates).
func withClaimVolumes(t *core.PodTemplateSpec, claims []core.PersistentVolumeClaim) *core.PodTemplateSpec {
	if len(claims) == 0 {
		return t
	}
	out := *t
	out.Spec.Volumes = slices.Clone(t.Spec.Volumes)
	for _, c := range claims {
		// Claims with bad names are reported at volumeClaimTemplates, not twice.
		if len(apis.IsDNS1123Label(c.Name)) > 0 || slices.ContainsFunc(out.Spec.Volumes, func(v core.Volume) bool { return v.Name == c.Name }) {
			continue
		}
		out.Spec.Volumes = append(out.Spec.Volumes, core.Volume{Name: c.Name, VolumeSource: core.VolumeSource{
			PersistentVolumeClaim: &core.PersistentVolumeClaimVolumeSource{ClaimName: c.Name},
		}})
	}
	return &out
}
