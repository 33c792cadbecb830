package labels

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gantry-sdk/gantry/apis"
)

// ErrInvalidSelector is wrapped by every error from Parse, FromLabelSelector,
// NewRequirement and ValidatedSelectorFromSet.
var ErrInvalidSelector = errors.New("labels: invalid selector")

// Operator is the relation a Requirement checks.
type Operator string

// The operators. Equals and DoubleEquals mean the same; String renders both as "=".
const (
	Equals       Operator = "="
	DoubleEquals Operator = "=="
	NotEquals    Operator = "!="
	In           Operator = "in"
	NotIn        Operator = "notin"
	Exists       Operator = "exists"
	DoesNotExist Operator = "!"
)

// Requirement is one term of a selector: a key, an operator and, for all
// operators but Exists and DoesNotExist, values. It is immutable.
type Requirement struct {
	key    string
	op     Operator
	values []string // sorted, no duplicates
}

// NewRequirement builds a validated requirement: key must be a qualified
// name, values valid label values; Equals, DoubleEquals and NotEquals take
// exactly one value, In and NotIn at least one, Exists and DoesNotExist none.
func NewRequirement(key string, op Operator, values []string) (Requirement, error) {
	if errs := apis.IsQualifiedName(key); len(errs) > 0 {
		return Requirement{}, fmt.Errorf("%w: key %q: %s", ErrInvalidSelector, key, strings.Join(errs, "; "))
	}
	switch op {
	case Equals, DoubleEquals, NotEquals:
		if len(values) != 1 {
			return Requirement{}, fmt.Errorf("%w: key %q: operator %q takes exactly one value, got %d", ErrInvalidSelector, key, op, len(values))
		}
		if op == DoubleEquals {
			op = Equals
		}
	case In, NotIn:
		if len(values) == 0 {
			return Requirement{}, fmt.Errorf("%w: key %q: operator %q needs at least one value", ErrInvalidSelector, key, op)
		}
	case Exists, DoesNotExist:
		if len(values) != 0 {
			return Requirement{}, fmt.Errorf("%w: key %q: operator %q takes no values", ErrInvalidSelector, key, op)
		}
	default:
		return Requirement{}, fmt.Errorf("%w: key %q: unknown operator %q", ErrInvalidSelector, key, op)
	}
	for _, v := range values {
		if errs := apis.IsValidLabelValue(v); len(errs) > 0 {
			return Requirement{}, fmt.Errorf("%w: key %q: value %q: %s", ErrInvalidSelector, key, v, strings.Join(errs, "; "))
		}
	}
	return newRequirement(key, op, values), nil
}

// newRequirement builds a requirement without validation.
func newRequirement(key string, op Operator, values []string) Requirement {
	var vs []string
	if len(values) > 0 {
		vs = slices.Clone(values)
		slices.Sort(vs)
		vs = slices.Compact(vs)
	}
	if op == DoubleEquals {
		op = Equals
	}
	return Requirement{key: key, op: op, values: vs}
}

// Key returns the label key.
func (r Requirement) Key() string { return r.key }

// Operator returns the operator; DoubleEquals is reported as Equals.
func (r Requirement) Operator() Operator { return r.op }

// Values returns a copy of the values, sorted.
func (r Requirement) Values() []string { return slices.Clone(r.values) }

// Matches reports whether ls satisfies the requirement. As in Kubernetes,
// NotEquals and NotIn also match when the key is absent.
func (r Requirement) Matches(ls Labels) bool {
	switch r.op {
	case Equals, DoubleEquals, In:
		return ls.Has(r.key) && r.hasValue(ls.Get(r.key))
	case NotEquals, NotIn:
		return !ls.Has(r.key) || !r.hasValue(ls.Get(r.key))
	case Exists:
		return ls.Has(r.key)
	case DoesNotExist:
		return !ls.Has(r.key)
	}
	return false
}

func (r Requirement) hasValue(v string) bool {
	if len(r.values) < 8 { // a scan beats a binary search on the usual one or two values
		return slices.Contains(r.values, v)
	}
	_, ok := slices.BinarySearch(r.values, v)
	return ok
}

// String renders the requirement in the syntax Parse accepts.
func (r Requirement) String() string {
	var b strings.Builder
	r.writeTo(&b)
	return b.String()
}

func (r Requirement) writeTo(b *strings.Builder) {
	switch r.op {
	case Exists:
		b.WriteString(r.key)
	case DoesNotExist:
		b.WriteByte('!')
		b.WriteString(r.key)
	case Equals, DoubleEquals, NotEquals:
		b.WriteString(r.key)
		b.WriteString(string(r.op))
		if len(r.values) > 0 {
			b.WriteString(r.values[0])
		}
	case In, NotIn:
		b.WriteString(r.key)
		b.WriteByte(' ')
		b.WriteString(string(r.op))
		b.WriteString(" (")
		b.WriteString(strings.Join(r.values, ","))
		b.WriteByte(')')
	}
}

// compare orders requirements canonically: by key, then by rendering.
func compareRequirements(a, b Requirement) int {
	if c := strings.Compare(a.key, b.key); c != 0 {
		return c
	}
	return strings.Compare(a.String(), b.String())
}

// selector is a conjunction of requirements, sorted canonically. The zero
// value (no requirements) matches everything.
type selector struct {
	reqs []Requirement
}

// NewSelector returns the selector that requires every one of reqs.
func NewSelector(reqs ...Requirement) Selector {
	if len(reqs) == 0 {
		return selector{}
	}
	return ownedSelector(slices.Clone(reqs))
}

// ownedSelector sorts rs in place and keeps it: callers hand over a slice
// nobody else holds.
func ownedSelector(rs []Requirement) Selector {
	if len(rs) == 0 {
		return selector{}
	}
	slices.SortFunc(rs, compareRequirements)
	rs = slices.CompactFunc(rs, func(a, b Requirement) bool { return compareRequirements(a, b) == 0 })
	return selector{reqs: rs}
}

func (s selector) Matches(ls Labels) bool {
	for _, r := range s.reqs {
		if !r.Matches(ls) {
			return false
		}
	}
	return true
}

func (s selector) Empty() bool { return len(s.reqs) == 0 }

func (s selector) String() string {
	var b strings.Builder
	for i, r := range s.reqs {
		if i > 0 {
			b.WriteByte(',')
		}
		r.writeTo(&b)
	}
	return b.String()
}

// nothing matches no labels at all: the selector of a nil *apis.LabelSelector.
type nothing struct{}

func (nothing) Matches(Labels) bool { return false }
func (nothing) Empty() bool         { return false }

// String is empty: no selector syntax denotes "match nothing".
func (nothing) String() string { return "" }

// Everything returns the selector that matches every set of labels.
func Everything() Selector { return selector{} }

// Nothing returns the selector that matches no set of labels.
func Nothing() Selector { return nothing{} }

// IsNothing reports whether s is the selector Nothing returns.
func IsNothing(s Selector) bool { _, ok := s.(nothing); return ok }

// SelectorFromSet returns the selector requiring every pair of set (an empty
// set gives Everything). Keys and values are not validated, so a set holding
// invalid ones yields a selector that String cannot render for Parse; use
// ValidatedSelectorFromSet for sets from untrusted input.
func SelectorFromSet(set Set) Selector {
	reqs := make([]Requirement, 0, len(set))
	for k, v := range set {
		reqs = append(reqs, Requirement{key: k, op: Equals, values: []string{v}})
	}
	return ownedSelector(reqs)
}

// ValidatedSelectorFromSet is SelectorFromSet with every key and value validated.
func ValidatedSelectorFromSet(set Set) (Selector, error) {
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	slices.Sort(keys) // report the first bad key deterministically
	reqs := make([]Requirement, 0, len(set))
	for _, k := range keys {
		r, err := NewRequirement(k, Equals, []string{set[k]})
		if err != nil {
			return nil, err
		}
		reqs = append(reqs, r)
	}
	return ownedSelector(reqs), nil
}

// FromLabelSelector converts an apis.LabelSelector as Kubernetes does: a nil
// selector matches nothing, an empty one everything; otherwise every
// matchLabels pair and every matchExpressions requirement must hold. Errors
// name the offending field, e.g. `matchExpressions[1].values`.
func FromLabelSelector(ls *apis.LabelSelector) (Selector, error) {
	if ls == nil {
		return Nothing(), nil
	}
	if len(ls.MatchLabels)+len(ls.MatchExpressions) == 0 {
		return Everything(), nil
	}
	reqs := make([]Requirement, 0, len(ls.MatchLabels)+len(ls.MatchExpressions))
	keys := make([]string, 0, len(ls.MatchLabels))
	for k := range ls.MatchLabels {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := ls.MatchLabels[k]
		if errs := apis.IsQualifiedName(k); len(errs) > 0 {
			return nil, fmt.Errorf("%w: matchLabels: key %q: %s", ErrInvalidSelector, k, strings.Join(errs, "; "))
		}
		if errs := apis.IsValidLabelValue(v); len(errs) > 0 {
			return nil, fmt.Errorf("%w: matchLabels[%s]: value %q: %s", ErrInvalidSelector, k, v, strings.Join(errs, "; "))
		}
		reqs = append(reqs, newRequirement(k, Equals, []string{v}))
	}
	for i, e := range ls.MatchExpressions {
		var op Operator
		switch e.Operator {
		case apis.LabelSelectorOpIn:
			op = In
		case apis.LabelSelectorOpNotIn:
			op = NotIn
		case apis.LabelSelectorOpExists:
			op = Exists
		case apis.LabelSelectorOpDoesNotExist:
			op = DoesNotExist
		default:
			return nil, fmt.Errorf("%w: matchExpressions[%d].operator: unsupported value %q: supported values: \"In\", \"NotIn\", \"Exists\", \"DoesNotExist\"", ErrInvalidSelector, i, e.Operator)
		}
		if errs := apis.IsQualifiedName(e.Key); len(errs) > 0 {
			return nil, fmt.Errorf("%w: matchExpressions[%d].key: invalid value %q: %s", ErrInvalidSelector, i, e.Key, strings.Join(errs, "; "))
		}
		switch {
		case (op == In || op == NotIn) && len(e.Values) == 0:
			return nil, fmt.Errorf("%w: matchExpressions[%d].values: must be specified when operator is %q", ErrInvalidSelector, i, e.Operator)
		case (op == Exists || op == DoesNotExist) && len(e.Values) > 0:
			return nil, fmt.Errorf("%w: matchExpressions[%d].values: may not be specified when operator is %q", ErrInvalidSelector, i, e.Operator)
		}
		for j, v := range e.Values {
			if errs := apis.IsValidLabelValue(v); len(errs) > 0 {
				return nil, fmt.Errorf("%w: matchExpressions[%d].values[%d]: invalid value %q: %s", ErrInvalidSelector, i, j, v, strings.Join(errs, "; "))
			}
		}
		reqs = append(reqs, newRequirement(e.Key, op, e.Values))
	}
	return ownedSelector(reqs), nil
}

// RequirementsOf returns the requirements of a selector built by this
// package (a copy: selectors stay immutable). ok is false for Nothing and for
// selectors implemented elsewhere, whose terms are not known.
func RequirementsOf(s Selector) (reqs []Requirement, ok bool) {
	sel, ok := s.(selector)
	if !ok {
		return nil, false
	}
	return slices.Clone(sel.reqs), true
}

// RequiresExactMatch returns the value s requires label key to have, if s has
// an `key=value` or single-valued `key in (value)` term: caches use it to
// pick an index.
func RequiresExactMatch(s Selector, key string) (value string, ok bool) {
	sel, isSel := s.(selector)
	if !isSel {
		return "", false
	}
	for _, r := range sel.reqs {
		if r.key == key && (r.op == Equals || r.op == In) && len(r.values) == 1 {
			return r.values[0], true
		}
	}
	return "", false
}

// String renders the set as a selector, `a=b,c=d`, keys sorted.
func (s Set) String() string { return SelectorFromSet(s).String() }
