package apis

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/gantry-sdk/gantry/apis/field"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// Codec errors. Decoding errors are *DocumentError values that wrap one of
// these (or ErrUnknownKind) and say which document of the input failed.
var (
	// ErrMalformed: the input is not valid JSON or YAML, or a value has the
	// wrong type for its field.
	ErrMalformed = errors.New("apis: malformed manifest")
	// ErrMissingType: a document lacks apiVersion or kind.
	ErrMissingType = errors.New("apis: missing apiVersion or kind")
	// ErrUnknownField: in strict mode, a document has a field its kind does
	// not define, or the same field twice.
	ErrUnknownField = errors.New("apis: unknown field")
	// ErrTooManyDocuments: Decode was given a stream of several documents.
	ErrTooManyDocuments = errors.New("apis: more than one document")
)

// Codec decodes JSON and YAML manifests into the typed objects of a Scheme's
// kinds, and encodes objects back. Its zero value decodes nothing (every kind
// is unknown); set Scheme. It is safe for concurrent use.
type Codec struct {
	Scheme *Scheme
	// Strict rejects documents with unknown or duplicate fields; otherwise
	// they are reported as warnings and ignored, as kubectl does by default.
	Strict bool
}

// Warning is a problem that did not stop a document from decoding: an
// unknown field (a typo, or a field of a newer API version) or a duplicate one.
type Warning struct {
	Document int    // index of the document in the input, from 0
	Line     int    // line where the document starts, from 1
	Field    string // full path: spec.template.spec.containers[0].imagee
	Message  string // `unknown field "spec.template.spec.containers[0].imagee"`
}

func (w Warning) String() string {
	return fmt.Sprintf("document[%d] (line %d): %s", w.Document, w.Line, w.Message)
}

// DocumentError is the error for one document of the input.
type DocumentError struct {
	Index int              // index of the document in the input, from 0
	Line  int              // line where the document starts, from 1
	GVK   GroupVersionKind // the document's kind, when decoding got that far
	Err   error
}

func (e *DocumentError) Error() string {
	if e.GVK.Kind != "" {
		return fmt.Sprintf("apis: document[%d] (line %d, %s): %v", e.Index, e.Line, e.GVK, e.Err)
	}
	return fmt.Sprintf("apis: document[%d] (line %d): %v", e.Index, e.Line, e.Err)
}

func (e *DocumentError) Unwrap() error { return e.Err }

// document is one manifest of the input, as JSON.
type document struct {
	index int
	line  int    // where its content starts in the input (after blank and comment lines)
	first int    // the input line of data's first line
	data  []byte // JSON, or YAML until converted
	yaml  bool
}

// Decode decodes one object from data, JSON or YAML. Unknown fields come
// back as warnings (or, with Strict, as an error wrapping ErrUnknownField).
// A stream of several documents is an error; use DecodeAll.
func (c Codec) Decode(data []byte) (Object, []Warning, error) {
	docs, err := splitDocuments(data)
	if err != nil {
		return nil, nil, err
	}
	switch len(docs) {
	case 0:
		return nil, nil, &DocumentError{Line: 1, Err: fmt.Errorf("%w: the input holds no document", ErrMissingType)}
	case 1:
	default:
		return nil, nil, &DocumentError{Index: 1, Line: docs[1].line, Err: fmt.Errorf("%w: found %d documents; use DecodeAll", ErrTooManyDocuments, len(docs))}
	}
	return c.decodeDocument(docs[0], nil)
}

// DecodeInto decodes one document of data into obj, whose Go type fixes the
// kind: the document's apiVersion and kind, when present, must name the same.
// On error obj may be partly filled.
func (c Codec) DecodeInto(data []byte, obj Object) ([]Warning, error) {
	if v := reflect.ValueOf(obj); obj == nil || v.Kind() != reflect.Pointer || v.IsNil() {
		return nil, fmt.Errorf("%w: cannot decode into %T", ErrUnknownKind, obj)
	}
	docs, err := splitDocuments(data)
	if err != nil {
		return nil, err
	}
	switch len(docs) {
	case 0:
		return nil, &DocumentError{Line: 1, Err: fmt.Errorf("%w: the input holds no document", ErrMissingType)}
	case 1:
	default:
		return nil, &DocumentError{Index: 1, Line: docs[1].line, Err: fmt.Errorf("%w: found %d documents", ErrTooManyDocuments, len(docs))}
	}
	_, warns, err := c.decodeDocument(docs[0], obj)
	return warns, err
}

// DecodeAll decodes every document of data: a YAML stream separated by
// `---` lines, or a sequence of JSON objects. Empty documents are skipped and
// not counted. It decodes all it can: objs has one entry per document, nil
// where that document failed, and err joins one *DocumentError per failure.
func (c Codec) DecodeAll(data []byte) (objs []Object, warnings []Warning, err error) {
	docs, err := splitDocuments(data)
	if err != nil {
		return nil, nil, err
	}
	var errs []error
	objs = make([]Object, len(docs))
	for i, d := range docs {
		obj, warns, err := c.decodeDocument(d, nil)
		warnings = append(warnings, warns...)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		objs[i] = obj
	}
	return objs, warnings, errors.Join(errs...)
}

// decodeDocument decodes d into into, or into a new object of the kind d names.
func (c Codec) decodeDocument(d document, into Object) (Object, []Warning, error) {
	docErr := func(gvk GroupVersionKind, err error) error {
		return &DocumentError{Index: d.index, Line: d.line, GVK: gvk, Err: err}
	}
	var warns []Warning
	data := d.data
	if d.yaml {
		j, dupErr := yaml.YAMLToJSONStrict(data)
		if dupErr != nil {
			// Retry leniently: the strict conversion also fails on duplicate keys.
			var err error
			if j, err = yaml.YAMLToJSON(data); err != nil {
				return nil, nil, docErr(GroupVersionKind{}, fmt.Errorf("%w: %s", ErrMalformed, absoluteYAMLLines(err.Error(), d.first)))
			}
			msg := absoluteYAMLLines(strings.Join(strings.Fields(dupErr.Error()), " "), d.first)
			if c.Strict {
				return nil, nil, docErr(GroupVersionKind{}, fmt.Errorf("%w: %s", ErrUnknownField, msg))
			}
			warns = append(warns, Warning{Document: d.index, Line: d.line, Message: msg})
		}
		data = j
	}
	if t := firstByte(data); t != '{' {
		return nil, warns, docErr(GroupVersionKind{}, fmt.Errorf("%w: a manifest must be a mapping (JSON object), found %s", ErrMalformed, describeJSONStart(data)))
	}
	var tm TypeMeta
	if err := kjson.UnmarshalCaseSensitivePreserveInts(data, &tm); err != nil {
		return nil, warns, docErr(GroupVersionKind{}, c.syntaxError(d, data, err))
	}
	var info *KindInfo
	if into != nil {
		if c.Scheme != nil {
			info, _ = c.Scheme.KindOf(into)
		}
		if info != nil && (tm.APIVersion != "" || tm.Kind != "") && tm.GroupVersionKind() != info.GVK {
			return nil, warns, docErr(tm.GroupVersionKind(), fmt.Errorf("%w: the document is %s, decoding into %s", ErrUnknownKind, tm.GroupVersionKind(), info.GVK))
		}
	} else {
		switch {
		case tm.APIVersion == "" && tm.Kind == "":
			return nil, warns, docErr(GroupVersionKind{}, fmt.Errorf("%w: \"apiVersion\" and \"kind\" are not set", ErrMissingType))
		case tm.APIVersion == "":
			return nil, warns, docErr(GroupVersionKind{}, fmt.Errorf("%w: \"apiVersion\" is not set (kind %q)", ErrMissingType, tm.Kind))
		case tm.Kind == "":
			return nil, warns, docErr(GroupVersionKind{}, fmt.Errorf("%w: \"kind\" is not set (apiVersion %q)", ErrMissingType, tm.APIVersion))
		}
		var err error
		if c.Scheme == nil {
			err = fmt.Errorf("%w: %s (the codec has no Scheme)", ErrUnknownKind, tm.GroupVersionKind())
		} else if info, err = c.Scheme.Lookup(tm.GroupVersionKind()); err != nil {
			err = fmt.Errorf("%w%s", err, c.otherVersions(tm.Kind))
		}
		if err != nil {
			return nil, warns, docErr(tm.GroupVersionKind(), err)
		}
		into = info.New()
	}
	kind := tm.GroupVersionKind()
	if info != nil {
		kind = info.GVK
	}

	strictErrs, err := kjson.UnmarshalStrict(data, into, kjson.DisallowUnknownFields, kjson.DisallowDuplicateFields)
	if err != nil {
		return nil, warns, docErr(kind, c.valueError(d, data, reflect.TypeOf(into), err))
	}
	if len(strictErrs) > 0 {
		var list field.ErrorList
		for _, se := range strictErrs {
			path := ""
			var fe kjson.FieldError
			if errors.As(se, &fe) {
				path = fe.FieldPath()
			}
			if c.Strict {
				fieldErr := &field.Error{Type: field.TypeUnknown, Field: path}
				if strings.HasPrefix(se.Error(), "duplicate field") {
					fieldErr = &field.Error{Type: field.TypeDuplicate, Field: path, Detail: "the field is set twice"}
				}
				list = append(list, fieldErr)
				continue
			}
			warns = append(warns, Warning{Document: d.index, Line: d.line, Field: path, Message: se.Error()})
		}
		if len(list) > 0 {
			return nil, warns, docErr(kind, fmt.Errorf("%w: %w", ErrUnknownField, list))
		}
	}
	if into.Type().Kind == "" && info != nil {
		into.Type().SetGroupVersionKind(info.GVK)
	}
	return into, warns, nil
}

// otherVersions names the registered versions of kind, to help with a wrong apiVersion.
func (c Codec) otherVersions(kind string) string {
	var known []string
	for _, k := range c.Scheme.Kinds() {
		if k.GVK.Kind == kind {
			known = append(known, k.GVK.GroupVersion().String())
		}
	}
	if len(known) == 0 {
		return ""
	}
	return fmt.Sprintf(" (kind %s is registered as apiVersion %s)", kind, strings.Join(known, ", "))
}

// syntaxError describes a JSON syntax error by line and column of the input
// (for YAML input the JSON is generated, so only the document is named).
func (c Codec) syntaxError(d document, data []byte, err error) error {
	if ok, off := kjson.SyntaxErrorOffset(err); ok {
		if d.yaml {
			return fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		at := errorByte(off)
		line, col := lineCol(data, at)
		return fmt.Errorf("%w: line %d, column %d (byte %d): %v", ErrMalformed, d.line+line-1, col, at, err)
	}
	return fmt.Errorf("%w: %v", ErrMalformed, err)
}

// valueError turns a decoding error into one naming the field at fault, with
// its exact path (`spec.containers[0].ports[1].containerPort`): the standard
// decoder's own paths leave out list indexes and are missing altogether for
// errors from UnmarshalJSON methods (times, quantities).
func (c Codec) valueError(d document, data []byte, t reflect.Type, err error) error {
	if ok, _ := kjson.SyntaxErrorOffset(err); ok {
		return c.syntaxError(d, data, err)
	}
	path, leafErr := locate(data, t, "", 0)
	if path == "" {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return fmt.Errorf("%w: %w", ErrMalformed, field.ErrorList{{Type: field.TypeInvalid, Field: path, Detail: describeValueError(leafErr)}})
}

func describeValueError(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("cannot decode %s into a value of Go type %v", te.Value, te.Type)
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// locateMaxDepth bounds the search; manifests are nowhere near as deep.
const locateMaxDepth = 64

// locate finds the deepest value of data, a JSON value for Go type t, that
// fails to decode, and returns its path and error. It re-decodes pieces, so
// it runs only once a decode has failed.
func locate(data []byte, t reflect.Type, path string, depth int) (string, error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	leafErr := kjson.UnmarshalCaseSensitivePreserveInts(data, reflect.New(t).Interface())
	if leafErr == nil || depth >= locateMaxDepth || bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
		return path, leafErr
	}
	if reflect.PointerTo(t).Implements(reflect.TypeFor[json.Unmarshaler]()) {
		return path, leafErr // a custom decoder: this value is the unit
	}
	try := func(raw []byte, ft reflect.Type, sub string) (string, error, bool) {
		if kjson.UnmarshalCaseSensitivePreserveInts(raw, reflect.New(ft).Interface()) == nil {
			return "", nil, false
		}
		p, e := locate(raw, ft, sub, depth+1)
		return p, e, true
	}
	switch t.Kind() {
	case reflect.Struct:
		var obj map[string]json.RawMessage
		if json.Unmarshal(data, &obj) != nil {
			return path, leafErr
		}
		fields := jsonFields(t)
		for _, key := range sortedRawKeys(obj) {
			ft, ok := fields[key]
			if !ok {
				continue
			}
			if p, e, failed := try(obj[key], ft, joinPath(path, key)); failed {
				return p, e
			}
		}
	case reflect.Slice, reflect.Array:
		var items []json.RawMessage
		if json.Unmarshal(data, &items) != nil {
			return path, leafErr
		}
		for i, raw := range items {
			if p, e, failed := try(raw, t.Elem(), path+"["+strconv.Itoa(i)+"]"); failed {
				return p, e
			}
		}
	case reflect.Map:
		var obj map[string]json.RawMessage
		if json.Unmarshal(data, &obj) != nil {
			return path, leafErr
		}
		for _, key := range sortedRawKeys(obj) {
			if p, e, failed := try(obj[key], t.Elem(), path+"["+key+"]"); failed {
				return p, e
			}
		}
	}
	return path, leafErr
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func sortedRawKeys(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// jsonFields maps the JSON names of struct t to their Go types, with the
// fields of embedded structs (TypeMeta, ObjectMeta when inlined) promoted.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	var walk func(t reflect.Type, depth int)
	walk = func(t reflect.Type, depth int) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			if tag == "-" || (!f.IsExported() && !f.Anonymous) {
				continue
			}
			name, _, _ := strings.Cut(tag, ",")
			ft := f.Type
			if f.Anonymous && name == "" {
				for ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if ft.Kind() == reflect.Struct && depth < 8 {
					walk(ft, depth+1)
					continue
				}
			}
			if name == "" {
				name = f.Name
			}
			if _, taken := out[name]; !taken || depth == 0 {
				out[name] = ft
			}
		}
	}
	walk(t, 0)
	return out
}

// EncodeJSON renders obj as JSON. An empty apiVersion and kind are filled in
// from the Scheme, in the output only: obj is not modified.
func (c Codec) EncodeJSON(obj Object) ([]byte, error) {
	obj, err := c.withTypeMeta(obj)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("apis: encode %s %s: %w", obj.Type().Kind, KeyOf(obj), err)
	}
	return b, nil
}

// EncodeYAML renders objs as a YAML stream, documents separated by `---`,
// keys sorted as kubectl prints them.
func (c Codec) EncodeYAML(objs ...Object) ([]byte, error) {
	var out bytes.Buffer
	for i, obj := range objs {
		j, err := c.EncodeJSON(obj)
		if err != nil {
			return nil, err
		}
		y, err := yaml.JSONToYAML(j)
		if err != nil {
			return nil, fmt.Errorf("apis: encode %s %s as YAML: %w", obj.Type().Kind, KeyOf(obj), err)
		}
		if i > 0 {
			out.WriteString("---\n")
		}
		out.Write(y)
	}
	return out.Bytes(), nil
}

// withTypeMeta returns obj, or a shallow copy of it with TypeMeta set from
// the Scheme when obj's is empty.
func (c Codec) withTypeMeta(obj Object) (Object, error) {
	v := reflect.ValueOf(obj)
	if obj == nil || v.Kind() != reflect.Pointer || v.IsNil() {
		return nil, fmt.Errorf("%w: cannot encode %T", ErrUnknownKind, obj)
	}
	tm := obj.Type()
	if tm.APIVersion != "" && tm.Kind != "" {
		return obj, nil
	}
	if c.Scheme == nil {
		return nil, fmt.Errorf("%w: %T has no apiVersion/kind and the codec has no Scheme", ErrUnknownKind, obj)
	}
	info, err := c.Scheme.KindOf(obj)
	if err != nil {
		return nil, err
	}
	cp := reflect.New(v.Elem().Type())
	cp.Elem().Set(v.Elem())
	out := cp.Interface().(Object)
	out.Type().SetGroupVersionKind(info.GVK)
	return out, nil
}

// splitDocuments splits data into documents: JSON values if it starts with
// '{' or '[', otherwise a YAML stream.
func splitDocuments(data []byte) ([]document, error) {
	switch firstByte(data) {
	case 0:
		return nil, nil
	case '{', '[':
		docs, err := splitJSON(data)
		if err != nil && yamlConverts(data) {
			// A YAML flow mapping, `{kind: Pod, ...}`, is not JSON.
			return splitYAML(data), nil
		}
		return docs, err
	}
	return splitYAML(data), nil
}

// yamlConverts reports whether every document of the YAML stream data converts to JSON.
func yamlConverts(data []byte) bool {
	for _, d := range splitYAML(data) {
		if _, err := yaml.YAMLToJSON(d.data); err != nil {
			return false
		}
	}
	return true
}

func splitJSON(data []byte) ([]document, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var docs []document
	for {
		start := dec.InputOffset()
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if err == io.EOF {
			return docs, nil
		}
		if err != nil {
			var se *json.SyntaxError
			off := int(dec.InputOffset())
			if errors.As(err, &se) {
				off = errorByte(se.Offset)
			}
			line, col := lineCol(data, off)
			return nil, &DocumentError{Index: len(docs), Line: line, Err: fmt.Errorf("%w: line %d, column %d (byte %d): %v", ErrMalformed, line, col, off, err)}
		}
		// The value starts after any whitespace the decoder skipped.
		rest := data[start:]
		skip := len(rest) - len(bytes.TrimLeft(rest, " \t\r\n"))
		line, _ := lineCol(data, int(start)+skip)
		docs = append(docs, document{index: len(docs), line: line, data: raw})
	}
}

// splitYAML splits a YAML stream on separator lines (`---`, optionally
// followed by a comment) as kubectl does, dropping documents that hold only
// comments and whitespace.
func splitYAML(data []byte) []document {
	var docs []document
	start, startLine := 0, 1
	flush := func(end int) {
		chunk := data[start:end]
		if skipped, ok := yamlContentLine(chunk); ok {
			docs = append(docs, document{index: len(docs), line: startLine + skipped, first: startLine, data: chunk, yaml: true})
		}
	}
	line := 1
	for pos := 0; pos < len(data); {
		end := bytes.IndexByte(data[pos:], '\n')
		next := len(data)
		if end >= 0 {
			next = pos + end + 1
		}
		l := bytes.TrimRight(data[pos:next], "\r\n")
		if rest, ok := bytes.CutPrefix(l, []byte("---")); ok {
			rest = bytes.TrimSpace(rest)
			if len(rest) == 0 || rest[0] == '#' {
				flush(pos)
				start, startLine = next, line+1
			}
		}
		pos = next
		line++
	}
	flush(len(data))
	return docs
}

// yamlContentLine returns how many blank and comment lines precede the
// content of chunk; ok is false when there is no content.
func yamlContentLine(chunk []byte) (skipped int, ok bool) {
	for l := range bytes.Lines(chunk) {
		l = bytes.TrimSpace(l)
		if len(l) > 0 && l[0] != '#' {
			return skipped, true
		}
		skipped++
	}
	return 0, false
}

var yamlLineRe = regexp.MustCompile(`line (\d+)`)

// absoluteYAMLLines rewrites "line N" in a YAML error, which counts from the
// start of the document, to count from the start of the input.
func absoluteYAMLLines(msg string, docLine int) string {
	return yamlLineRe.ReplaceAllStringFunc(msg, func(m string) string {
		n, err := strconv.Atoi(m[len("line "):])
		if err != nil {
			return m
		}
		return "line " + strconv.Itoa(n+docLine-1)
	})
}

// firstByte returns the first non-space byte of data, or 0.
func firstByte(data []byte) byte {
	data = bytes.TrimLeft(data, " \t\r\n\ufeff")
	if len(data) == 0 {
		return 0
	}
	return data[0]
}

func describeJSONStart(data []byte) string {
	switch firstByte(data) {
	case '[':
		return "a list"
	case '"':
		return "a string"
	case 'n':
		return "null"
	case 't', 'f':
		return "a boolean"
	case 0:
		return "nothing"
	default:
		return "a number"
	}
}

// errorByte converts the offset of a JSON syntax error, which counts the
// bytes read including the bad one, to the offset of the bad byte.
func errorByte(off int64) int { return max(0, int(off)-1) }

// lineCol converts a byte offset of data to a 1-based line and column.
func lineCol(data []byte, off int) (line, col int) {
	off = max(0, min(off, len(data)))
	line = 1 + bytes.Count(data[:off], []byte("\n"))
	col = off - bytes.LastIndexByte(data[:off], '\n')
	return line, col
}
