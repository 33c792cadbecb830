package apis

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"

	"github.com/gantry-sdk/gantry/apis/field"
)

// ErrUnknownKind is returned for a kind, resource or Go type the Scheme does not know.
var ErrUnknownKind = errors.New("apis: unknown kind")

// Scope says whether objects of a kind live in a namespace or in the cluster.
type Scope int

// The scopes.
const (
	NamespaceScoped Scope = iota
	ClusterScoped
)

func (s Scope) String() string {
	if s == ClusterScoped {
		return "Cluster"
	}
	return "Namespaced"
}

// Kind describes a kind for Register. T is the pointer type (*core.Pod). Only
// GroupVersionKind is required; every hook is optional.
type Kind[T Object] struct {
	GroupVersionKind
	// Resource is the plural lower-case name ("deployments"); derived from Kind when empty.
	Resource   string
	ShortNames []string
	Scope      Scope
	// Default fills unset fields in place; it runs before Validate on every write.
	Default func(obj T)
	// Validate checks a new object (metadata included: call ValidateObjectMeta)
	// and reports every problem. Without it, the kind's metadata is checked
	// by ValidateObjectMeta with NameRule.
	Validate func(obj T) field.ErrorList
	// NameRule checks names when Validate is nil; IsDNS1123Subdomain by default.
	NameRule NameFunc
	// ValidateUpdate checks an update against the stored object (immutable fields);
	// Validate also runs on updates.
	ValidateUpdate func(obj, old T) field.ErrorList
	// Fields returns the values that field selectors may name beyond metadata.name
	// and metadata.namespace, which every kind has ("spec.nodeName": "n1").
	Fields func(obj T) map[string]string
}

// KindInfo is what a Scheme knows of a registered kind. It is immutable.
type KindInfo struct {
	GVK        GroupVersionKind
	Resource   string
	Singular   string
	ShortNames []string
	Scope      Scope

	goType     reflect.Type // the struct type, not the pointer
	hasStatus  bool
	defaultFn  func(Object)
	nameRule   NameFunc
	validateFn func(Object) field.ErrorList
	updateFn   func(obj, old Object) field.ErrorList
	fieldsFn   func(Object) map[string]string
}

// New returns a new, empty object of the kind with its TypeMeta set.
func (k *KindInfo) New() Object {
	obj := reflect.New(k.goType).Interface().(Object)
	obj.Type().SetGroupVersionKind(k.GVK)
	return obj
}

// GoType is the struct type of the kind.
func (k *KindInfo) GoType() reflect.Type { return k.goType }

// Namespaced reports whether objects of the kind live in namespaces.
func (k *KindInfo) Namespaced() bool { return k.Scope == NamespaceScoped }

// GroupResource names the kind's resource.
func (k *KindInfo) GroupResource() GroupResource {
	return GroupResource{Group: k.GVK.Group, Resource: k.Resource}
}

// HasStatus reports whether the kind has a `Status` field, and so a status
// subresource whose writes are separate from the main ones.
func (k *KindInfo) HasStatus() bool { return k.hasStatus }

// Default fills unset fields of obj in place.
func (k *KindInfo) Default(obj Object) {
	if k.defaultFn != nil {
		k.defaultFn(obj)
	}
}

// Validate checks a new object: the kind's Validate hook, or, for a kind
// without one, its metadata (ValidateObjectMeta with the kind's NameRule).
func (k *KindInfo) Validate(obj Object) field.ErrorList {
	if k.validateFn == nil {
		return ValidateObjectMeta(obj.Meta(), k.Namespaced(), k.nameRule, field.NewPath("metadata"))
	}
	return k.validateFn(obj)
}

// ValidateUpdate checks obj as a replacement of old: Validate, then the kind's
// update rules.
func (k *KindInfo) ValidateUpdate(obj, old Object) field.ErrorList {
	errs := k.Validate(obj)
	if k.updateFn != nil {
		errs = append(errs, k.updateFn(obj, old)...)
	}
	return errs
}

// Fields returns the field-selectable values of obj, metadata.name and
// metadata.namespace included.
func (k *KindInfo) Fields(obj Object) map[string]string {
	var f map[string]string
	if k.fieldsFn != nil {
		f = k.fieldsFn(obj)
	}
	if f == nil {
		f = make(map[string]string, 2)
	}
	m := obj.Meta()
	f["metadata.name"] = m.Name
	if k.Namespaced() {
		f["metadata.namespace"] = m.Namespace
	}
	return f
}

// Scheme is a registry of kinds: Go type ↔ GroupVersionKind ↔ resource name,
// scope, and the kind's defaulting, validation and field-selector hooks. Build
// one per program (no global default); it is safe for concurrent use.
type Scheme struct {
	mu         sync.RWMutex
	byGVK      map[GroupVersionKind]*KindInfo
	byType     map[reflect.Type]*KindInfo
	byResource map[string]*KindInfo // plural, singular and short names, lower-case; also "resource.group"
}

// NewScheme returns an empty Scheme.
func NewScheme() *Scheme {
	return &Scheme{
		byGVK:      map[GroupVersionKind]*KindInfo{},
		byType:     map[reflect.Type]*KindInfo{},
		byResource: map[string]*KindInfo{},
	}
}

// Register adds a kind. T is the struct type; *T must be an Object, which any
// struct embedding TypeMeta and ObjectMeta is. No code generation is involved.
func Register[T any, PT interface {
	*T
	Object
}](s *Scheme, k Kind[PT]) error {
	if k.Kind == "" || k.Version == "" {
		return fmt.Errorf("apis: register %T: Kind and Version are required", PT(nil))
	}
	t := reflect.TypeFor[T]()
	info := &KindInfo{
		GVK:        k.GroupVersionKind,
		Resource:   k.Resource,
		Singular:   strings.ToLower(k.Kind),
		ShortNames: append([]string(nil), k.ShortNames...),
		Scope:      k.Scope,
		goType:     t,
		nameRule:   k.NameRule,
	}
	if info.nameRule == nil {
		info.nameRule = IsDNS1123Subdomain
	}
	if info.Resource == "" {
		info.Resource = Pluralize(k.Kind)
	}
	if f, ok := t.FieldByName("Status"); ok && len(f.Index) == 1 {
		info.hasStatus = true
	}
	if k.Default != nil {
		info.defaultFn = func(o Object) { k.Default(o.(PT)) }
	}
	if k.Validate != nil {
		info.validateFn = func(o Object) field.ErrorList { return k.Validate(o.(PT)) }
	}
	if k.ValidateUpdate != nil {
		info.updateFn = func(o, old Object) field.ErrorList { return k.ValidateUpdate(o.(PT), old.(PT)) }
	}
	if k.Fields != nil {
		info.fieldsFn = func(o Object) map[string]string { return k.Fields(o.(PT)) }
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if prev, ok := s.byGVK[info.GVK]; ok {
		return fmt.Errorf("apis: register %s: already registered as %v", info.GVK, prev.goType)
	}
	if prev, ok := s.byType[t]; ok {
		return fmt.Errorf("apis: register %v: already registered as %s", t, prev.GVK)
	}
	s.byGVK[info.GVK] = info
	s.byType[t] = info
	names := append([]string{info.Resource, info.Singular}, info.ShortNames...)
	for _, n := range names {
		n = strings.ToLower(n)
		if _, taken := s.byResource[n]; !taken {
			s.byResource[n] = info
		}
		if info.GVK.Group != "" {
			s.byResource[n+"."+info.GVK.Group] = info
		}
	}
	return nil
}

// MustRegister is Register for package initialisation of built-in groups; it
// panics on a programming error (a duplicate registration).
func MustRegister[T any, PT interface {
	*T
	Object
}](s *Scheme, k Kind[PT]) {
	if err := Register[T](s, k); err != nil {
		panic(err)
	}
}

// Lookup returns the kind registered for gvk.
func (s *Scheme) Lookup(gvk GroupVersionKind) (*KindInfo, error) {
	s.mu.RLock()
	k, ok := s.byGVK[gvk]
	s.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrUnknownKind, gvk)
	}
	return k, nil
}

// KindOf returns the kind of obj, found by its Go type (its TypeMeta may be empty).
func (s *Scheme) KindOf(obj Object) (*KindInfo, error) {
	return s.kindOfType(reflect.TypeOf(obj))
}

// KindFor returns the kind of the Go type T.
func KindFor[T Object](s *Scheme) (*KindInfo, error) {
	return s.kindOfType(reflect.TypeFor[T]())
}

// kindOfType finds the kind whose pointer type is t.
func (s *Scheme) kindOfType(t reflect.Type) (*KindInfo, error) {
	if t == nil || t.Kind() != reflect.Pointer {
		return nil, fmt.Errorf("%w: %v is not a pointer to a registered struct", ErrUnknownKind, t)
	}
	s.mu.RLock()
	k, ok := s.byType[t.Elem()]
	s.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("%w: Go type %v", ErrUnknownKind, t.Elem())
	}
	return k, nil
}

// ByResource finds a kind by any of the names kubectl accepts: plural
// ("deployments"), singular ("deployment"), short name ("deploy"), or any of
// them qualified by group ("deployments.apps"). Case-insensitive.
func (s *Scheme) ByResource(name string) (*KindInfo, error) {
	s.mu.RLock()
	k, ok := s.byResource[strings.ToLower(name)]
	s.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("%w: resource %q", ErrUnknownKind, name)
	}
	return k, nil
}

// New returns a new, empty object of the kind gvk.
func (s *Scheme) New(gvk GroupVersionKind) (Object, error) {
	k, err := s.Lookup(gvk)
	if err != nil {
		return nil, err
	}
	return k.New(), nil
}

// Kinds returns every registered kind, sorted by group, version and kind.
func (s *Scheme) Kinds() []*KindInfo {
	s.mu.RLock()
	out := make([]*KindInfo, 0, len(s.byGVK))
	for _, k := range s.byGVK {
		out = append(out, k)
	}
	s.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].GVK, out[j].GVK
		if a.Group != b.Group {
			return a.Group < b.Group
		}
		if a.Version != b.Version {
			return a.Version < b.Version
		}
		return a.Kind < b.Kind
	})
	return out
}

// Pluralize returns the resource name Kubernetes derives from a kind:
// lower-case, "y" → "ies", "s"/"x"/"ch"/"sh" → "es", otherwise "s".
func Pluralize(kind string) string {
	l := strings.ToLower(kind)
	switch {
	case l == "":
		return l
	case strings.HasSuffix(l, "s"), strings.HasSuffix(l, "x"), strings.HasSuffix(l, "ch"), strings.HasSuffix(l, "sh"):
		return l + "es"
	case strings.HasSuffix(l, "y") && len(l) > 1 && !strings.ContainsRune("aeiou", rune(l[len(l)-2])):
		return l[:len(l)-1] + "ies"
	default:
		return l + "s"
	}
}
