package apis_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/apps"
	"github.com/gantry-sdk/gantry/apis/builtin"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/apis/field"
)

func manifestCodec(t testing.TB, strict bool) apis.Codec {
	s, err := builtin.NewScheme()
	require.NoError(t, err)
	return apis.Codec{Scheme: s, Strict: strict}
}

func readTestManifest(t testing.TB, name string) []byte {
	b, err := os.ReadFile(filepath.Join("testdata", "manifests", name))
	require.NoError(t, err)
	return b
}

// admit defaults and validates as the store does on create; a manifest
// without a namespace lands in "default", as kubectl applies it.
func admitLikeStore(t *testing.T, s *apis.Scheme, obj apis.Object) field.ErrorList {
	k, err := s.KindOf(obj)
	require.NoError(t, err)
	if k.Namespaced() && obj.Meta().Namespace == "" {
		obj.Meta().Namespace = core.NamespaceDefault
	}
	k.Default(obj)
	return k.Validate(obj)
}

func TestManifestsDecodeStrictly(t *testing.T) {
	c := manifestCodec(t, true)
	want := map[string][]string{
		"deployment-by-get-o-yaml.yaml": {"Deployment"},
		"deployment-gobackend.yaml":     {"Deployment", "Service"},
		"pod-configmap-volume.yaml":     {"Pod"},
		"service-nodeport.yaml":         {"Service"},
	}
	for name, kinds := range want {
		t.Run(name, func(t *testing.T) {
			objs, warns, err := c.DecodeAll(readTestManifest(t, name))
			require.NoError(t, err)
			assert.Empty(t, warns, "every field of the manifest is known")
			require.Len(t, objs, len(kinds))
			for i, obj := range objs {
				assert.Equal(t, kinds[i], obj.Type().Kind)

				// Encoding and decoding again gives the same object, in JSON and YAML.
				y, err := c.EncodeYAML(obj)
				require.NoError(t, err)
				back, warns, err := c.Decode(y)
				require.NoError(t, err, "%s", y)
				assert.Empty(t, warns)
				assertSameEncoding(t, obj, back)
				j, err := c.EncodeJSON(obj)
				require.NoError(t, err)
				back, _, err = c.Decode(j)
				require.NoError(t, err)
				assertSameEncoding(t, obj, back)

				// A deep copy is equal and independent.
				cp := apis.DeepCopy(obj)
				assert.Equal(t, obj, cp)
				assert.NotSame(t, obj, cp)

				assert.Empty(t, admitLikeStore(t, c.Scheme, obj), "%s %s", obj.Type().Kind, obj.Meta().Name)
			}
		})
	}
}

// assertSameJSON compares objects by their encoding: decoded times lose
// their monotonic and location details, which the encoding does not carry.
func assertSameEncoding(t *testing.T, want, got apis.Object) {
	t.Helper()
	a, err := json.Marshal(want)
	require.NoError(t, err)
	b, err := json.Marshal(got)
	require.NoError(t, err)
	assert.JSONEq(t, string(a), string(b))
}

func TestManifestContentsThroughCodec(t *testing.T) {
	c := manifestCodec(t, true)
	objs, _, err := c.DecodeAll(readTestManifest(t, "deployment-by-get-o-yaml.yaml"))
	require.NoError(t, err)
	d := objs[0].(*apps.Deployment)
	assert.Equal(t, "4455", d.ResourceVersion)
	require.Len(t, d.ManagedFields, 1)
	require.NotNil(t, d.ManagedFields[0].FieldsV1)
	assert.Contains(t, string(*d.ManagedFields[0].FieldsV1), `"f:metadata"`)
	assert.False(t, d.CreationTimestamp.IsZero())
	require.Len(t, d.Status.Conditions, 2)

	objs, _, err = c.DecodeAll(readTestManifest(t, "deployment-gobackend.yaml"))
	require.NoError(t, err)
	res := objs[0].(*apps.Deployment).Spec.Template.Spec.Containers[0].Resources
	assert.Equal(t, "512Mi", res.Limits.Memory().String())
	assert.Equal(t, int32(8080), objs[1].(*core.Service).Spec.Ports[0].TargetPort.IntVal)
}

func TestInvalidManifestNamesEachField(t *testing.T) {
	c := manifestCodec(t, true)
	objs, _, err := c.DecodeAll(readTestManifest(t, "invalid.yaml"))
	require.Len(t, objs, 4)

	// The fourth document fails to decode: its kind is unknown.
	require.Error(t, err)
	assert.True(t, errors.Is(err, apis.ErrUnknownKind))
	var docErr *apis.DocumentError
	require.ErrorAs(t, err, &docErr)
	assert.Equal(t, 3, docErr.Index)
	assert.Equal(t, 39, docErr.Line)
	assert.Contains(t, err.Error(), "Kind=Widget")
	assert.Nil(t, objs[3])

	// The others decode, and validation names the field at fault.
	want := []struct {
		kind   string
		fields []string
	}{
		{"Deployment", []string{"metadata.name", "spec.replicas", "spec.template.metadata.labels"}},
		{"Service", []string{"spec.ports[0].port", "spec.ports[0].nodePort"}},
		{"Pod", []string{"spec.containers"}},
	}
	for i, w := range want {
		t.Run(w.kind, func(t *testing.T) {
			obj := objs[i]
			require.NotNil(t, obj)
			assert.Equal(t, w.kind, obj.Type().Kind)
			errs := admitLikeStore(t, c.Scheme, obj)
			require.NotEmpty(t, errs)
			var got []string
			for _, e := range errs {
				got = append(got, e.Field)
			}
			for _, f := range w.fields {
				assert.Contains(t, got, f, "errors: %v", errs)
			}
		})
	}
}

func TestManifestTyposAreReported(t *testing.T) {
	doc := []byte(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        imagee: nginx
`)
	_, warns, err := manifestCodec(t, false).Decode(doc)
	require.NoError(t, err)
	require.Len(t, warns, 1)
	assert.Equal(t, "spec.template.spec.containers[0].imagee", warns[0].Field)

	_, _, err = manifestCodec(t, true).Decode(doc)
	require.ErrorIs(t, err, apis.ErrUnknownField)
	assert.Contains(t, err.Error(), "spec.template.spec.containers[0].imagee: Unknown field")

	_, _, err = manifestCodec(t, false).Decode([]byte("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: x\n    resources: {limits: {memory: lots}}\n"))
	require.ErrorIs(t, err, apis.ErrMalformed)
	assert.Contains(t, err.Error(), "spec.containers[0].resources.limits[memory]: Invalid value")
}

// TestDeepCopyEveryBuiltinKind copies random values of every built-in kind
// and checks each copy is equal to, and shares no memory with, its original.
func TestDeepCopyEveryBuiltinKind(t *testing.T) {
	c := manifestCodec(t, false)
	kinds := c.Scheme.Kinds()
	require.NotEmpty(t, kinds)
	for _, k := range kinds {
		t.Run(k.GVK.Kind, func(t *testing.T) {
			apis.CheckRandomDeepCopies(t, k.GoType(), 20, 7)
		})
	}
}

func BenchmarkDeepCopyDeployment(b *testing.B) {
	c := manifestCodec(b, true)
	objs, _, err := c.DecodeAll(readTestManifest(b, "deployment-by-get-o-yaml.yaml"))
	require.NoError(b, err)
	d := objs[0].(*apps.Deployment)
	b.Run("DeepCopy", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = apis.DeepCopy(d)
		}
	})
	b.Run("json-round-trip", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			j, err := json.Marshal(d)
			if err != nil {
				b.Fatal(err)
			}
			var out apps.Deployment
			if err := json.Unmarshal(j, &out); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkDecodeManifest(b *testing.B) {
	c := manifestCodec(b, true)
	data := readTestManifest(b, "deployment-by-get-o-yaml.yaml")
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := c.DecodeAll(data); err != nil {
			b.Fatal(err)
		}
	}
}
