package apis

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/apis/field"
)

func TestValidateObjectMeta(t *testing.T) {
	yes := true
	meta := field.NewPath("metadata")
	tests := []struct {
		name       string
		m          ObjectMeta
		namespaced bool
		validName  NameFunc
		path       string
		typ        field.Type
	}{
		{"valid", ObjectMeta{Name: "a.b-c", Namespace: "ns"}, true, IsDNS1123Subdomain, "", ""},
		{"cluster scoped valid", ObjectMeta{Name: "n1"}, false, IsDNS1123Subdomain, "", ""},
		{"name required", ObjectMeta{Namespace: "ns"}, true, IsDNS1123Subdomain, "metadata.name", field.TypeRequired},
		{"name subdomain", ObjectMeta{Name: "Bad_Name", Namespace: "ns"}, true, IsDNS1123Subdomain, "metadata.name", field.TypeInvalid},
		{"name label per kind", ObjectMeta{Name: "a.b"}, false, IsDNS1123Label, "metadata.name", field.TypeInvalid},
		{"generateName prefix", ObjectMeta{GenerateName: "web-", Namespace: "ns"}, true, IsDNS1123Label, "", ""},
		{"generateName invalid", ObjectMeta{GenerateName: "Web-", Namespace: "ns"}, true, IsDNS1123Label, "metadata.generateName", field.TypeInvalid},
		{"namespace required", ObjectMeta{Name: "a"}, true, IsDNS1123Subdomain, "metadata.namespace", field.TypeRequired},
		{"namespace syntax", ObjectMeta{Name: "a", Namespace: "a.b"}, true, IsDNS1123Subdomain, "metadata.namespace", field.TypeInvalid},
		{"namespace forbidden", ObjectMeta{Name: "a", Namespace: "ns"}, false, IsDNS1123Subdomain, "metadata.namespace", field.TypeForbidden},
		{"label key", ObjectMeta{Name: "a", Labels: map[string]string{"a b": "c"}}, false, IsDNS1123Subdomain, "metadata.labels", field.TypeInvalid},
		{"label key prefix", ObjectMeta{Name: "a", Labels: map[string]string{"Example.com/x": "c"}}, false, IsDNS1123Subdomain, "metadata.labels", field.TypeInvalid},
		{"label value", ObjectMeta{Name: "a", Labels: map[string]string{"x": strings.Repeat("v", 64)}}, false, IsDNS1123Subdomain, "metadata.labels[x]", field.TypeInvalid},
		{"annotation key", ObjectMeta{Name: "a", Annotations: map[string]string{"": "x"}}, false, IsDNS1123Subdomain, "metadata.annotations", field.TypeInvalid},
		{"annotations too big", ObjectMeta{Name: "a", Annotations: map[string]string{"big": strings.Repeat("x", 256<<10)}}, false, IsDNS1123Subdomain, "metadata.annotations", field.TypeTooLong},
		{"finalizer", ObjectMeta{Name: "a", Finalizers: []string{"a/b/c"}}, false, IsDNS1123Subdomain, "metadata.finalizers[0]", field.TypeInvalid},
		{"owner kind", ObjectMeta{Name: "a", OwnerReferences: []OwnerReference{{APIVersion: "v1", Name: "o", UID: "u"}}}, false, IsDNS1123Subdomain, "metadata.ownerReferences[0].kind", field.TypeRequired},
		{"two controllers", ObjectMeta{Name: "a", OwnerReferences: []OwnerReference{
			{APIVersion: "v1", Kind: "K", Name: "o", UID: "u", Controller: &yes},
			{APIVersion: "v1", Kind: "K", Name: "p", UID: "v", Controller: &yes},
		}}, false, IsDNS1123Subdomain, "metadata.ownerReferences", field.TypeInvalid},
		{"generation", ObjectMeta{Name: "a", Generation: -1}, false, IsDNS1123Subdomain, "metadata.generation", field.TypeInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := ValidateObjectMeta(&tt.m, tt.namespaced, tt.validName, meta)
			if tt.path == "" {
				assert.Empty(t, errs)
				return
			}
			require.Len(t, errs, 1, "%v", errs)
			assert.Equal(t, tt.path, errs[0].Field)
			assert.Equal(t, tt.typ, errs[0].Type)
		})
	}
}

func TestValidateObjectMetaUpdate(t *testing.T) {
	old := ObjectMeta{Name: "a", Namespace: "ns", UID: "u1"}
	assert.Empty(t, ValidateObjectMetaUpdate(&ObjectMeta{Name: "a", Namespace: "ns", UID: "u1", Labels: map[string]string{"x": "y"}}, &old, field.NewPath("metadata")))
	errs := ValidateObjectMetaUpdate(&ObjectMeta{Name: "b", Namespace: "ns", UID: "u2"}, &old, field.NewPath("metadata"))
	require.Len(t, errs, 2)
	assert.Equal(t, "metadata.name", errs[0].Field)
	assert.Equal(t, "metadata.uid", errs[1].Field)
}

func TestValidateLabelSelector(t *testing.T) {
	p := field.NewPath("spec", "selector")
	tests := []struct {
		name string
		s    *LabelSelector
		path string
	}{
		{"nil", nil, ""},
		{"valid", &LabelSelector{MatchLabels: map[string]string{"app": "a"}, MatchExpressions: []LabelSelectorRequirement{{Key: "env", Operator: LabelSelectorOpNotIn, Values: []string{"dev"}}, {Key: "canary", Operator: LabelSelectorOpDoesNotExist}}}, ""},
		{"operator", &LabelSelector{MatchExpressions: []LabelSelectorRequirement{{Key: "a", Operator: "Equals", Values: []string{"x"}}}}, "spec.selector.matchExpressions[0].operator"},
		{"In needs values", &LabelSelector{MatchExpressions: []LabelSelectorRequirement{{Key: "a", Operator: LabelSelectorOpIn}}}, "spec.selector.matchExpressions[0].values"},
		{"Exists no values", &LabelSelector{MatchExpressions: []LabelSelectorRequirement{{Key: "a", Operator: LabelSelectorOpExists, Values: []string{"x"}}}}, "spec.selector.matchExpressions[0].values"},
		{"key", &LabelSelector{MatchExpressions: []LabelSelectorRequirement{{Key: "-a", Operator: LabelSelectorOpExists}}}, "spec.selector.matchExpressions[0].key"},
		{"value", &LabelSelector{MatchExpressions: []LabelSelectorRequirement{{Key: "a", Operator: LabelSelectorOpIn, Values: []string{"ok", "not ok"}}}}, "spec.selector.matchExpressions[0].values[1]"},
		{"matchLabels value", &LabelSelector{MatchLabels: map[string]string{"a": "-"}}, "spec.selector.matchLabels[a]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := ValidateLabelSelector(tt.s, p)
			if tt.path == "" {
				assert.Empty(t, errs)
				return
			}
			require.Len(t, errs, 1, "%v", errs)
			assert.Equal(t, tt.path, errs[0].Field)
		})
	}
}

func TestPortChecks(t *testing.T) {
	for _, ok := range []int{1, 80, 65535} {
		assert.Empty(t, IsValidPortNum(ok), ok)
	}
	for _, bad := range []int{0, -1, 65536} {
		assert.NotEmpty(t, IsValidPortNum(bad), bad)
	}
	for _, ok := range []string{"http", "h2c", "web-8080", "a", "abcdefghijklmno"} {
		assert.Empty(t, IsValidPortName(ok), ok)
	}
	for _, bad := range []string{"", "8080", "HTTP", "-http", "http-", "we--b", "abcdefghijklmnop", "a_b"} {
		assert.NotEmpty(t, IsValidPortName(bad), bad)
	}
	assert.Empty(t, ValidateImmutable("a", "a", field.NewPath("x")))
	assert.Len(t, ValidateImmutable(1, 2, field.NewPath("x")), 1)
	assert.Len(t, ValidateNonnegative(int32(-1), field.NewPath("x")), 1)
	assert.Empty(t, ValidateNonnegative(int64(0), field.NewPath("x")))
}
