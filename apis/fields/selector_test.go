package fields

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseCanonicalString(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", ""},
		{",,", ""},
		{"metadata.name=x", "metadata.name=x"},
		{"metadata.name==x", "metadata.name=x"},
		{"spec.nodeName!=", "spec.nodeName!="},
		{"spec.nodeName=", "spec.nodeName="},
		{"status.phase=Running,metadata.namespace=default", "metadata.namespace=default,status.phase=Running"},
		{" a = b", "a= b"}, // field names are trimmed, values are verbatim
		{`a=x\,y`, `a=x\,y`},
		{`a=x\=y`, `a=x\=y`},
		{`a=x\\y`, `a=x\\y`},
		{`a=x\\,b=y`, `a=x\\,b=y`}, // an escaped backslash does not escape the comma
		{"a=b,a=b", "a=b"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			sel, err := Parse(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, sel.String())
			again, err := Parse(sel.String())
			require.NoError(t, err)
			assert.Equal(t, sel.String(), again.String())
			assert.Equal(t, tt.want == "", sel.Empty())
		})
	}
}

func TestParseValues(t *testing.T) {
	sel, err := Parse(`a=x\,y\=z\\,b!=q`)
	require.NoError(t, err)
	reqs, ok := RequirementsOf(sel)
	require.True(t, ok)
	assert.Equal(t, []Requirement{
		{Field: "a", Operator: Equals, Value: `x,y=z\`},
		{Field: "b", Operator: NotEquals, Value: "q"},
	}, reqs)
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"a", `at byte 0: term "a" has no operator`},
		{"a=b,c", `at byte 4: term "c" has no operator`},
		{"=b", `at byte 0: term "=b" has no field name`},
		{"a=b=c", `at byte 3: '=' in a value must be escaped as "\="`},
		{"a==b=c", `at byte 4: '=' in a value`},
		{`a=b\`, `at byte 3: '\' at the end of a value`},
		{`a=b\x`, `at byte 3: invalid escape sequence "\\x"`},
		{`a b=c`, `field name "a b" may not contain whitespace`},
		{"a!!=b", `field name "a!" may not contain`},
		{"! =", `field name "!" may not contain`},
		{`x=1,a\,b=c`, `at byte 4: field name "a\\,b"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			sel, err := Parse(tt.in)
			require.Error(t, err, "parsed as %v", sel)
			assert.ErrorIs(t, err, ErrInvalidSelector)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestMatches(t *testing.T) {
	pod := Set{"metadata.name": "web-1", "metadata.namespace": "default", "spec.nodeName": "", "status.phase": "Running"}
	tests := []struct {
		sel  string
		want bool
	}{
		{"", true},
		{"metadata.name=web-1", true},
		{"metadata.name=web-2", false},
		{"metadata.name!=web-2", true},
		{"spec.nodeName=", true},
		{"spec.nodeName!=", false},
		{"status.phase=Running,metadata.namespace=default", true},
		{"status.phase=Running,metadata.namespace=kube-system", false},
		{"missing=", true}, // an absent field has the value ""
		{"missing!=x", true},
	}
	for _, tt := range tests {
		t.Run(tt.sel, func(t *testing.T) {
			sel, err := Parse(tt.sel)
			require.NoError(t, err)
			assert.Equal(t, tt.want, sel.Matches(pod))
		})
	}
}

func TestConstructors(t *testing.T) {
	assert.True(t, Everything().Empty())
	assert.True(t, Everything().Matches(Set{"a": "b"}))

	eq := OneTermEqual("spec.nodeName", "n1")
	assert.Equal(t, "spec.nodeName=n1", eq.String())
	v, ok := eq.RequiresExactMatch("spec.nodeName")
	assert.True(t, ok)
	assert.Equal(t, "n1", v)
	_, ok = eq.RequiresExactMatch("metadata.name")
	assert.False(t, ok)

	ne := OneTermNotEqual("status.phase", "Succeeded")
	_, ok = ne.RequiresExactMatch("status.phase")
	assert.False(t, ok, "!= is not an exact match")
	assert.Equal(t, "status.phase!=Succeeded", ne.String())

	assert.Equal(t, `a=1,b=x\,y`, SelectorFromSet(Set{"b": "x,y", "a": "1"}).String())
	assert.True(t, SelectorFromSet(nil).Empty())

	and := AndSelectors(ne, nil, eq, Everything())
	assert.Equal(t, "spec.nodeName=n1,status.phase!=Succeeded", and.String())
	assert.True(t, and.Matches(Set{"spec.nodeName": "n1", "status.phase": "Running"}))
	assert.False(t, and.Matches(Set{"spec.nodeName": "n1", "status.phase": "Succeeded"}))
	v, ok = and.RequiresExactMatch("spec.nodeName")
	assert.True(t, ok)
	assert.Equal(t, "n1", v)
	assert.True(t, AndSelectors().Empty())
}

// otherSelector is a Selector from outside the package, to check that
// AndSelectors keeps and consults it.
type otherSelector struct{ field, value string }

func (o otherSelector) Matches(f Fields) bool { return f.Get(o.field) == o.value }
func (o otherSelector) Empty() bool           { return false }
func (o otherSelector) RequiresExactMatch(field string) (string, bool) {
	return o.value, field == o.field
}
func (o otherSelector) String() string { return o.field + "=" + o.value }

func TestAndSelectorsForeign(t *testing.T) {
	and := AndSelectors(OneTermEqual("a", "1"), otherSelector{"b", "2"})
	assert.False(t, and.Empty())
	assert.True(t, and.Matches(Set{"a": "1", "b": "2"}))
	assert.False(t, and.Matches(Set{"a": "1", "b": "3"}))
	v, ok := and.RequiresExactMatch("b")
	assert.True(t, ok)
	assert.Equal(t, "2", v)
	assert.Equal(t, "a=1,b=2", and.String())
	_, ok = RequirementsOf(and)
	assert.False(t, ok, "terms of a foreign selector are not known")
}

func TestEscapeRoundTrip(t *testing.T) {
	for _, v := range []string{"", "plain", `a,b`, `a=b`, `a\b`, `\\,,==`, "späce ok"} {
		got, err := UnescapeValue(EscapeValue(v))
		require.NoError(t, err)
		assert.Equal(t, v, got)
	}
	_, err := UnescapeValue("a,b")
	assert.ErrorIs(t, err, ErrInvalidSelector)
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "a=b", "a==b,c!=d", `a=x\,y\=z\\`, `a=b\`, "a!!=b", ",,x=", " a = b "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sel, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidSelector) {
				t.Fatalf("error does not wrap ErrInvalidSelector: %v", err)
			}
			return
		}
		again, err := Parse(sel.String())
		if err != nil {
			t.Fatalf("Parse(%q).String() = %q does not parse: %v", s, sel.String(), err)
		}
		if again.String() != sel.String() {
			t.Fatalf("not canonical: %q -> %q -> %q", s, sel.String(), again.String())
		}
		reqs, _ := RequirementsOf(sel)
		for _, r := range reqs {
			if v, ok := sel.RequiresExactMatch(r.Field); r.Operator == Equals && !ok {
				t.Fatalf("%q: no exact match for %q (value %q)", s, r.Field, v)
			}
		}
	})
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("spec.nodeName=node-1,status.phase!=Succeeded"); err != nil {
			b.Fatal(err)
		}
	}
}
