package discovery

import (
	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/core"
)

// EndpointSlice lists some of the endpoints of a Service. The Service is
// named by the kubernetes.io/service-name label.
type EndpointSlice struct {
	apis.TypeMeta   `json:",inline"`
	apis.ObjectMeta `json:"metadata"`
	AddressType     AddressType    `json:"addressType"`
	Endpoints       []Endpoint     `json:"endpoints"`
	Ports           []EndpointPort `json:"ports"`
}

// AddressType is IPv4, IPv6 or FQDN.
type AddressType string

// The address types.
const (
	AddressTypeIPv4 AddressType = "IPv4"
	AddressTypeIPv6 AddressType = "IPv6"
	AddressTypeFQDN AddressType = "FQDN"
)

// Endpoint is one backend (normally one pod).
type Endpoint struct {
	Addresses          []string              `json:"addresses"`
	Conditions         EndpointConditions    `json:"conditions,omitzero"`
	Hostname           *string               `json:"hostname,omitempty"`
	TargetRef          *core.ObjectReference `json:"targetRef,omitempty"`
	DeprecatedTopology map[string]string     `json:"deprecatedTopology,omitempty"`
	NodeName           *string               `json:"nodeName,omitempty"`
	Zone               *string               `json:"zone,omitempty"`
	Hints              *EndpointHints        `json:"hints,omitempty"`
}

// EndpointConditions say whether an endpoint takes traffic. nil means unknown,
// which consumers treat as ready.
type EndpointConditions struct {
	Ready       *bool `json:"ready,omitempty"`
	Serving     *bool `json:"serving,omitempty"`
	Terminating *bool `json:"terminating,omitempty"`
}

// EndpointHints guide topology-aware routing.
type EndpointHints struct {
	ForZones []ForZone `json:"forZones,omitempty"`
	ForNodes []ForNode `json:"forNodes,omitempty"`
}

// ForZone names a zone an endpoint should serve.
type ForZone struct {
	Name string `json:"name"`
}

// ForNode names a node an endpoint should serve.
type ForNode struct {
	Name string `json:"name"`
}

// EndpointPort is a port every endpoint of the slice serves.
type EndpointPort struct {
	Name        *string        `json:"name,omitempty"`
	Protocol    *core.Protocol `json:"protocol,omitempty"`
	Port        *int32         `json:"port,omitempty"`
	AppProtocol *string        `json:"appProtocol,omitempty"`
}

// Labels of EndpointSlices.
const (
	// LabelServiceName names the Service a slice belongs to.
	LabelServiceName = "kubernetes.io/service-name"
	// LabelManagedBy names the controller that manages the slice.
	LabelManagedBy = "endpointslice.kubernetes.io/managed-by"
)
