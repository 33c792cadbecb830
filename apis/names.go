package apis

import (
	"regexp"
	"strings"
)

// Syntax checks shared by validation and selectors. Each returns the reasons a
// value is invalid, in Kubernetes' wording; nil means valid.

const (
	dns1123LabelMax     = 63
	dns1123SubdomainMax = 253
	labelValueMax       = 63
	qualifiedNameMax    = 63
)

var (
	dns1123LabelRe     = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	dns1123SubdomainRe = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	qualifiedNameRe    = regexp.MustCompile(`^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`)
	labelValueRe       = regexp.MustCompile(`^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$`)
)

// IsDNS1123Label checks an RFC 1123 label: at most 63 lower-case alphanumerics
// or '-', starting and ending with an alphanumeric (Namespace, Service names).
func IsDNS1123Label(v string) []string {
	var errs []string
	if len(v) > dns1123LabelMax {
		errs = append(errs, "must be no more than 63 characters")
	}
	if !dns1123LabelRe.MatchString(v) {
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
	if !dns1123SubdomainRe.MatchString(v) {
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
	if name != "" && !qualifiedNameRe.MatchString(name) {
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
	if !labelValueRe.MatchString(v) {
		errs = append(errs, "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345')")
	}
	return errs
}
