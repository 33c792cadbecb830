package apis

import "strings"

// Object is any stored object: a pointer to a struct that embeds TypeMeta
// (inlined) and ObjectMeta (as `metadata`). The methods are promoted from the
// embedded structs, so a kind needs no code of its own to be an Object.
//
//	type Website struct {
//		apis.TypeMeta   `json:",inline"`
//		apis.ObjectMeta `json:"metadata"`
//		Spec   WebsiteSpec   `json:"spec"`
//		Status WebsiteStatus `json:"status,omitzero"`
//	}
type Object interface {
	Meta() *ObjectMeta
	Type() *TypeMeta
}

// Key names an object within its kind: namespace (empty for cluster-scoped
// kinds) and name. Reconcilers work on keys, not objects.
type Key struct {
	Namespace string
	Name      string
}

// String renders "namespace/name", or "name" for cluster-scoped objects.
func (k Key) String() string {
	if k.Namespace == "" {
		return k.Name
	}
	return k.Namespace + "/" + k.Name
}

// ParseKey is the inverse of Key.String.
func ParseKey(s string) Key {
	if ns, name, ok := strings.Cut(s, "/"); ok {
		return Key{Namespace: ns, Name: name}
	}
	return Key{Name: s}
}

// KeyOf returns the key of obj.
func KeyOf(obj Object) Key { m := obj.Meta(); return Key{Namespace: m.Namespace, Name: m.Name} }

// GroupVersion is an API group and version, "apps/v1" or "v1" for the core group.
type GroupVersion struct {
	Group   string
	Version string
}

// ParseGroupVersion splits "group/version"; "v1" has the empty (core) group.
func ParseGroupVersion(s string) GroupVersion {
	if g, v, ok := strings.Cut(s, "/"); ok {
		return GroupVersion{Group: g, Version: v}
	}
	return GroupVersion{Version: s}
}

// String renders the apiVersion form.
func (gv GroupVersion) String() string {
	if gv.Group == "" {
		return gv.Version
	}
	return gv.Group + "/" + gv.Version
}

// WithKind returns the GroupVersionKind of kind in gv.
func (gv GroupVersion) WithKind(kind string) GroupVersionKind {
	return GroupVersionKind{Group: gv.Group, Version: gv.Version, Kind: kind}
}

// GroupVersionKind identifies a kind: apiVersion plus kind.
type GroupVersionKind struct {
	Group   string
	Version string
	Kind    string
}

// GroupVersion drops the kind.
func (k GroupVersionKind) GroupVersion() GroupVersion {
	return GroupVersion{Group: k.Group, Version: k.Version}
}

// String renders "apps/v1, Kind=Deployment".
func (k GroupVersionKind) String() string { return k.GroupVersion().String() + ", Kind=" + k.Kind }

// GroupResource identifies a resource (the plural, lower-case name used in URLs
// and storage keys) within a group.
type GroupResource struct {
	Group    string
	Resource string
}

// String renders "deployments.apps", or "pods" for the core group.
func (r GroupResource) String() string {
	if r.Group == "" {
		return r.Resource
	}
	return r.Resource + "." + r.Group
}
