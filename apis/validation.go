package apis

import (
	"maps"
	"slices"
	"strings"

	"github.com/gantry-sdk/gantry/apis/field"
)

// NameFunc checks an object name and returns the reasons it is invalid
// (IsDNS1123Subdomain for most kinds, IsDNS1123Label for Namespace and Service).
type NameFunc func(name string) []string

// totalAnnotationSizeLimit bounds the annotations of one object (256 KiB), as
// Kubernetes does.
const totalAnnotationSizeLimit = 256 << 10

// ValidateObjectMeta checks the client-set metadata of an object at path
// (normally `metadata`): name (or generateName) against validName, the
// namespace against the kind's scope, labels, annotations, owner references
// and finalizers. Server-set fields (uid, resourceVersion...) are the store's.
func ValidateObjectMeta(m *ObjectMeta, namespaced bool, validName NameFunc, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch {
	case m.Name == "" && m.GenerateName == "":
		errs = append(errs, field.Required(path.Child("name"), "name or generateName is required"))
	case m.Name != "":
		for _, msg := range validName(m.Name) {
			errs = append(errs, field.Invalid(path.Child("name"), m.Name, msg))
		}
	}
	if m.GenerateName != "" {
		// A generated name appends random characters, so a trailing '-' is fine.
		prefix := strings.TrimSuffix(m.GenerateName, "-")
		if prefix != m.GenerateName {
			prefix += "a"
		}
		for _, msg := range validName(prefix) {
			errs = append(errs, field.Invalid(path.Child("generateName"), m.GenerateName, msg))
		}
	}
	if namespaced {
		if m.Namespace == "" {
			errs = append(errs, field.Required(path.Child("namespace"), ""))
		} else {
			for _, msg := range IsDNS1123Label(m.Namespace) {
				errs = append(errs, field.Invalid(path.Child("namespace"), m.Namespace, msg))
			}
		}
	} else if m.Namespace != "" {
		errs = append(errs, field.Forbidden(path.Child("namespace"), "not allowed on this type"))
	}
	if m.Generation < 0 {
		errs = append(errs, field.Invalid(path.Child("generation"), m.Generation, "must be greater than or equal to 0"))
	}
	errs = append(errs, ValidateLabels(m.Labels, path.Child("labels"))...)
	errs = append(errs, ValidateAnnotations(m.Annotations, path.Child("annotations"))...)
	errs = append(errs, validateOwnerReferences(m.OwnerReferences, path.Child("ownerReferences"))...)
	for i, f := range m.Finalizers {
		for _, msg := range IsQualifiedName(f) {
			errs = append(errs, field.Invalid(path.Child("finalizers").Index(i), f, msg))
		}
	}
	return errs
}

// ValidateObjectMetaUpdate checks that an update keeps the object's identity:
// name, namespace, and (once set) uid and creationTimestamp.
func ValidateObjectMetaUpdate(m, old *ObjectMeta, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if m.Name != old.Name {
		errs = append(errs, field.Invalid(path.Child("name"), m.Name, "field is immutable"))
	}
	if m.Namespace != old.Namespace {
		errs = append(errs, field.Invalid(path.Child("namespace"), m.Namespace, "field is immutable"))
	}
	if old.UID != "" && m.UID != "" && m.UID != old.UID {
		errs = append(errs, field.Invalid(path.Child("uid"), m.UID, "field is immutable"))
	}
	if !old.CreationTimestamp.IsZero() && !m.CreationTimestamp.IsZero() && !m.CreationTimestamp.Equal(old.CreationTimestamp.Time) {
		errs = append(errs, field.Invalid(path.Child("creationTimestamp"), m.CreationTimestamp.String(), "field is immutable"))
	}
	return errs
}

// ValidateLabels checks label keys (qualified names) and values.
func ValidateLabels(labels map[string]string, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		for _, msg := range IsQualifiedName(k) {
			errs = append(errs, field.Invalid(path, k, msg))
		}
		for _, msg := range IsValidLabelValue(labels[k]) {
			errs = append(errs, field.Invalid(path.Key(k), labels[k], msg))
		}
	}
	return errs
}

// ValidateAnnotations checks annotation keys (qualified names, lower-case
// prefix) and their total size.
func ValidateAnnotations(annotations map[string]string, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	size := 0
	for _, k := range slices.Sorted(maps.Keys(annotations)) {
		for _, msg := range IsQualifiedName(strings.ToLower(k)) {
			errs = append(errs, field.Invalid(path, k, msg))
		}
		size += len(k) + len(annotations[k])
	}
	if size > totalAnnotationSizeLimit {
		errs = append(errs, field.TooLong(path, "", totalAnnotationSizeLimit))
	}
	return errs
}

func validateOwnerReferences(refs []OwnerReference, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	controllers := 0
	for i, r := range refs {
		p := path.Index(i)
		if r.APIVersion == "" {
			errs = append(errs, field.Required(p.Child("apiVersion"), "version must not be empty"))
		}
		if r.Kind == "" {
			errs = append(errs, field.Required(p.Child("kind"), "kind must not be empty"))
		}
		if r.Name == "" {
			errs = append(errs, field.Required(p.Child("name"), "name must not be empty"))
		}
		if r.UID == "" {
			errs = append(errs, field.Required(p.Child("uid"), "uid must not be empty"))
		}
		if r.Controller != nil && *r.Controller {
			controllers++
		}
	}
	if controllers > 1 {
		errs = append(errs, field.Invalid(path, controllers, "Only one reference can have Controller set to true"))
	}
	return errs
}

// ValidateLabelSelector checks the syntax of a label selector: keys,
// operators, and values as each operator needs them.
func ValidateLabelSelector(s *LabelSelector, path *field.Path) field.ErrorList {
	if s == nil {
		return nil
	}
	errs := ValidateLabels(s.MatchLabels, path.Child("matchLabels"))
	for i, e := range s.MatchExpressions {
		p := path.Child("matchExpressions").Index(i)
		switch e.Operator {
		case LabelSelectorOpIn, LabelSelectorOpNotIn:
			if len(e.Values) == 0 {
				errs = append(errs, field.Required(p.Child("values"), "must be specified when `operator` is 'In' or 'NotIn'"))
			}
		case LabelSelectorOpExists, LabelSelectorOpDoesNotExist:
			if len(e.Values) > 0 {
				errs = append(errs, field.Forbidden(p.Child("values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
			}
		default:
			errs = append(errs, field.NotSupported(p.Child("operator"), string(e.Operator), []string{"In", "NotIn", "Exists", "DoesNotExist"}))
		}
		for _, msg := range IsQualifiedName(e.Key) {
			errs = append(errs, field.Invalid(p.Child("key"), e.Key, msg))
		}
		for j, v := range e.Values {
			for _, msg := range IsValidLabelValue(v) {
				errs = append(errs, field.Invalid(p.Child("values").Index(j), v, msg))
			}
		}
	}
	return errs
}

// ValidateNonnegative reports a negative value at path.
func ValidateNonnegative[N ~int32 | ~int64 | ~int](v N, path *field.Path) field.ErrorList {
	if v < 0 {
		return field.ErrorList{field.Invalid(path, int64(v), "must be greater than or equal to 0")}
	}
	return nil
}

// ValidateImmutable reports a change of a field that may not change.
func ValidateImmutable[T comparable](v, old T, path *field.Path) field.ErrorList {
	if v != old {
		return field.ErrorList{field.Invalid(path, v, "field is immutable")}
	}
	return nil
}

// IsValidPortNum checks a port number: 1-65535.
func IsValidPortNum(port int) []string {
	if port < 1 || port > 65535 {
		return []string{"must be between 1 and 65535, inclusive"}
	}
	return nil
}

// IsValidPortName checks a named port (IANA_SVC_NAME): at most 15 lower-case
// alphanumerics or '-', with at least one letter, no leading, trailing or
// double '-'.
func IsValidPortName(name string) []string {
	var errs []string
	if len(name) > 15 {
		errs = append(errs, "must be no more than 15 characters")
	}
	letter := false
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z':
			letter = true
		case c >= '0' && c <= '9', c == '-':
		default:
			return append(errs, "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
		}
	}
	if strings.Contains(name, "--") {
		errs = append(errs, "must not contain consecutive hyphens")
	}
	if strings.HasPrefix(name, "-") || strings.HasSuffix(name, "-") {
		errs = append(errs, "must not begin or end with a hyphen")
	}
	if !letter {
		errs = append(errs, "must contain at least one letter (a-z)")
	}
	return errs
}
