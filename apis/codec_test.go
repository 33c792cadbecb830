package apis

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gantry-sdk/gantry/apis/field"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Website is a user-defined kind, as a program registers it: a plain struct.
type codecSite struct {
	TypeMeta   `json:",inline"`
	ObjectMeta `json:"metadata"`
	Spec       codecSiteSpec   `json:"spec"`
	Status     codecSiteStatus `json:"status,omitzero"`
}

type codecSiteSpec struct {
	Replicas *int32            `json:"replicas,omitempty"`
	Servers  []codecServer     `json:"servers,omitempty"`
	Selector *LabelSelector    `json:"selector,omitempty"`
	Env      map[string]string `json:"env,omitempty"`
	Timeout  Duration          `json:"timeout,omitzero"`
	Config   *RawJSON          `json:"config,omitempty"`
}

type codecServer struct {
	Name  string      `json:"name"`
	Image string      `json:"image"`
	Ports []codecPort `json:"ports,omitempty"`
}

type codecPort struct {
	Name string `json:"name,omitempty"`
	Port int32  `json:"port"`
}

type codecSiteStatus struct {
	ReadyReplicas int32       `json:"readyReplicas,omitempty"`
	Conditions    []Condition `json:"conditions,omitempty"`
}

// Gadget is cluster-scoped and registered under two versions.
type codecGadget struct {
	TypeMeta   `json:",inline"`
	ObjectMeta `json:"metadata"`
	Size       int `json:"size,omitempty"`
}

type codecGadgetV2 struct {
	TypeMeta   `json:",inline"`
	ObjectMeta `json:"metadata"`
	Size       int `json:"size,omitempty"`
}

func codecTestScheme(t testing.TB) *Scheme {
	s := NewScheme()
	require.NoError(t, Register[codecSite](s, Kind[*codecSite]{GroupVersionKind: GroupVersionKind{Group: "example.com", Version: "v1", Kind: "Website"}}))
	require.NoError(t, Register[codecGadget](s, Kind[*codecGadget]{GroupVersionKind: GroupVersionKind{Group: "example.com", Version: "v1", Kind: "Gadget"}, Scope: ClusterScoped}))
	require.NoError(t, Register[codecGadgetV2](s, Kind[*codecGadgetV2]{GroupVersionKind: GroupVersionKind{Group: "example.com", Version: "v2", Kind: "Gadget"}, Scope: ClusterScoped}))
	return s
}

const codecSiteYAML = `# a leading comment
apiVersion: example.com/v1
kind: Website
metadata:
  name: blog
  namespace: default
  labels:
    app: blog
  creationTimestamp: null
spec:
  replicas: 2
  timeout: 1m30s
  config: {"a": [1, 2]}
  servers:
  - name: web
    image: nginx:1.27
    ports:
    - name: http
      port: 80
`

func TestDecodeYAML(t *testing.T) {
	c := Codec{Scheme: codecTestScheme(t)}
	obj, warns, err := c.Decode([]byte(codecSiteYAML))
	require.NoError(t, err)
	assert.Empty(t, warns)
	w, ok := obj.(*codecSite)
	require.True(t, ok, "%T", obj)
	assert.Equal(t, "example.com/v1", w.APIVersion)
	assert.Equal(t, "Website", w.Kind)
	assert.Equal(t, Key{Namespace: "default", Name: "blog"}, KeyOf(w))
	assert.Equal(t, int32(2), *w.Spec.Replicas)
	assert.Equal(t, 90*time.Second, w.Spec.Timeout.Duration)
	assert.JSONEq(t, `{"a":[1,2]}`, string(*w.Spec.Config))
	assert.Equal(t, []codecServer{{Name: "web", Image: "nginx:1.27", Ports: []codecPort{{Name: "http", Port: 80}}}}, w.Spec.Servers)
	assert.True(t, w.CreationTimestamp.IsZero())
}

func TestRoundTripOmitzero(t *testing.T) {
	c := Codec{Scheme: codecTestScheme(t)}
	obj, _, err := c.Decode([]byte(codecSiteYAML))
	require.NoError(t, err)

	j, err := c.EncodeJSON(obj)
	require.NoError(t, err)
	// `creationTimestamp: null` and the absent status stay absent: omitzero.
	assert.NotContains(t, string(j), "creationTimestamp")
	assert.NotContains(t, string(j), "status")
	assert.NotContains(t, string(j), "null")

	y, err := c.EncodeYAML(obj)
	require.NoError(t, err)
	assert.NotContains(t, string(y), "creationTimestamp")
	assert.NotContains(t, string(y), "status")

	for _, data := range [][]byte{j, y} {
		back, warns, err := c.Decode(data)
		require.NoError(t, err)
		assert.Empty(t, warns)
		assert.Equal(t, obj, back)
	}

	// A set status and timestamp survive the round trip too.
	w := obj.(*codecSite)
	w.CreationTimestamp = NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	w.Status.ReadyReplicas = 2
	w.Status.Conditions = []Condition{{Type: "Ready", Status: ConditionTrue, LastTransitionTime: w.CreationTimestamp}}
	y, err = c.EncodeYAML(w)
	require.NoError(t, err)
	assert.Contains(t, string(y), "creationTimestamp: \"2026-01-02T03:04:05Z\"")
	back, _, err := c.Decode(y)
	require.NoError(t, err)
	bw := back.(*codecSite)
	assert.True(t, w.CreationTimestamp.Equal(bw.CreationTimestamp.Time))
	assert.Equal(t, w.Status.ReadyReplicas, bw.Status.ReadyReplicas)
	assert.True(t, w.Status.Conditions[0].LastTransitionTime.Equal(bw.Status.Conditions[0].LastTransitionTime.Time))
}

func TestEncodeSetsTypeMeta(t *testing.T) {
	c := Codec{Scheme: codecTestScheme(t)}
	g := &codecGadget{ObjectMeta: ObjectMeta{Name: "g"}, Size: 3}
	j, err := c.EncodeJSON(g)
	require.NoError(t, err)
	assert.JSONEq(t, `{"apiVersion":"example.com/v1","kind":"Gadget","metadata":{"name":"g"},"size":3}`, string(j))
	assert.Empty(t, g.APIVersion, "the input is not modified")

	y, err := c.EncodeYAML(g, &codecGadgetV2{ObjectMeta: ObjectMeta{Name: "h"}})
	require.NoError(t, err)
	assert.Equal(t, "apiVersion: example.com/v1\nkind: Gadget\nmetadata:\n  name: g\nsize: 3\n---\napiVersion: example.com/v2\nkind: Gadget\nmetadata:\n  name: h\n", string(y))

	type unregistered struct {
		TypeMeta   `json:",inline"`
		ObjectMeta `json:"metadata"`
	}
	_, err = c.EncodeJSON(&unregistered{})
	assert.ErrorIs(t, err, ErrUnknownKind)
	_, err = Codec{}.EncodeJSON(g)
	assert.ErrorIs(t, err, ErrUnknownKind)
	// With its TypeMeta set, any object encodes.
	j, err = Codec{}.EncodeJSON(&unregistered{TypeMeta: TypeMeta{APIVersion: "x/v1", Kind: "U"}})
	require.NoError(t, err)
	assert.JSONEq(t, `{"apiVersion":"x/v1","kind":"U","metadata":{}}`, string(j))
	_, err = c.EncodeJSON(nil)
	assert.ErrorIs(t, err, ErrUnknownKind)
	_, err = c.EncodeJSON((*codecGadget)(nil))
	assert.ErrorIs(t, err, ErrUnknownKind)
}

func TestDecodeAllStream(t *testing.T) {
	c := Codec{Scheme: codecTestScheme(t)}
	stream := "---\n" + codecSiteYAML + "--- # second\n# only a comment\n---\napiVersion: example.com/v2\nkind: Gadget\nmetadata:\n  name: g2\nsize: 7\n...\n---\n\n---\napiVersion: example.com/v1\nkind: Gadget\nmetadata: {name: g1}\n"
	objs, warns, err := c.DecodeAll([]byte(stream))
	require.NoError(t, err)
	assert.Empty(t, warns)
	require.Len(t, objs, 3)
	assert.IsType(t, &codecSite{}, objs[0])
	assert.Equal(t, 7, objs[1].(*codecGadgetV2).Size)
	assert.Equal(t, "g1", objs[2].(*codecGadget).Name)

	// A JSON stream works the same.
	objs, _, err = c.DecodeAll([]byte(`{"apiVersion":"example.com/v1","kind":"Gadget","metadata":{"name":"a"}}
	{"apiVersion":"example.com/v2","kind":"Gadget","metadata":{"name":"b"}}`))
	require.NoError(t, err)
	require.Len(t, objs, 2)
	assert.Equal(t, "b", objs[1].(*codecGadgetV2).Name)

	// YAML flow style looks like JSON but is not.
	obj, _, err := c.Decode([]byte("{apiVersion: example.com/v1, kind: Gadget, metadata: {name: flow}, size: 2}"))
	require.NoError(t, err)
	assert.Equal(t, 2, obj.(*codecGadget).Size)

	// Decode wants exactly one document.
	_, _, err = c.Decode([]byte(stream))
	assert.ErrorIs(t, err, ErrTooManyDocuments)
	_, _, err = c.Decode([]byte("# nothing\n"))
	assert.ErrorIs(t, err, ErrMissingType)
	objs, _, err = c.DecodeAll(nil)
	assert.NoError(t, err)
	assert.Empty(t, objs)
}

func TestDecodeAllReportsEachBadDocument(t *testing.T) {
	c := Codec{Scheme: codecTestScheme(t)}
	stream := `apiVersion: example.com/v1
kind: Gadget
metadata: {name: ok}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: w}
---
kind: Gadget
---
apiVersion: example.com/v3
kind: Gadget
---
apiVersion: example.com/v1
kind: Gadget
size: many
`
	objs, _, err := c.DecodeAll([]byte(stream))
	require.Error(t, err)
	require.Len(t, objs, 5)
	assert.NotNil(t, objs[0])
	for _, o := range objs[1:] {
		assert.Nil(t, o)
	}
	assert.ErrorIs(t, err, ErrUnknownKind)
	assert.ErrorIs(t, err, ErrMissingType)
	assert.ErrorIs(t, err, ErrMalformed)
	msg := err.Error()
	assert.Contains(t, msg, "apis: document[1] (line 5, example.com/v1, Kind=Widget): apis: unknown kind: example.com/v1, Kind=Widget")
	assert.Contains(t, msg, `apis: document[2] (line 9): apis: missing apiVersion or kind: "apiVersion" is not set (kind "Gadget")`)
	assert.Contains(t, msg, "document[3] (line 11, example.com/v3, Kind=Gadget): apis: unknown kind: example.com/v3, Kind=Gadget (kind Gadget is registered as apiVersion example.com/v1, example.com/v2)")
	assert.Contains(t, msg, "document[4] (line 14, example.com/v1, Kind=Gadget): apis: malformed manifest: size: Invalid value: cannot decode string into a value of Go type int")

	var docErr *DocumentError
	require.ErrorAs(t, err, &docErr)
	assert.Equal(t, 1, docErr.Index)
	assert.Equal(t, 5, docErr.Line)
	assert.Equal(t, GroupVersionKind{Group: "example.com", Version: "v1", Kind: "Widget"}, docErr.GVK)
}

func TestUnknownFields(t *testing.T) {
	doc := `apiVersion: example.com/v1
kind: Website
metadata:
  name: blog
  lables: {a: b}
spec:
  servers:
  - name: a
    image: x
  - name: b
    imagee: nginx
    Image: typo-in-case
`
	c := Codec{Scheme: codecTestScheme(t)}
	obj, warns, err := c.Decode([]byte(doc))
	require.NoError(t, err)
	require.NotNil(t, obj)
	var paths []string
	for _, w := range warns {
		paths = append(paths, w.Field)
		assert.Equal(t, 0, w.Document)
		assert.Contains(t, w.String(), "document[0] (line 1): unknown field")
	}
	assert.ElementsMatch(t, []string{"metadata.lables", "spec.servers[1].imagee", "spec.servers[1].Image"}, paths)
	assert.Equal(t, "", obj.(*codecSite).Spec.Servers[1].Image, "matching is case-sensitive")

	c.Strict = true
	obj, _, err = c.Decode([]byte(doc))
	require.ErrorIs(t, err, ErrUnknownField)
	assert.Nil(t, obj)
	list := field.AsList(err)
	require.Len(t, list, 3)
	assert.Contains(t, err.Error(), "spec.servers[1].imagee: Unknown field")
}

func TestDuplicateFields(t *testing.T) {
	c := Codec{Scheme: codecTestScheme(t)}
	yamlDoc := "apiVersion: example.com/v1\nkind: Gadget\nmetadata:\n  name: a\nsize: 1\nsize: 2\n"
	jsonDoc := `{"apiVersion":"example.com/v1","kind":"Gadget","metadata":{"name":"a"},"size":1,"size":2}`
	for _, doc := range []string{yamlDoc, jsonDoc} {
		obj, warns, err := c.Decode([]byte(doc))
		require.NoError(t, err)
		assert.Equal(t, 2, obj.(*codecGadget).Size, "the last value wins")
		require.Len(t, warns, 1)
		assert.Contains(t, warns[0].Message, "size")

		_, _, err = Codec{Scheme: c.Scheme, Strict: true}.Decode([]byte(doc))
		assert.ErrorIs(t, err, ErrUnknownField)
		assert.Contains(t, err.Error(), "size")
	}
	_, warns, _ := c.Decode([]byte(yamlDoc))
	assert.Contains(t, warns[0].Message, "line 6")
}

func TestDecodeErrorsNameTheField(t *testing.T) {
	c := Codec{Scheme: codecTestScheme(t)}
	tests := []struct {
		name, doc, want string
		target          error
	}{
		{"type in list", `{"apiVersion":"example.com/v1","kind":"Website","metadata":{"name":"a"},"spec":{"servers":[{"name":"a","image":"x"},{"name":"b","image":"y","ports":[{"port":80},{"port":"http"}]}]}}`,
			`spec.servers[1].ports[1].port: Invalid value: cannot decode string into a value of Go type int32`, ErrMalformed},
		{"custom unmarshaler", "apiVersion: example.com/v1\nkind: Website\nmetadata:\n  name: a\n  creationTimestamp: yesterday\n",
			`metadata.creationTimestamp: Invalid value: parsing time "yesterday"`, ErrMalformed},
		{"duration", "apiVersion: example.com/v1\nkind: Website\nmetadata: {name: a}\nspec: {timeout: 5}\n",
			`spec.timeout: Invalid value: parsing time "5": duration must be a quoted string`, ErrMalformed},
		{"map value", "apiVersion: example.com/v1\nkind: Website\nmetadata: {name: a}\nspec: {env: {A: [1]}}\n",
			`spec.env[A]: Invalid value: cannot decode array into a value of Go type string`, ErrMalformed},
		{"selector values", "apiVersion: example.com/v1\nkind: Website\nmetadata: {name: a}\nspec:\n  selector:\n    matchExpressions:\n    - {key: a, operator: In, values: x}\n",
			`spec.selector.matchExpressions[0].values: Invalid value`, ErrMalformed},
		{"kind wrong type", "apiVersion: example.com/v1\nkind: [Website]\n", `malformed manifest`, ErrMalformed},
		{"not a mapping", "- a\n- b\n", "a manifest must be a mapping (JSON object), found a list", ErrMalformed},
		{"scalar", "just text\n", "found a string", ErrMalformed},
		{"yaml syntax", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n    labels: x\n", "line 5: mapping values are not allowed", ErrMalformed},
		{"yaml syntax after separator", "apiVersion: example.com/v1\nkind: Gadget\nmetadata: {name: a}\n---\napiVersion: v1\nkind: [\n", "document[1] (line 5): apis: malformed manifest: yaml: line 6", ErrMalformed},
		{"json syntax", "{\"apiVersion\": \"v1\",\n \"kind\": \"Pod\",,\n}", "line 2, column 16 (byte 36): invalid character ','", ErrMalformed},
		{"no kind", `{"apiVersion":"example.com/v1"}`, `"kind" is not set (apiVersion "example.com/v1")`, ErrMissingType},
		{"neither", `{"metadata":{"name":"x"}}`, `"apiVersion" and "kind" are not set`, ErrMissingType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := c.DecodeAll([]byte(tt.doc))
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.target)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestDecodeInto(t *testing.T) {
	c := Codec{Scheme: codecTestScheme(t)}
	var g codecGadget
	warns, err := c.DecodeInto([]byte("metadata: {name: a}\nsize: 4\nextra: 1\n"), &g)
	require.NoError(t, err)
	assert.Equal(t, 4, g.Size)
	assert.Equal(t, "Gadget", g.Kind, "TypeMeta comes from the Scheme when the document has none")
	require.Len(t, warns, 1)
	assert.Equal(t, "extra", warns[0].Field)

	_, err = c.DecodeInto([]byte("size: 1\n"), (*codecGadget)(nil))
	assert.ErrorIs(t, err, ErrUnknownKind)
	_, err = c.DecodeInto([]byte("size: 1\n"), nil)
	assert.ErrorIs(t, err, ErrUnknownKind)

	var v2 codecGadgetV2
	_, err = c.DecodeInto([]byte("apiVersion: example.com/v1\nkind: Gadget\n"), &v2)
	assert.ErrorIs(t, err, ErrUnknownKind)
	assert.Contains(t, err.Error(), "the document is example.com/v1, Kind=Gadget, decoding into example.com/v2, Kind=Gadget")
}

func TestNoSchemeDecodesNothing(t *testing.T) {
	_, _, err := Codec{}.Decode([]byte("apiVersion: v1\nkind: Pod\n"))
	assert.ErrorIs(t, err, ErrUnknownKind)
	assert.Contains(t, err.Error(), "no Scheme")
}

func TestAbsoluteYAMLLines(t *testing.T) {
	assert.Equal(t, "yaml: line 12: x", absoluteYAMLLines("yaml: line 3: x", 10))
	assert.Equal(t, "no line here", absoluteYAMLLines("no line here", 10))
}

func codecFuzzSeeds(f *testing.F) {
	for _, s := range []string{codecSiteYAML, "---\n---\n", "a: b\n---\nkind: X\n", "apiVersion: example.com/v1\nkind: Gadget\nsize: 1\nsize: 2\n",
		`{"apiVersion":"example.com/v1","kind":"Website","spec":{"servers":[{"ports":[{"port":"x"}]}]}}`, "[1,2]", "{", "&a [*a]", "apiVersion: example.com/v1\nkind: Website\nmetadata: {creationTimestamp: 5}\n"} {
		f.Add([]byte(s))
	}
}

func FuzzDecodeYAML(f *testing.F) {
	codecFuzzSeeds(f)
	s := codecTestScheme(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, strict := range []bool{false, true} {
			c := Codec{Scheme: s, Strict: strict}
			objs, _, err := c.DecodeAll(data)
			checkCodecRoundTrip(t, c, objs, err)
		}
	})
}

func FuzzDecodeJSON(f *testing.F) {
	codecFuzzSeeds(f)
	s := codecTestScheme(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		c := Codec{Scheme: s}
		obj, _, err := c.Decode(data)
		if err == nil {
			checkCodecRoundTrip(t, c, []Object{obj}, nil)
		}
	})
}

// checkDecoded checks the invariants of a decode: errors carry a sentinel,
// and what decoded encodes and decodes back the same.
func checkCodecRoundTrip(t *testing.T, c Codec, objs []Object, err error) {
	if err != nil && !(errors.Is(err, ErrMalformed) || errors.Is(err, ErrMissingType) || errors.Is(err, ErrUnknownKind) || errors.Is(err, ErrUnknownField)) {
		t.Fatalf("error without a codec sentinel: %v", err)
	}
	for _, obj := range objs {
		if obj == nil {
			continue
		}
		j, err := c.EncodeJSON(obj)
		if err != nil {
			if strings.Contains(err.Error(), "json: error calling MarshalJSON") {
				continue // RawJSON holds exactly what it read; nothing to check
			}
			t.Fatalf("encode: %v", err)
		}
		back, _, err := c.Decode(j)
		if err != nil {
			t.Fatalf("decode of encoded %s: %v", j, err)
		}
		j2, err := c.EncodeJSON(back)
		if err != nil || string(j2) != string(j) {
			t.Fatalf("round trip differs:\n%s\n%s (%v)", j, j2, err)
		}
	}
}

func BenchmarkDecodeYAML(b *testing.B) {
	c := Codec{Scheme: codecTestScheme(b)}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := c.Decode([]byte(codecSiteYAML)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeJSON(b *testing.B) {
	c := Codec{Scheme: codecTestScheme(b)}
	obj, _, _ := c.Decode([]byte(codecSiteYAML))
	j, _ := c.EncodeJSON(obj)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := c.Decode(j); err != nil {
			b.Fatal(err)
		}
	}
}
