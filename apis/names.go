package apis

import "strings"

// Syntax checks shared by validation and selectors. Each returns the reasons a
// value is invalid, in Kubernetes' wording; nil means valid.

const (
	dns1123LabelMax     = 63
	dns1123SubdomainMax = 253
	labelValueMax       = 63
	qualifiedNameMax    = 63
)

// The checks below are hand-written scanners equivalent to Kubernetes'
// regular expressions (kept in the comments); they run on every field of
// every write, where the regexp engine cost most of a Pod's validation.

func isLowerAlnum(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }

func isAlnum(c byte) bool { return isLowerAlnum(c) || 'A' <= c && c <= 'Z' }

// isDNS1123LabelSyntax: ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$
func isDNS1123LabelSyntax(v string) bool {
	if v == "" || !isLowerAlnum(v[0]) || !isLowerAlnum(v[len(v)-1]) {
		return false
	}
	for i := 1; i < len(v)-1; i++ {
		if c := v[i]; c != '-' && !isLowerAlnum(c) {
			return false
		}
	}
	return true
}

// isDNS1123SubdomainSyntax: labels of isDNS1123LabelSyntax joined by '.'.
func isDNS1123SubdomainSyntax(v string) bool {
	for {
		label, rest, more := strings.Cut(v, ".")
		if !isDNS1123LabelSyntax(label) {
			return false
		}
		if !more {
			return true
		}
		v = rest
	}
}

// isNameSyntax: ^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$
func isNameSyntax(v string) bool {
	if v == "" || !isAlnum(v[0]) || !isAlnum(v[len(v)-1]) {
		return false
	}
	for i := 1; i < len(v)-1; i++ {
		if c := v[i]; c != '-' && c != '_' && c != '.' && !isAlnum(c) {
			return false
		}
	}
	return true
}

// IsDNS1123Label checks an RFC 1123 label: at most 63 lower-case alphanumerics
// or '-', starting and ending with an alphanumeric (Namespace, Service names).
func IsDNS1123Label(v string) []string {
	var errs []string
	if len(v) > dns1123LabelMax {
		errs = append(errs, "must be no more than 63 characters")
	}
	if !isDNS1123LabelSyntax(v) {
		errs = append(errs, "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name', or '123-abc')")
	}
	return errs
}

// IsDNS1123Subdomain checks an RFC 1123 subdomain: dot-separated labels, at
// most 253 characters (the names of most kinds).
func IsDNS1123Subdomain(v string) []string {
	var errs []string
	if len(v) > dns1123SubdomainMax {
		errs = append(errs, "must be no more than 253 characters")
	}
	if !isDNS1123SubdomainSyntax(v) {
		errs = append(errs, "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com')")
	}
	return errs
}

// IsQualifiedName checks a label or annotation key: an optional DNS subdomain
// prefix and '/', then a name of at most 63 alphanumerics, '-', '_' or '.'.
func IsQualifiedName(v string) []string {
	var errs []string
	name := v
	if prefix, rest, ok := strings.Cut(v, "/"); ok {
		if prefix == "" {
			errs = append(errs, "prefix part must be non-empty")
		} else {
			for _, e := range IsDNS1123Subdomain(prefix) {
				errs = append(errs, "prefix part "+e)
			}
		}
		name = rest
	}
	switch {
	case name == "":
		errs = append(errs, "name part must be non-empty")
	case len(name) > qualifiedNameMax:
		errs = append(errs, "name part must be no more than 63 characters")
	}
	if name != "" && !isNameSyntax(name) {
		errs = append(errs, "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc')")
	}
	return errs
}

// IsValidLabelValue checks a label value: empty, or at most 63 alphanumerics,
// '-', '_' or '.', starting and ending with an alphanumeric.
func IsValidLabelValue(v string) []string {
	var errs []string
	if len(v) > labelValueMax {
		errs = append(errs, "must be no more than 63 characters")
	}
	if v != "" && !isNameSyntax(v) {
		errs = append(errs, "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345')")
	}
	return errs
}
