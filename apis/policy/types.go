package policy

import "github.com/gantry-sdk/gantry/apis"

// PodDisruptionBudget bounds the voluntary disruptions of a set of pods.
type PodDisruptionBudget struct {
	apis.TypeMeta   `json:",inline"`
	apis.ObjectMeta `json:"metadata"`
	Spec            PodDisruptionBudgetSpec   `json:"spec,omitzero"`
	Status          PodDisruptionBudgetStatus `json:"status,omitzero"`
}

// PodDisruptionBudgetSpec selects the pods and says how many must stay
// available (MinAvailable) or may be unavailable (MaxUnavailable): a count
// or a percentage of the expected pods; at most one of the two is set.
type PodDisruptionBudgetSpec struct {
	MinAvailable *apis.IntOrString `json:"minAvailable,omitempty"`
	// Selector picks the pods; an empty selector selects every pod of the
	// namespace, a nil one none.
	Selector       *apis.LabelSelector `json:"selector,omitempty"`
	MaxUnavailable *apis.IntOrString   `json:"maxUnavailable,omitempty"`
	// UnhealthyPodEvictionPolicy: IfHealthyBudget (the default) or AlwaysAllow.
	UnhealthyPodEvictionPolicy *UnhealthyPodEvictionPolicyType `json:"unhealthyPodEvictionPolicy,omitempty"`
}

// UnhealthyPodEvictionPolicyType says when running but not ready pods may be evicted.
type UnhealthyPodEvictionPolicyType string

// The unhealthy pod eviction policies.
const (
	IfHealthyBudget UnhealthyPodEvictionPolicyType = "IfHealthyBudget"
	AlwaysAllow     UnhealthyPodEvictionPolicyType = "AlwaysAllow"
)

// PodDisruptionBudgetStatus is what the disruption controller last
// computed: how many more pods may be disrupted now (DisruptionsAllowed)
// and the pods it has allowed to go but not yet seen go (DisruptedPods:
// pod name to the time of the eviction).
type PodDisruptionBudgetStatus struct {
	ObservedGeneration int64                `json:"observedGeneration,omitempty"`
	DisruptedPods      map[string]apis.Time `json:"disruptedPods,omitempty"`
	DisruptionsAllowed int32                `json:"disruptionsAllowed"`
	CurrentHealthy     int32                `json:"currentHealthy"`
	DesiredHealthy     int32                `json:"desiredHealthy"`
	ExpectedPods       int32                `json:"expectedPods"`
	Conditions         []apis.Condition     `json:"conditions,omitempty"`
}

// DisruptionAllowedCondition is the condition type saying whether
// disruptions are allowed; SyncFailedReason and InsufficientPodsReason
// explain a False one, SufficientPodsReason a True one.
const (
	DisruptionAllowedCondition = "DisruptionAllowed"
	SyncFailedReason           = "SyncFailed"
	SufficientPodsReason       = "SufficientPods"
	InsufficientPodsReason     = "InsufficientPods"
)
