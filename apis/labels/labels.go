package labels

// Labels is read access to a set of labels.
type Labels interface {
	Has(key string) bool
	Get(key string) string
}

// Set is a map of labels.
type Set map[string]string

// Has reports whether key is set.
func (s Set) Has(key string) bool { _, ok := s[key]; return ok }

// Get returns the value of key ("" when unset).
func (s Set) Get(key string) string { return s[key] }

// Selector decides whether a set of labels matches.
type Selector interface {
	Matches(Labels) bool
	// Empty reports whether the selector matches everything.
	Empty() bool
	// String renders the selector in the syntax Parse accepts.
	String() string
}
