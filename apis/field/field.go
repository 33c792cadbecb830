// Package field reports validation errors with the path of the field at fault,
// in the form Kubernetes uses: `spec.template.spec.containers[0].image: Required value`.
package field

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Path is the location of a field in an object, built from its root:
// NewPath("spec").Child("ports").Index(0).Child("port").
type Path struct {
	name   string // a field name, or "" for an index or key step
	index  string // "[0]" or "[key]"
	parent *Path
}

// NewPath starts a path at a root field, optionally followed by more names.
func NewPath(name string, more ...string) *Path {
	p := &Path{name: name}
	for _, m := range more {
		p = p.Child(m)
	}
	return p
}

// Child returns the path to a named field below p.
func (p *Path) Child(name string, more ...string) *Path {
	c := &Path{name: name, parent: p}
	for _, m := range more {
		c = c.Child(m)
	}
	return c
}

// Index returns the path to element i of the list at p.
func (p *Path) Index(i int) *Path { return &Path{index: "[" + strconv.Itoa(i) + "]", parent: p} }

// Key returns the path to entry k of the map at p.
func (p *Path) Key(k string) *Path { return &Path{index: "[" + k + "]", parent: p} }

// String renders the path as `a.b[0].c`.
func (p *Path) String() string {
	if p == nil {
		return "<nil>"
	}
	var steps []*Path
	for q := p; q != nil; q = q.parent {
		steps = append(steps, q)
	}
	var b strings.Builder
	for i := len(steps) - 1; i >= 0; i-- {
		s := steps[i]
		if s.index != "" {
			b.WriteString(s.index)
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s.name)
	}
	return b.String()
}

// Type classifies a field error.
type Type string

// The error types, with the wording Kubernetes prints.
const (
	TypeRequired     Type = "Required value"
	TypeInvalid      Type = "Invalid value"
	TypeNotSupported Type = "Unsupported value"
	TypeDuplicate    Type = "Duplicate value"
	TypeForbidden    Type = "Forbidden"
	TypeTooLong      Type = "Too long"
	TypeNotFound     Type = "Not found"
	TypeUnknown      Type = "Unknown field"
)

// Error is one problem with one field.
type Error struct {
	Type     Type
	Field    string // the path, rendered
	BadValue any    // the offending value, when there is one
	Detail   string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Field)
	b.WriteString(": ")
	b.WriteString(string(e.Type))
	if e.BadValue != nil && e.Type != TypeRequired && e.Type != TypeForbidden && e.Type != TypeUnknown {
		switch v := e.BadValue.(type) {
		case string:
			fmt.Fprintf(&b, ": %q", v)
		default:
			fmt.Fprintf(&b, ": %v", v)
		}
	}
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	return b.String()
}

// Required reports a missing value.
func Required(p *Path, detail string) *Error {
	return &Error{Type: TypeRequired, Field: p.String(), Detail: detail}
}

// Invalid reports a value that breaks a rule.
func Invalid(p *Path, value any, detail string) *Error {
	return &Error{Type: TypeInvalid, Field: p.String(), BadValue: value, Detail: detail}
}

// NotSupported reports a value outside an enumeration.
func NotSupported(p *Path, value any, valid []string) *Error {
	d := ""
	if len(valid) > 0 {
		q := make([]string, len(valid))
		for i, v := range valid {
			q[i] = strconv.Quote(v)
		}
		d = "supported values: " + strings.Join(q, ", ")
	}
	return &Error{Type: TypeNotSupported, Field: p.String(), BadValue: value, Detail: d}
}

// Duplicate reports a value that must be unique.
func Duplicate(p *Path, value any) *Error {
	return &Error{Type: TypeDuplicate, Field: p.String(), BadValue: value}
}

// Forbidden reports a field that may not be set (or changed) here.
func Forbidden(p *Path, detail string) *Error {
	return &Error{Type: TypeForbidden, Field: p.String(), Detail: detail}
}

// TooLong reports a value longer than max.
func TooLong(p *Path, value any, max int) *Error {
	return &Error{Type: TypeTooLong, Field: p.String(), BadValue: value, Detail: fmt.Sprintf("must have at most %d bytes", max)}
}

// NotFound reports a reference to something that does not exist.
func NotFound(p *Path, value any) *Error {
	return &Error{Type: TypeNotFound, Field: p.String(), BadValue: value}
}

// Unknown reports a field that the kind does not have.
func Unknown(p *Path) *Error { return &Error{Type: TypeUnknown, Field: p.String()} }

// ErrorList is every problem found in one object. A nil list means valid.
type ErrorList []*Error

// Err returns the list as one error, or nil when it is empty.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

func (l ErrorList) Error() string {
	if len(l) == 1 {
		return l[0].Error()
	}
	msgs := make([]string, len(l))
	for i, e := range l {
		msgs[i] = e.Error()
	}
	return "[" + strings.Join(msgs, ", ") + "]"
}

// Unwrap lets errors.As find each *Error in the list.
func (l ErrorList) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

// AsList extracts the field errors carried by err, if any.
func AsList(err error) ErrorList {
	var l ErrorList
	if errors.As(err, &l) {
		return l
	}
	var e *Error
	if errors.As(err, &e) {
		return ErrorList{e}
	}
	return nil
}
