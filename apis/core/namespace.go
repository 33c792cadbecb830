package core

import "github.com/gantry-sdk/gantry/apis"

// Namespace is a scope for names. Deleting one deletes everything in it.
type Namespace struct {
	apis.TypeMeta   `json:",inline"`
	apis.ObjectMeta `json:"metadata"`
	Spec            NamespaceSpec   `json:"spec,omitzero"`
	Status          NamespaceStatus `json:"status,omitzero"`
}

// NamespaceSpec holds the finalizers that must run before the namespace goes.
type NamespaceSpec struct {
	Finalizers []string `json:"finalizers,omitempty"`
}

// NamespacePhase is Active or Terminating.
type NamespacePhase string

// The namespace phases.
const (
	NamespaceActive      NamespacePhase = "Active"
	NamespaceTerminating NamespacePhase = "Terminating"
)

// NamespaceStatus reports the phase.
type NamespaceStatus struct {
	Phase      NamespacePhase       `json:"phase,omitempty"`
	Conditions []NamespaceCondition `json:"conditions,omitempty"`
}

// NamespaceCondition is a condition of a namespace's deletion.
type NamespaceCondition struct {
	Type               string               `json:"type"`
	Status             apis.ConditionStatus `json:"status"`
	LastTransitionTime apis.Time            `json:"lastTransitionTime,omitzero"`
	Reason             string               `json:"reason,omitempty"`
	Message            string               `json:"message,omitempty"`
}

// The namespaces that exist from the start.
const (
	NamespaceDefault   = "default"
	NamespaceSystem    = "kube-system"
	NamespacePublic    = "kube-public"
	NamespaceNodeLease = "kube-node-lease"
)

// InitialNamespaces returns the namespaces a new store creates.
func InitialNamespaces() []string {
	return []string{NamespaceDefault, NamespaceSystem, NamespacePublic, NamespaceNodeLease}
}
