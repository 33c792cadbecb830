package networking

import (
	"strings"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/field"
)

var metadataPath = field.NewPath("metadata")

// DefaultIngress sets pathType ImplementationSpecific where a path names none.
func DefaultIngress(in *Ingress) {
	for i := range in.Spec.Rules {
		if h := in.Spec.Rules[i].HTTP; h != nil {
			for j := range h.Paths {
				if h.Paths[j].PathType == nil {
					t := PathTypeImplementationSpecific
					h.Paths[j].PathType = &t
				}
			}
		}
	}
}

// ValidateIngress checks rules (hosts, paths, backends), TLS hosts and the
// default backend.
func ValidateIngress(in *Ingress) field.ErrorList {
	errs := apis.ValidateObjectMeta(&in.ObjectMeta, true, apis.IsDNS1123Subdomain, metadataPath)
	sp := field.NewPath("spec")
	if len(in.Spec.Rules) == 0 && in.Spec.DefaultBackend == nil {
		errs = append(errs, field.Invalid(sp, "", "either `defaultBackend` or `rules` must be specified"))
	}
	if b := in.Spec.DefaultBackend; b != nil {
		errs = append(errs, validateBackend(b, sp.Child("defaultBackend"))...)
	}
	if c := in.Spec.IngressClassName; c != nil {
		for _, msg := range apis.IsDNS1123Subdomain(*c) {
			errs = append(errs, field.Invalid(sp.Child("ingressClassName"), *c, msg))
		}
	}
	for i, r := range in.Spec.Rules {
		rp := sp.Child("rules").Index(i)
		if r.Host != "" {
			errs = append(errs, validateHost(r.Host, rp.Child("host"))...)
		}
		if r.HTTP == nil {
			continue
		}
		hp := rp.Child("http", "paths")
		if len(r.HTTP.Paths) == 0 {
			errs = append(errs, field.Required(hp, ""))
		}
		for j, p := range r.HTTP.Paths {
			pp := hp.Index(j)
			if p.PathType == nil {
				errs = append(errs, field.Required(pp.Child("pathType"), "pathType must be specified"))
			} else {
				switch *p.PathType {
				case PathTypeExact, PathTypePrefix:
					if !strings.HasPrefix(p.Path, "/") {
						errs = append(errs, field.Invalid(pp.Child("path"), p.Path, "must be an absolute path"))
					}
				case PathTypeImplementationSpecific:
					if p.Path != "" && !strings.HasPrefix(p.Path, "/") {
						errs = append(errs, field.Invalid(pp.Child("path"), p.Path, "must be an absolute path"))
					}
				default:
					errs = append(errs, field.NotSupported(pp.Child("pathType"), string(*p.PathType), []string{"Exact", "Prefix", "ImplementationSpecific"}))
				}
			}
			errs = append(errs, validateBackend(&p.Backend, pp.Child("backend"))...)
		}
	}
	for i, t := range in.Spec.TLS {
		for j, h := range t.Hosts {
			errs = append(errs, validateHost(h, sp.Child("tls").Index(i).Child("hosts").Index(j))...)
		}
	}
	return errs
}

func validateHost(host string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	h := host
	if rest, ok := strings.CutPrefix(host, "*."); ok {
		h = rest
	}
	for _, msg := range apis.IsDNS1123Subdomain(h) {
		errs = append(errs, field.Invalid(p, host, msg))
	}
	return errs
}

func validateBackend(b *IngressBackend, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch {
	case b.Service != nil && b.Resource != nil:
		errs = append(errs, field.Invalid(p, "", "cannot set both resource and service backends"))
	case b.Service != nil:
		sp := p.Child("service")
		if b.Service.Name == "" {
			errs = append(errs, field.Required(sp.Child("name"), ""))
		}
		port := b.Service.Port
		switch {
		case port.Name != "" && port.Number != 0:
			errs = append(errs, field.Invalid(sp.Child("port"), "", "cannot set both port name & port number"))
		case port.Name != "":
			for _, msg := range apis.IsValidPortName(port.Name) {
				errs = append(errs, field.Invalid(sp.Child("port", "name"), port.Name, msg))
			}
		case port.Number != 0:
			for _, msg := range apis.IsValidPortNum(int(port.Number)) {
				errs = append(errs, field.Invalid(sp.Child("port", "number"), port.Number, msg))
			}
		default:
			errs = append(errs, field.Required(sp.Child("port"), "port name or number is required"))
		}
	case b.Resource != nil:
		if b.Resource.Kind == "" || b.Resource.Name == "" {
			errs = append(errs, field.Required(p.Child("resource"), "kind and name are required"))
		}
	default:
		errs = append(errs, field.Invalid(p, "", "resource or service backend is required"))
	}
	return errs
}

// ValidateIngressClass checks the controller name (a domain-prefixed path).
func ValidateIngressClass(c *IngressClass) field.ErrorList {
	errs := apis.ValidateObjectMeta(&c.ObjectMeta, false, apis.IsDNS1123Subdomain, metadataPath)
	cp := field.NewPath("spec", "controller")
	switch {
	case c.Spec.Controller == "":
		errs = append(errs, field.Required(cp, ""))
	case len(c.Spec.Controller) > 250:
		errs = append(errs, field.TooLong(cp, "", 250))
	default:
		domain, _, _ := strings.Cut(c.Spec.Controller, "/")
		for _, msg := range apis.IsDNS1123Subdomain(domain) {
			errs = append(errs, field.Invalid(cp, c.Spec.Controller, msg))
		}
	}
	if p := c.Spec.Parameters; p != nil {
		pp := field.NewPath("spec", "parameters")
		if p.Kind == "" {
			errs = append(errs, field.Required(pp.Child("kind"), ""))
		}
		if p.Name == "" {
			errs = append(errs, field.Required(pp.Child("name"), ""))
		}
		if p.Scope != nil {
			switch *p.Scope {
			case "Cluster":
				if p.Namespace != nil {
					errs = append(errs, field.Forbidden(pp.Child("namespace"), "`parameters.scope` is set to 'Cluster'"))
				}
			case "Namespace":
				if p.Namespace == nil {
					errs = append(errs, field.Required(pp.Child("namespace"), "`parameters.scope` is set to 'Namespace'"))
				}
			default:
				errs = append(errs, field.NotSupported(pp.Child("scope"), *p.Scope, []string{"Cluster", "Namespace"}))
			}
		}
	}
	return errs
}

// ValidateIngressClassUpdate keeps the controller.
func ValidateIngressClassUpdate(c, old *IngressClass) field.ErrorList {
	return apis.ValidateImmutable(c.Spec.Controller, old.Spec.Controller, field.NewPath("spec", "controller"))
}

// GroupVersion is networking.k8s.io/v1.
var GroupVersion = apis.GroupVersion{Group: "networking.k8s.io", Version: "v1"}

// AddToScheme registers Ingress and IngressClass.
func AddToScheme(s *apis.Scheme) error {
	if err := apis.Register[Ingress](s, apis.Kind[*Ingress]{
		GroupVersionKind: GroupVersion.WithKind("Ingress"), Resource: "ingresses", ShortNames: []string{"ing"},
		Default: DefaultIngress, Validate: ValidateIngress,
	}); err != nil {
		return err
	}
	return apis.Register[IngressClass](s, apis.Kind[*IngressClass]{
		GroupVersionKind: GroupVersion.WithKind("IngressClass"), Resource: "ingressclasses", Scope: apis.ClusterScoped,
		Validate: ValidateIngressClass, ValidateUpdate: ValidateIngressClassUpdate,
	})
}
