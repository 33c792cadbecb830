package labels

import (
	"errors"
	"testing"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseCanonicalString(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", ""},
		{"   ", ""},
		{"a=b", "a=b"},
		{"a==b", "a=b"},
		{"a!=b", "a!=b"},
		{"a=", "a="},
		{"a!=", "a!="},
		{"a", "a"},
		{"!a", "!a"},
		{" ! a ", "!a"},
		{"a in (y,x)", "a in (x,y)"},
		{"a in (x,x,y)", "a in (x,y)"},
		{"a notin (x)", "a notin (x)"},
		{"a in (x,)", "a in (,x)"},
		{"a in ()", "a in ()"},
		{"a in (,)", "a in ()"},
		{"a notin ()", "a notin ()"},
		{"a in(x)", "a in (x)"},
		{"z=1,a=2,m", "a=2,m,z=1"},
		{"a=b,a=b", "a=b"},
		{"app.kubernetes.io/name=web,env in (prod, staging),!canary", "app.kubernetes.io/name=web,!canary,env in (prod,staging)"},
		{"in=notin", "in=notin"},
		{"a = b , c != d", "a=b,c!=d"},
		{"x in (in,notin)", "x in (in,notin)"},
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

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in   string
		want string // a substring of the error
	}{
		{"a,", "at byte 2: expected a requirement after ','"},
		{",a", "at byte 0: expected a key or '!', found \",\""},
		{"a in (x", "at byte 7: expected ',' or ')' in the value list of \"in\", found end of input"},
		{"a in x", "at byte 5: expected '(' after \"in\", found identifier \"x\""},
		{"a=b=c", "at byte 3: expected ',' or end of input, found \"=\""},
		{"a b", "at byte 2: expected an operator"},
		{"!", "at byte 1: expected a key after '!', found end of input"},
		{"!=x", "at byte 0: expected a key or '!', found \"!=\""},
		{"a>1", "at byte 1: operator \">\" is not supported"},
		{"a<1", "operator \"<\" is not supported"},
		{"a=(b)", "at byte 2: expected a value after \"=\", found \"(\""},
		{"-a=b", "at byte 0: key \"-a\""},
		{"a=-b", "value \"-b\""},
		{"a/b/c=d", "key \"a/b/c\""},
		{"x,y=b c", "found identifier \"c\""},
		{"a in (x y)", "found identifier \"y\""},
		{"a=b)", "found \")\""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			sel, err := Parse(tt.in)
			require.Error(t, err, "parsed as %v", sel)
			assert.ErrorIs(t, err, ErrInvalidSelector)
			assert.Contains(t, err.Error(), tt.want)
			assert.Contains(t, err.Error(), `"`+tt.in+`"`, "the error quotes the input")
		})
	}
}

func TestMatches(t *testing.T) {
	web := Set{"app": "web", "env": "prod", "tier": ""}
	tests := []struct {
		sel  string
		want bool
	}{
		{"", true},
		{"app=web", true},
		{"app==web", true},
		{"app=db", false},
		{"app!=db", true},
		{"app!=web", false},
		{"missing!=x", true}, // absent keys satisfy !=
		{"missing=x", false},
		{"tier=", true}, // present with the empty value
		{"missing=", false},
		{"tier", true},
		{"missing", false},
		{"!missing", true},
		{"!app", false},
		{"env in (dev,prod)", true},
		{"env in (dev)", false},
		{"missing in (x)", false},
		{"env notin (dev)", true},
		{"tier in ()", true},
		{"app in ()", false},
		{"env notin (prod)", false},
		{"missing notin (x)", true}, // absent keys satisfy notin
		{"app=web,env=prod", true},
		{"app=web,env=dev", false},
		{"v in (a,b,c,d,e,f,g,h,i,j,prod)", false},
		{"env in (a,b,c,d,e,f,g,h,i,j,prod)", true},
	}
	for _, tt := range tests {
		t.Run(tt.sel, func(t *testing.T) {
			sel, err := Parse(tt.sel)
			require.NoError(t, err)
			assert.Equal(t, tt.want, sel.Matches(web))
		})
	}
}

func TestEverythingAndNothing(t *testing.T) {
	assert.True(t, Everything().Empty())
	assert.True(t, Everything().Matches(Set{}))
	assert.True(t, Everything().Matches(Set{"a": "b"}))
	assert.Equal(t, "", Everything().String())

	assert.False(t, Nothing().Empty())
	assert.False(t, Nothing().Matches(Set{}))
	assert.False(t, Nothing().Matches(Set{"a": "b"}))
	assert.True(t, IsNothing(Nothing()))
	assert.False(t, IsNothing(Everything()))
	_, ok := RequirementsOf(Nothing())
	assert.False(t, ok)
}

func TestSelectorFromSet(t *testing.T) {
	sel := SelectorFromSet(Set{"b": "2", "a": "1"})
	assert.Equal(t, "a=1,b=2", sel.String())
	assert.True(t, sel.Matches(Set{"a": "1", "b": "2", "c": "3"}))
	assert.False(t, sel.Matches(Set{"a": "1"}))
	assert.True(t, SelectorFromSet(nil).Empty())
	assert.Equal(t, "a=1,b=2", Set{"b": "2", "a": "1"}.String())

	_, err := ValidatedSelectorFromSet(Set{"ok": "1", "bad key": "x"})
	require.ErrorIs(t, err, ErrInvalidSelector)
	assert.Contains(t, err.Error(), `"bad key"`)
	_, err = ValidatedSelectorFromSet(Set{"k": "bad value"})
	assert.ErrorIs(t, err, ErrInvalidSelector)
	v, err := ValidatedSelectorFromSet(Set{"k": "v"})
	require.NoError(t, err)
	assert.Equal(t, "k=v", v.String())
}

func TestFromLabelSelector(t *testing.T) {
	sel, err := FromLabelSelector(nil)
	require.NoError(t, err)
	assert.True(t, IsNothing(sel))
	assert.False(t, sel.Matches(Set{}))

	sel, err = FromLabelSelector(&apis.LabelSelector{})
	require.NoError(t, err)
	assert.True(t, sel.Empty())

	sel, err = FromLabelSelector(&apis.LabelSelector{
		MatchLabels: map[string]string{"app": "web"},
		MatchExpressions: []apis.LabelSelectorRequirement{
			{Key: "env", Operator: apis.LabelSelectorOpIn, Values: []string{"prod", "dev"}},
			{Key: "track", Operator: apis.LabelSelectorOpNotIn, Values: []string{"canary"}},
			{Key: "tier", Operator: apis.LabelSelectorOpExists},
			{Key: "legacy", Operator: apis.LabelSelectorOpDoesNotExist},
		},
	})
	require.NoError(t, err)
	assert.Equal(t, "app=web,env in (dev,prod),!legacy,tier,track notin (canary)", sel.String())
	assert.True(t, sel.Matches(Set{"app": "web", "env": "dev", "tier": "x"}))
	assert.False(t, sel.Matches(Set{"app": "web", "env": "dev", "tier": "x", "legacy": ""}))
	assert.False(t, sel.Matches(Set{"app": "web", "env": "dev", "tier": "x", "track": "canary"}))
	assert.False(t, sel.Matches(Set{"app": "web", "env": "dev"}))

	bad := []struct {
		name string
		ls   apis.LabelSelector
		want string
	}{
		{"bad matchLabels key", apis.LabelSelector{MatchLabels: map[string]string{"-x": "y"}}, `matchLabels: key "-x"`},
		{"bad matchLabels value", apis.LabelSelector{MatchLabels: map[string]string{"x": "y z"}}, `matchLabels[x]: value "y z"`},
		{"unknown operator", apis.LabelSelector{MatchExpressions: []apis.LabelSelectorRequirement{{Key: "a", Operator: "Exists"}, {Key: "a", Operator: "Gt"}}}, `matchExpressions[1].operator: unsupported value "Gt"`},
		{"in without values", apis.LabelSelector{MatchExpressions: []apis.LabelSelectorRequirement{{Key: "a", Operator: "In"}}}, `matchExpressions[0].values: must be specified`},
		{"exists with values", apis.LabelSelector{MatchExpressions: []apis.LabelSelectorRequirement{{Key: "a", Operator: "Exists", Values: []string{"x"}}}}, `matchExpressions[0].values: may not be specified`},
		{"bad key", apis.LabelSelector{MatchExpressions: []apis.LabelSelectorRequirement{{Key: "", Operator: "Exists"}}}, `matchExpressions[0].key`},
		{"bad value", apis.LabelSelector{MatchExpressions: []apis.LabelSelectorRequirement{{Key: "a", Operator: "In", Values: []string{"ok", "not ok"}}}}, `matchExpressions[0].values[1]: invalid value "not ok"`},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := FromLabelSelector(&tt.ls)
			require.ErrorIs(t, err, ErrInvalidSelector)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestRequirementsAndExactMatch(t *testing.T) {
	sel, err := Parse("app=web,env in (prod),tier in (a,b),track!=x")
	require.NoError(t, err)

	v, ok := RequiresExactMatch(sel, "app")
	assert.True(t, ok)
	assert.Equal(t, "web", v)
	v, ok = RequiresExactMatch(sel, "env")
	assert.True(t, ok)
	assert.Equal(t, "prod", v)
	_, ok = RequiresExactMatch(sel, "tier")
	assert.False(t, ok, "two values are not an exact match")
	_, ok = RequiresExactMatch(sel, "track")
	assert.False(t, ok)
	_, ok = RequiresExactMatch(Nothing(), "app")
	assert.False(t, ok)

	reqs, ok := RequirementsOf(sel)
	require.True(t, ok)
	require.Len(t, reqs, 4)
	assert.Equal(t, "app", reqs[0].Key())
	assert.Equal(t, Equals, reqs[0].Operator())
	assert.Equal(t, []string{"a", "b"}, reqs[2].Values())

	// Mutating what the accessors return leaves the selector unchanged.
	reqs[2].Values()[0] = "zzz"
	reqs[0] = reqs[3]
	assert.Equal(t, "app=web,env in (prod),tier in (a,b),track!=x", sel.String())
}

func TestNewRequirement(t *testing.T) {
	_, err := NewRequirement("a", Equals, []string{"x", "y"})
	assert.ErrorIs(t, err, ErrInvalidSelector)
	_, err = NewRequirement("a", Exists, []string{"x"})
	assert.ErrorIs(t, err, ErrInvalidSelector)
	_, err = NewRequirement("a", Operator("~"), nil)
	assert.ErrorIs(t, err, ErrInvalidSelector)
	r, err := NewRequirement("a", DoubleEquals, []string{"x"})
	require.NoError(t, err)
	assert.Equal(t, Equals, r.Operator())
	assert.Equal(t, "a=x", r.String())
	assert.True(t, errors.Is(err, nil))

	// Building is order-independent.
	a, _ := NewRequirement("a", In, []string{"1"})
	b, _ := NewRequirement("b", Exists, nil)
	assert.Equal(t, NewSelector(a, b).String(), NewSelector(b, a).String())
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "a=b", "a==b,c!=d", "a in (x,y),!b", "a notin (x,)", "x,y", "a=b)", "in in (in)", "!", "a>1"} {
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
		// The canonical form parses back to itself.
		again, err := Parse(sel.String())
		if err != nil {
			t.Fatalf("Parse(%q).String() = %q does not parse: %v", s, sel.String(), err)
		}
		if again.String() != sel.String() {
			t.Fatalf("not canonical: %q -> %q -> %q", s, sel.String(), again.String())
		}
		sel.Matches(Set{"a": "b", "x": ""})
	})
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("app=web,env in (prod,staging),!canary"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMatches(b *testing.B) {
	sel, _ := Parse("app=web,env in (prod,staging),!canary")
	ls := Set{"app": "web", "env": "prod", "pod-template-hash": "abc"}
	b.ReportAllocs()
	for b.Loop() {
		if !sel.Matches(ls) {
			b.Fatal("no match")
		}
	}
}
