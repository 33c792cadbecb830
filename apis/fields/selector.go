package fields

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrInvalidSelector is wrapped by every error from Parse and UnescapeValue.
var ErrInvalidSelector = errors.New("fields: invalid selector")

// Operator is Equals or NotEquals. Parse reads "==" as Equals.
type Operator string

// The operators.
const (
	Equals    Operator = "="
	NotEquals Operator = "!="
)

// Requirement is one term: Field must (Equals) or must not (NotEquals) have Value.
type Requirement struct {
	Field    string
	Operator Operator
	Value    string
}

// Matches reports whether fs satisfies the term. An absent field has the value "".
func (r Requirement) Matches(fs Fields) bool {
	if r.Operator == NotEquals {
		return fs.Get(r.Field) != r.Value
	}
	return fs.Get(r.Field) == r.Value
}

// String renders the term with its value escaped.
func (r Requirement) String() string {
	op := r.Operator
	if op != NotEquals {
		op = Equals
	}
	return r.Field + string(op) + EscapeValue(r.Value)
}

func compareRequirements(a, b Requirement) int {
	if c := strings.Compare(a.Field, b.Field); c != 0 {
		return c
	}
	if c := strings.Compare(string(a.Operator), string(b.Operator)); c != 0 {
		return c
	}
	return strings.Compare(a.Value, b.Value)
}

// selector is a conjunction of terms, sorted by field, plus any selectors from
// elsewhere that AndSelectors was given. The zero value matches everything.
type selector struct {
	terms   []Requirement
	foreign []Selector
}

func newSelector(terms []Requirement, foreign []Selector) selector {
	for i := range terms {
		if terms[i].Operator != NotEquals {
			terms[i].Operator = Equals
		}
	}
	slices.SortFunc(terms, compareRequirements)
	terms = slices.Compact(terms)
	return selector{terms: terms, foreign: foreign}
}

func (s selector) Matches(fs Fields) bool {
	for _, t := range s.terms {
		if !t.Matches(fs) {
			return false
		}
	}
	for _, f := range s.foreign {
		if !f.Matches(fs) {
			return false
		}
	}
	return true
}

func (s selector) Empty() bool {
	if len(s.terms) > 0 {
		return false
	}
	for _, f := range s.foreign {
		if !f.Empty() {
			return false
		}
	}
	return true
}

func (s selector) RequiresExactMatch(field string) (string, bool) {
	for _, t := range s.terms {
		if t.Field == field && t.Operator == Equals {
			return t.Value, true
		}
	}
	for _, f := range s.foreign {
		if v, ok := f.RequiresExactMatch(field); ok {
			return v, true
		}
	}
	return "", false
}

func (s selector) String() string {
	parts := make([]string, 0, len(s.terms)+len(s.foreign))
	for _, t := range s.terms {
		parts = append(parts, t.String())
	}
	for _, f := range s.foreign {
		if str := f.String(); str != "" {
			parts = append(parts, str)
		}
	}
	return strings.Join(parts, ",")
}

// Everything returns the selector that matches every object.
func Everything() Selector { return selector{} }

// OneTermEqual returns the selector `field=value`.
func OneTermEqual(field, value string) Selector {
	return selector{terms: []Requirement{{Field: field, Operator: Equals, Value: value}}}
}

// OneTermNotEqual returns the selector `field!=value`.
func OneTermNotEqual(field, value string) Selector {
	return selector{terms: []Requirement{{Field: field, Operator: NotEquals, Value: value}}}
}

// SelectorFromSet returns the selector requiring every field of set to have
// its value; an empty set gives Everything.
func SelectorFromSet(set Set) Selector {
	terms := make([]Requirement, 0, len(set))
	for f, v := range set {
		terms = append(terms, Requirement{Field: f, Operator: Equals, Value: v})
	}
	return newSelector(terms, nil)
}

// AndSelectors returns the selector that requires all of sels. Selectors
// from this package are merged into one canonical list of terms.
func AndSelectors(sels ...Selector) Selector {
	var terms []Requirement
	var foreign []Selector
	for _, s := range sels {
		switch s := s.(type) {
		case nil:
		case selector:
			terms = append(terms, s.terms...)
			foreign = append(foreign, s.foreign...)
		default:
			foreign = append(foreign, s)
		}
	}
	return newSelector(terms, foreign)
}

// RequirementsOf returns a copy of the terms of a selector built by this
// package, sorted by field. ok is false for selectors that hold terms this
// package cannot see (implemented elsewhere, or combined with such by AndSelectors).
func RequirementsOf(s Selector) (reqs []Requirement, ok bool) {
	sel, ok := s.(selector)
	if !ok || len(sel.foreign) > 0 {
		return nil, false
	}
	return slices.Clone(sel.terms), true
}

// EscapeValue escapes the characters that Parse treats specially in a value:
// `\` as `\\`, `,` as `\,` and `=` as `\=`.
func EscapeValue(v string) string {
	if !strings.ContainsAny(v, `\,=`) {
		return v
	}
	var b strings.Builder
	b.Grow(len(v) + 4)
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '\\', ',', '=':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// UnescapeValue reverses EscapeValue. A backslash before any other byte, or
// at the end, is an error; an unescaped `,` or `=` is too.
func UnescapeValue(v string) (string, error) {
	out, at, reason := unescape(v)
	if reason != "" {
		return "", fmt.Errorf("%w: value %q: at byte %d: %s", ErrInvalidSelector, v, at, reason)
	}
	return out, nil
}

// unescape returns the unescaped value, or the offset in v and the reason it is invalid.
func unescape(v string) (string, int, string) {
	if !strings.ContainsAny(v, `\,=`) {
		return v, 0, ""
	}
	var b strings.Builder
	b.Grow(len(v))
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch c {
		case '\\':
			if i+1 == len(v) {
				return "", i, "'\\' at the end of a value"
			}
			i++
			switch n := v[i]; n {
			case '\\', ',', '=':
				b.WriteByte(n)
			default:
				return "", i - 1, fmt.Sprintf("invalid escape sequence %q in a value (only \\\\, \\, and \\= are allowed)", v[i-1:i+1])
			}
		case ',', '=':
			return "", i, fmt.Sprintf("%q in a value must be escaped as \"\\%c\"", c, c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), 0, ""
}

// Parse parses a field selector: comma-separated terms that must all hold,
// each `field=value`, `field==value` or `field!=value`. In values `\,`, `\=`
// and `\\` stand for `,`, `=` and `\`. Empty terms are skipped and the empty
// string is Everything. Errors wrap ErrInvalidSelector and name the byte
// offset and the term.
func Parse(s string) (Selector, error) {
	var terms []Requirement
	start := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) {
			if s[i] == '\\' {
				if i+1 < len(s) {
					i++ // the escaped byte never separates terms
				}
				continue
			}
			if s[i] != ',' {
				continue
			}
		}
		term := s[start:min(i, len(s))]
		if strings.TrimSpace(term) != "" {
			r, err := parseTerm(s, term, start)
			if err != nil {
				return nil, err
			}
			terms = append(terms, r)
		}
		start = i + 1
	}
	return newSelector(terms, nil), nil
}

// parseTerm splits term (found at byte offset at of input) on its first
// unescaped operator.
func parseTerm(input, term string, at int) (Requirement, error) {
	for i := 0; i < len(term); i++ {
		var op Operator
		var n int
		switch {
		case term[i] == '\\':
			i++
			continue
		case strings.HasPrefix(term[i:], "!="):
			op, n = NotEquals, 2
		case strings.HasPrefix(term[i:], "=="):
			op, n = Equals, 2
		case term[i] == '=':
			op, n = Equals, 1
		default:
			continue
		}
		f := strings.TrimSpace(term[:i])
		switch {
		case f == "":
			return Requirement{}, fmt.Errorf("%w: %q: at byte %d: term %q has no field name before %q", ErrInvalidSelector, input, at, term, op)
		case strings.ContainsAny(f, " \t\r\n\\!"):
			// '!' would make `f!=v` ambiguous when rendered back.
			return Requirement{}, fmt.Errorf("%w: %q: at byte %d: field name %q may not contain whitespace, '\\' or '!'", ErrInvalidSelector, input, at, f)
		}
		v, bad, reason := unescape(term[i+n:])
		if reason != "" {
			return Requirement{}, fmt.Errorf("%w: %q: at byte %d: %s", ErrInvalidSelector, input, at+i+n+bad, reason)
		}
		return Requirement{Field: f, Operator: op, Value: v}, nil
	}
	return Requirement{}, fmt.Errorf("%w: %q: at byte %d: term %q has no operator (=, ==, !=)", ErrInvalidSelector, input, at, term)
}
