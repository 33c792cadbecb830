// Package labels evaluates label selectors: equality-based (`app=web`,
// `tier!=db`) and set-based (`env in (a,b)`, `!canary`), parsed from strings or
// built from an apis.LabelSelector.
//
// # Usage
//
// Parse a selector from a string (the `-l` of kubectl, the labelSelector of a
// list or watch), or convert the apis.LabelSelector of a Deployment, Service
// or Job spec, then test label sets against it:
//
//	sel, err := labels.Parse("app=web,tier in (frontend,edge),!canary")
//	if err != nil { ... } // errors wrap ErrInvalidSelector and name the byte offset
//	sel.Matches(labels.Set(pod.Labels))
//
//	sel, err = labels.FromLabelSelector(deploy.Spec.Selector) // nil → Nothing, empty → Everything
//
// Selectors are immutable values, safe to share between goroutines. String
// renders the canonical form (requirements sorted by key, values sorted), so
// two selectors that mean the same thing print the same and Parse(s.String())
// gives s back. Caches pick an index with RequiresExactMatch(sel, "app") and
// may inspect every term with RequirementsOf.
package labels
