package discovery

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/apis/field"
)

func ptr[T any](v T) *T { return &v }

func validSlice() *EndpointSlice {
	s := &EndpointSlice{
		ObjectMeta:  apis.ObjectMeta{Name: "web-x1", Namespace: "default", Labels: map[string]string{LabelServiceName: "web"}},
		AddressType: AddressTypeIPv4,
		Endpoints: []Endpoint{{
			Addresses:  []string{"10.244.1.5"},
			Conditions: EndpointConditions{Ready: ptr(true), Serving: ptr(true), Terminating: ptr(false)},
			NodeName:   ptr("node-1"), Zone: ptr("a"),
			TargetRef: &core.ObjectReference{Kind: "Pod", Namespace: "default", Name: "web-0"},
		}},
		Ports: []EndpointPort{{Name: ptr("http"), Port: ptr(int32(8080))}},
	}
	DefaultEndpointSlice(s)
	return s
}

func TestEndpointSlice(t *testing.T) {
	s := validSlice()
	assert.Equal(t, core.ProtocolTCP, *s.Ports[0].Protocol)
	assert.Empty(t, ValidateEndpointSlice(s))
	tests := []struct {
		name   string
		mutate func(s *EndpointSlice)
		path   string
		typ    field.Type
	}{
		{"addressType", func(s *EndpointSlice) { s.AddressType = "IPv5" }, "addressType", field.TypeNotSupported},
		{"ipv4 address", func(s *EndpointSlice) { s.Endpoints[0].Addresses[0] = "fd00::1" }, "endpoints[0].addresses[0]", field.TypeInvalid},
		{"no addresses", func(s *EndpointSlice) { s.Endpoints[0].Addresses = nil }, "endpoints[0].addresses", field.TypeRequired},
		{"nodeName", func(s *EndpointSlice) { s.Endpoints[0].NodeName = ptr("Node_1") }, "endpoints[0].nodeName", field.TypeInvalid},
		{"port", func(s *EndpointSlice) { s.Ports[0].Port = ptr(int32(0)) }, "ports[0].port", field.TypeInvalid},
		{"protocol", func(s *EndpointSlice) { s.Ports[0].Protocol = ptr(core.Protocol("QUIC")) }, "ports[0].protocol", field.TypeNotSupported},
		{"port name duplicate", func(s *EndpointSlice) { s.Ports = append(s.Ports, s.Ports[0]) }, "ports[1].name", field.TypeDuplicate},
		{"addressType required", func(s *EndpointSlice) { s.AddressType = "" }, "addressType", field.TypeRequired},
		{"hostname", func(s *EndpointSlice) { s.Endpoints[0].Hostname = ptr("Web") }, "endpoints[0].hostname", field.TypeInvalid},
		{"port name syntax", func(s *EndpointSlice) { s.Ports[0].Name = ptr("HTTP") }, "ports[0].name", field.TypeInvalid},
		{"protocol required", func(s *EndpointSlice) { s.Ports[0].Protocol = nil }, "ports[0].protocol", field.TypeRequired},
		{"too many addresses", func(s *EndpointSlice) {
			s.Endpoints[0].Addresses = make([]string, 101)
			for i := range s.Endpoints[0].Addresses {
				s.Endpoints[0].Addresses[i] = "10.0.0.1"
			}
		}, "endpoints[0].addresses", field.TypeTooLong},
		{"too many endpoints", func(s *EndpointSlice) {
			s.Endpoints = make([]Endpoint, MaxEndpoints+1)
			for i := range s.Endpoints {
				s.Endpoints[i].Addresses = []string{"10.0.0.1"}
			}
		}, "endpoints", field.TypeTooLong},
		{"fqdn", func(s *EndpointSlice) { s.AddressType = AddressTypeFQDN; s.Endpoints[0].Addresses[0] = "Bad_Host" }, "endpoints[0].addresses[0]", field.TypeInvalid},
		{"ipv6 ok", func(s *EndpointSlice) { s.AddressType = AddressTypeIPv6; s.Endpoints[0].Addresses[0] = "fd00::5" }, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := validSlice()
			tt.mutate(s)
			errs := ValidateEndpointSlice(s)
			if tt.path == "" {
				assert.Empty(t, errs)
				return
			}
			require.Len(t, errs, 1, "%v", errs)
			assert.Equal(t, tt.path, errs[0].Field)
			assert.Equal(t, tt.typ, errs[0].Type)
		})
	}
	v6 := validSlice()
	v6.AddressType = AddressTypeIPv6
	errs := ValidateEndpointSliceUpdate(v6, validSlice())
	require.Len(t, errs, 1)
	assert.Equal(t, "addressType", errs[0].Field)
}
