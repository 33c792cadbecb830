package discovery

import (
	"net/netip"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/apis/field"
)

// Limits of an EndpointSlice, as in Kubernetes.
const (
	MaxEndpoints            = 1000
	maxPorts                = 20000
	maxAddressesPerEndpoint = 100
)

// DefaultEndpointSlice sets port protocols to TCP.
func DefaultEndpointSlice(s *EndpointSlice) {
	for i := range s.Ports {
		if s.Ports[i].Protocol == nil {
			p := core.ProtocolTCP
			s.Ports[i].Protocol = &p
		}
	}
}

// ValidateEndpointSlice checks the address type, each endpoint's addresses
// against it, node names, and ports.
func ValidateEndpointSlice(s *EndpointSlice) field.ErrorList {
	errs := apis.ValidateObjectMeta(&s.ObjectMeta, true, apis.IsDNS1123Subdomain, field.NewPath("metadata"))
	switch s.AddressType {
	case AddressTypeIPv4, AddressTypeIPv6, AddressTypeFQDN:
	case "":
		errs = append(errs, field.Required(field.NewPath("addressType"), ""))
	default:
		errs = append(errs, field.NotSupported(field.NewPath("addressType"), string(s.AddressType), []string{"IPv4", "IPv6", "FQDN"}))
	}
	ep := field.NewPath("endpoints")
	if len(s.Endpoints) > MaxEndpoints {
		errs = append(errs, field.TooLong(ep, "", MaxEndpoints))
	}
	for i, e := range s.Endpoints {
		p := ep.Index(i)
		if len(e.Addresses) == 0 {
			errs = append(errs, field.Required(p.Child("addresses"), "must contain at least 1 address"))
		} else if len(e.Addresses) > maxAddressesPerEndpoint {
			errs = append(errs, field.TooLong(p.Child("addresses"), "", maxAddressesPerEndpoint))
		}
		for j, a := range e.Addresses {
			ap := p.Child("addresses").Index(j)
			switch s.AddressType {
			case AddressTypeIPv4, AddressTypeIPv6:
				ip, err := netip.ParseAddr(a)
				if err != nil || (s.AddressType == AddressTypeIPv4) != ip.Is4() {
					errs = append(errs, field.Invalid(ap, a, "must be a valid "+string(s.AddressType)+" address"))
				}
			case AddressTypeFQDN:
				for _, msg := range apis.IsDNS1123Subdomain(a) {
					errs = append(errs, field.Invalid(ap, a, msg))
				}
			}
		}
		if e.NodeName != nil {
			for _, msg := range apis.IsDNS1123Subdomain(*e.NodeName) {
				errs = append(errs, field.Invalid(p.Child("nodeName"), *e.NodeName, msg))
			}
		}
		if e.Hostname != nil {
			for _, msg := range apis.IsDNS1123Label(*e.Hostname) {
				errs = append(errs, field.Invalid(p.Child("hostname"), *e.Hostname, msg))
			}
		}
	}
	pp := field.NewPath("ports")
	if len(s.Ports) > maxPorts {
		errs = append(errs, field.TooLong(pp, "", maxPorts))
	}
	names := map[string]bool{}
	for i, port := range s.Ports {
		p := pp.Index(i)
		name := ""
		if port.Name != nil {
			name = *port.Name
			if name != "" {
				for _, msg := range apis.IsDNS1123Label(name) {
					errs = append(errs, field.Invalid(p.Child("name"), name, msg))
				}
			}
		}
		if names[name] {
			errs = append(errs, field.Duplicate(p.Child("name"), name))
		}
		names[name] = true
		if port.Protocol == nil {
			errs = append(errs, field.Required(p.Child("protocol"), ""))
		} else if pr := *port.Protocol; pr != core.ProtocolTCP && pr != core.ProtocolUDP && pr != core.ProtocolSCTP {
			errs = append(errs, field.NotSupported(p.Child("protocol"), string(pr), []string{"TCP", "UDP", "SCTP"}))
		}
		if port.Port != nil {
			for _, msg := range apis.IsValidPortNum(int(*port.Port)) {
				errs = append(errs, field.Invalid(p.Child("port"), *port.Port, msg))
			}
		}
	}
	return errs
}

// ValidateEndpointSliceUpdate keeps the address type.
func ValidateEndpointSliceUpdate(s, old *EndpointSlice) field.ErrorList {
	return apis.ValidateImmutable(s.AddressType, old.AddressType, field.NewPath("addressType"))
}

// GroupVersion is discovery.k8s.io/v1.
var GroupVersion = apis.GroupVersion{Group: "discovery.k8s.io", Version: "v1"}

// AddToScheme registers EndpointSlice.
func AddToScheme(s *apis.Scheme) error {
	return apis.Register[EndpointSlice](s, apis.Kind[*EndpointSlice]{
		GroupVersionKind: GroupVersion.WithKind("EndpointSlice"), Resource: "endpointslices",
		Default: DefaultEndpointSlice, Validate: ValidateEndpointSlice, ValidateUpdate: ValidateEndpointSliceUpdate,
		Fields: func(e *EndpointSlice) map[string]string {
			return map[string]string{"addressType": string(e.AddressType)}
		},
	})
}
