package fields

// Fields is read access to an object's selectable fields.
type Fields interface {
	Has(field string) bool
	Get(field string) string
}

// Set is a map of field values.
type Set map[string]string

// Has reports whether field is present.
func (s Set) Has(field string) bool { _, ok := s[field]; return ok }

// Get returns the value of field ("" when absent).
func (s Set) Get(field string) string { return s[field] }

// Selector decides whether an object's fields match.
type Selector interface {
	Matches(Fields) bool
	// Empty reports whether the selector matches everything.
	Empty() bool
	// RequiresExactMatch returns the value the selector requires field to
	// equal, if it has such a term: stores and caches use it to pick an index.
	RequiresExactMatch(field string) (value string, ok bool)
	// String renders the selector in the syntax Parse accepts.
	String() string
}
