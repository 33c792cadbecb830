package coordination

import "github.com/gantry-sdk/gantry/apis"

// Lease is a lock with a holder and an expiry: node heartbeats and leader election.
type Lease struct {
	apis.TypeMeta   `json:",inline"`
	apis.ObjectMeta `json:"metadata"`
	Spec            LeaseSpec `json:"spec,omitzero"`
}

// LeaseSpec says who holds the lease and until when.
type LeaseSpec struct {
	HolderIdentity       *string         `json:"holderIdentity,omitempty"`
	LeaseDurationSeconds *int32          `json:"leaseDurationSeconds,omitempty"`
	AcquireTime          *apis.MicroTime `json:"acquireTime,omitempty"`
	RenewTime            *apis.MicroTime `json:"renewTime,omitempty"`
	LeaseTransitions     *int32          `json:"leaseTransitions,omitempty"`
	Strategy             *string         `json:"strategy,omitempty"`
	PreferredHolder      *string         `json:"preferredHolder,omitempty"`
}
