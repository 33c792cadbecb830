// Package apps holds the apps/v1 kinds: Deployment, ReplicaSet, StatefulSet,
// DaemonSet and ControllerRevision, with Kubernetes' defaults (Deployment:
// replicas 1, RollingUpdate 25%/25%, revisionHistoryLimit 10,
// progressDeadlineSeconds 600) and validation (replicas ≥ 0, a selector that
// the template's labels match, immutable selectors).
//
// # Usage
//
//	s := apis.NewScheme()
//	if err := apps.AddToScheme(s); err != nil { ... }
//
//	d := &apps.Deployment{ /* from a manifest */ }
//	apps.DefaultDeployment(d)
//	errs := apps.ValidateDeployment(d)  // spec.template.metadata.labels: Invalid value: ...
//
//	// Resolve the rolling update bounds for 10 replicas: 3 surge, 2 unavailable.
//	surge, _ := d.Spec.Strategy.RollingUpdate.MaxSurge.ScaledValue(10, true)
//	unavailable, _ := d.Spec.Strategy.RollingUpdate.MaxUnavailable.ScaledValue(10, false)
package apps
