package core

import "github.com/gantry-sdk/gantry/apis/resource"

// ResourceName names a compute resource: "cpu", "memory", "pods"...
type ResourceName string

// The resources nodes report and pods request.
const (
	ResourceCPU              ResourceName = "cpu"
	ResourceMemory           ResourceName = "memory"
	ResourceStorage          ResourceName = "storage"
	ResourceEphemeralStorage ResourceName = "ephemeral-storage"
	ResourcePods             ResourceName = "pods"
)

// ResourceList maps resources to amounts: {"cpu": "200m", "memory": "256Mi"}.
type ResourceList map[ResourceName]resource.Quantity

// Cpu returns the cpu amount (0 when absent).
func (l ResourceList) Cpu() resource.Quantity { return l[ResourceCPU] }

// Memory returns the memory amount (0 when absent).
func (l ResourceList) Memory() resource.Quantity { return l[ResourceMemory] }

// Pods returns the pod count (0 when absent).
func (l ResourceList) Pods() resource.Quantity { return l[ResourcePods] }

// StorageEphemeral returns the ephemeral-storage amount (0 when absent).
func (l ResourceList) StorageEphemeral() resource.Quantity { return l[ResourceEphemeralStorage] }

// Name returns the amount of name (0 when absent).
func (l ResourceList) Name(name ResourceName) resource.Quantity { return l[name] }

// ResourceRequirements are a container's requests (what the scheduler reserves)
// and limits (what the runtime enforces).
type ResourceRequirements struct {
	Limits   ResourceList    `json:"limits,omitempty"`
	Requests ResourceList    `json:"requests,omitempty"`
	Claims   []ResourceClaim `json:"claims,omitempty"`
}

// ResourceClaim names a dynamic resource claim of the pod.
type ResourceClaim struct {
	Name    string `json:"name"`
	Request string `json:"request,omitempty"`
}
