package storage

import (
	"strings"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/apis/field"
)

// DefaultStorageClass sets reclaimPolicy Delete and volumeBindingMode Immediate.
func DefaultStorageClass(c *StorageClass) {
	if c.ReclaimPolicy == nil {
		p := core.PersistentVolumeReclaimDelete
		c.ReclaimPolicy = &p
	}
	if c.VolumeBindingMode == nil {
		m := VolumeBindingImmediate
		c.VolumeBindingMode = &m
	}
}

// ValidateStorageClass checks the provisioner, parameters, reclaim policy,
// binding mode and topologies.
func ValidateStorageClass(c *StorageClass) field.ErrorList {
	errs := apis.ValidateObjectMeta(&c.ObjectMeta, false, apis.IsDNS1123Subdomain, field.NewPath("metadata"))
	pp := field.NewPath("provisioner")
	switch {
	case c.Provisioner == "":
		errs = append(errs, field.Required(pp, ""))
	case len(c.Provisioner) > 63:
		errs = append(errs, field.TooLong(pp, c.Provisioner, 63))
	default:
		for _, msg := range apis.IsQualifiedName(strings.ToLower(c.Provisioner)) {
			errs = append(errs, field.Invalid(pp, c.Provisioner, msg))
		}
	}
	for k := range c.Parameters {
		if k == "" {
			errs = append(errs, field.Invalid(field.NewPath("parameters"), k, "key must not be empty"))
		}
	}
	if rp := c.ReclaimPolicy; rp != nil && *rp != core.PersistentVolumeReclaimDelete && *rp != core.PersistentVolumeReclaimRetain {
		errs = append(errs, field.NotSupported(field.NewPath("reclaimPolicy"), string(*rp), []string{"Delete", "Retain"}))
	}
	if m := c.VolumeBindingMode; m != nil && *m != VolumeBindingImmediate && *m != VolumeBindingWaitForFirstConsumer {
		errs = append(errs, field.NotSupported(field.NewPath("volumeBindingMode"), string(*m), []string{"Immediate", "WaitForFirstConsumer"}))
	}
	for i, t := range c.AllowedTopologies {
		tp := field.NewPath("allowedTopologies").Index(i)
		if len(t.MatchLabelExpressions) == 0 {
			errs = append(errs, field.Required(tp.Child("matchLabelExpressions"), "must have at least one label expression"))
		}
		for j, e := range t.MatchLabelExpressions {
			ep := tp.Child("matchLabelExpressions").Index(j)
			for _, msg := range apis.IsQualifiedName(e.Key) {
				errs = append(errs, field.Invalid(ep.Child("key"), e.Key, msg))
			}
			if len(e.Values) == 0 {
				errs = append(errs, field.Required(ep.Child("values"), "must specify as least one value"))
			}
		}
	}
	return errs
}

// ValidateStorageClassUpdate keeps the provisioner, parameters, reclaim
// policy and binding mode, as Kubernetes does.
func ValidateStorageClassUpdate(c, old *StorageClass) field.ErrorList {
	var errs field.ErrorList
	if c.Provisioner != old.Provisioner {
		errs = append(errs, field.Forbidden(field.NewPath("provisioner"), "updates to provisioner are forbidden."))
	}
	if !apis.SemanticEqual(c.Parameters, old.Parameters) {
		errs = append(errs, field.Forbidden(field.NewPath("parameters"), "updates to parameters are forbidden."))
	}
	if !apis.SemanticEqual(c.ReclaimPolicy, old.ReclaimPolicy) {
		errs = append(errs, field.Forbidden(field.NewPath("reclaimPolicy"), "updates to reclaimPolicy are forbidden."))
	}
	if !apis.SemanticEqual(c.VolumeBindingMode, old.VolumeBindingMode) {
		errs = append(errs, field.Forbidden(field.NewPath("volumeBindingMode"), "field is immutable"))
	}
	return errs
}

// GroupVersion is storage.k8s.io/v1.
var GroupVersion = apis.GroupVersion{Group: "storage.k8s.io", Version: "v1"}

// AddToScheme registers StorageClass.
func AddToScheme(s *apis.Scheme) error {
	return apis.Register[StorageClass](s, apis.Kind[*StorageClass]{
		GroupVersionKind: GroupVersion.WithKind("StorageClass"), Resource: "storageclasses", ShortNames: []string{"sc"}, Scope: apis.ClusterScoped,
		Default: DefaultStorageClass, Validate: ValidateStorageClass, ValidateUpdate: ValidateStorageClassUpdate,
	})
}
