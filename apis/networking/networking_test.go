package networking

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/apis/field"
)

func ptr[T any](v T) *T { return &v }

func validIngress() *Ingress {
	in := &Ingress{
		ObjectMeta: apis.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: IngressSpec{
			IngressClassName: ptr("nginx"),
			TLS:              []IngressTLS{{Hosts: []string{"*.example.com"}, SecretName: "tls"}},
			Rules: []IngressRule{{Host: "www.example.com", IngressRuleValue: IngressRuleValue{HTTP: &HTTPIngressRuleValue{Paths: []HTTPIngressPath{
				{Path: "/", PathType: ptr(PathTypePrefix), Backend: IngressBackend{Service: &IngressServiceBackend{Name: "web", Port: ServiceBackendPort{Number: 80}}}},
				{Path: "/api", Backend: IngressBackend{Service: &IngressServiceBackend{Name: "api", Port: ServiceBackendPort{Name: "http"}}}},
			}}}}},
		},
	}
	DefaultIngress(in)
	return in
}

func TestIngress(t *testing.T) {
	in := validIngress()
	assert.Equal(t, PathTypeImplementationSpecific, *in.Spec.Rules[0].HTTP.Paths[1].PathType)
	assert.Empty(t, ValidateIngress(in))
	tests := []struct {
		name   string
		mutate func(in *Ingress)
		path   string
		typ    field.Type
	}{
		{"host", func(in *Ingress) { in.Spec.Rules[0].Host = "WWW" }, "spec.rules[0].host", field.TypeInvalid},
		{"relative path", func(in *Ingress) { in.Spec.Rules[0].HTTP.Paths[0].Path = "api" }, "spec.rules[0].http.paths[0].path", field.TypeInvalid},
		{"pathType", func(in *Ingress) { in.Spec.Rules[0].HTTP.Paths[0].PathType = ptr(PathType("Regex")) }, "spec.rules[0].http.paths[0].pathType", field.TypeNotSupported},
		{"backend missing", func(in *Ingress) { in.Spec.Rules[0].HTTP.Paths[0].Backend = IngressBackend{} }, "spec.rules[0].http.paths[0].backend", field.TypeInvalid},
		{"service port", func(in *Ingress) { in.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Port = ServiceBackendPort{} }, "spec.rules[0].http.paths[0].backend.service.port", field.TypeRequired},
		{"service port number", func(in *Ingress) { in.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Port.Number = 70000 }, "spec.rules[0].http.paths[0].backend.service.port.number", field.TypeInvalid},
		{"no rules", func(in *Ingress) { in.Spec.Rules = nil }, "spec", field.TypeInvalid},
		{"tls host", func(in *Ingress) { in.Spec.TLS[0].Hosts[0] = "bad host" }, "spec.tls[0].hosts[0]", field.TypeInvalid},
		{"class name", func(in *Ingress) { in.Spec.IngressClassName = ptr("Nginx") }, "spec.ingressClassName", field.TypeInvalid},
		{"paths required", func(in *Ingress) { in.Spec.Rules[0].HTTP.Paths = nil }, "spec.rules[0].http.paths", field.TypeRequired},
		{"pathType required", func(in *Ingress) { in.Spec.Rules[0].HTTP.Paths[0].PathType = nil }, "spec.rules[0].http.paths[0].pathType", field.TypeRequired},
		{"implementation specific relative path", func(in *Ingress) { in.Spec.Rules[0].HTTP.Paths[1].Path = "api" }, "spec.rules[0].http.paths[1].path", field.TypeInvalid},
		{"both backends", func(in *Ingress) {
			in.Spec.Rules[0].HTTP.Paths[0].Backend.Resource = &core.TypedLocalObjectReference{Kind: "Bucket", Name: "b"}
		}, "spec.rules[0].http.paths[0].backend", field.TypeInvalid},
		{"resource backend", func(in *Ingress) {
			in.Spec.Rules[0].HTTP.Paths[0].Backend = IngressBackend{Resource: &core.TypedLocalObjectReference{Kind: "Bucket"}}
		}, "spec.rules[0].http.paths[0].backend.resource", field.TypeRequired},
		{"service name", func(in *Ingress) { in.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Name = "" }, "spec.rules[0].http.paths[0].backend.service.name", field.TypeRequired},
		{"port name and number", func(in *Ingress) { in.Spec.Rules[0].HTTP.Paths[1].Backend.Service.Port.Number = 80 }, "spec.rules[0].http.paths[1].backend.service.port", field.TypeInvalid},
		{"port name", func(in *Ingress) { in.Spec.Rules[0].HTTP.Paths[1].Backend.Service.Port.Name = "HTTP" }, "spec.rules[0].http.paths[1].backend.service.port.name", field.TypeInvalid},
		{"default backend", func(in *Ingress) { in.Spec.DefaultBackend = &IngressBackend{} }, "spec.defaultBackend", field.TypeInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := validIngress()
			tt.mutate(in)
			errs := ValidateIngress(in)
			require.Len(t, errs, 1, "%v", errs)
			assert.Equal(t, tt.path, errs[0].Field)
			assert.Equal(t, tt.typ, errs[0].Type)
		})
	}
}

func TestIngressClass(t *testing.T) {
	c := &IngressClass{ObjectMeta: apis.ObjectMeta{Name: "nginx"}, Spec: IngressClassSpec{Controller: "k8s.io/ingress-nginx"}}
	assert.Empty(t, ValidateIngressClass(c))
	bad := *c
	bad.Spec.Controller = ""
	errs := ValidateIngressClass(&bad)
	require.Len(t, errs, 1)
	assert.Equal(t, "spec.controller", errs[0].Field)
	bad = *c
	bad.Spec.Parameters = &IngressClassParametersReference{Kind: "Config", Name: "x", Scope: ptr("Namespace")}
	errs = ValidateIngressClass(&bad)
	require.Len(t, errs, 1)
	assert.Equal(t, "spec.parameters.namespace", errs[0].Field)
	bad = *c
	bad.Namespace = "default"
	errs = ValidateIngressClass(&bad)
	require.Len(t, errs, 1)
	assert.Equal(t, "metadata.namespace", errs[0].Field)
	for _, tt := range []struct {
		mutate func(c *IngressClass)
		path   string
	}{
		{func(c *IngressClass) { c.Spec.Controller = "Bad_Domain/x" }, "spec.controller"},
		{func(c *IngressClass) { c.Spec.Controller = "example.com/" + strings.Repeat("x", 250) }, "spec.controller"},
		{func(c *IngressClass) { c.Spec.Parameters = &IngressClassParametersReference{Name: "x"} }, "spec.parameters.kind"},
		{func(c *IngressClass) { c.Spec.Parameters = &IngressClassParametersReference{Kind: "K"} }, "spec.parameters.name"},
		{func(c *IngressClass) {
			c.Spec.Parameters = &IngressClassParametersReference{Kind: "K", Name: "x", Scope: ptr("Cluster"), Namespace: ptr("ns")}
		}, "spec.parameters.namespace"},
		{func(c *IngressClass) {
			c.Spec.Parameters = &IngressClassParametersReference{Kind: "K", Name: "x", Scope: ptr("Region")}
		}, "spec.parameters.scope"},
	} {
		bad := *c
		tt.mutate(&bad)
		errs := ValidateIngressClass(&bad)
		require.Len(t, errs, 1, "%v", errs)
		assert.Equal(t, tt.path, errs[0].Field)
	}
	moved := *c
	moved.Spec.Controller = "example.com/other"
	errs = ValidateIngressClassUpdate(&moved, c)
	require.Len(t, errs, 1)
	assert.Equal(t, "spec.controller", errs[0].Field)

	s := apis.NewScheme()
	require.NoError(t, AddToScheme(s))
	k, err := s.ByResource("ing")
	require.NoError(t, err)
	assert.Equal(t, "ingresses", k.Resource)
	k, err = s.ByResource("ingressclasses")
	require.NoError(t, err)
	assert.Equal(t, apis.ClusterScoped, k.Scope)
}
