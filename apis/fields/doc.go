// Package fields evaluates field selectors: `metadata.name=x`,
// `spec.nodeName!=`, `status.phase=Running,metadata.namespace=default`.
// The fields an object offers come from its kind (apis.KindInfo.Fields).
//
// # Usage
//
// Parse the fieldSelector of a list or watch (kubectl's --field-selector),
// or build one in code, and test an object's fields (apis.KindInfo.Fields)
// against it:
//
//	sel, err := fields.Parse("spec.nodeName=node-1,status.phase!=Succeeded")
//	if err != nil { ... } // errors wrap ErrInvalidSelector and name the byte offset
//	sel.Matches(fields.Set(kind.Fields(pod)))
//
//	sel = fields.AndSelectors(fields.OneTermEqual("metadata.namespace", "default"), sel)
//	if node, ok := sel.RequiresExactMatch("spec.nodeName"); ok { ... } // use an index
//
// Values may hold `,`, `=` and `\` escaped as `\,`, `\=` and `\\`
// (EscapeValue). Selectors are immutable; String renders the canonical form,
// terms sorted by field, which Parse reads back to the same selector.
package fields
