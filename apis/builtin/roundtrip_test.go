package builtin_test

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"github.com/gantry-sdk/gantry/apis/builtin"
)

// dropNulls removes null members: Gantry omits unset timestamps where
// Kubernetes prints `null`, and both read back the same.
func dropNulls(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, vv := range x {
			if vv == nil {
				delete(x, k)
				continue
			}
			x[k] = dropNulls(vv)
		}
	case []any:
		for i := range x {
			x[i] = dropNulls(x[i])
		}
	}
	return v
}

func normalize(t *testing.T, b []byte) string {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal(b, &v))
	out, err := json.Marshal(dropNulls(v))
	require.NoError(t, err)
	return string(out)
}

// TestRoundTripEveryKind decodes a fully populated manifest of every kind
// strictly (unknown fields fail) and checks that encoding gives the same
// document back, through JSON and through YAML.
func TestRoundTripEveryKind(t *testing.T) {
	s, err := builtin.NewScheme()
	require.NoError(t, err)
	files, err := filepath.Glob(filepath.Join("..", "testdata", "roundtrip", "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	seen := map[string]bool{}
	for _, f := range files {
		for _, doc := range splitDocuments(readFile(t, f)) {
			obj, k, err := decode(t, s, doc)
			require.NoError(t, err)
			name := k.GVK.Kind
			seen[name] = true
			t.Run(name, func(t *testing.T) {
				want, err := yaml.YAMLToJSON(doc)
				require.NoError(t, err)
				got, err := json.Marshal(obj)
				require.NoError(t, err)
				assert.JSONEq(t, normalize(t, want), normalize(t, got))

				// And back again through YAML, as kubectl -o yaml would print it.
				y, err := yaml.Marshal(obj)
				require.NoError(t, err)
				again := k.New()
				require.NoError(t, yaml.UnmarshalStrict(y, again))
				got2, err := json.Marshal(again)
				require.NoError(t, err)
				assert.JSONEq(t, string(got), string(got2))
			})
		}
	}
	for _, k := range s.Kinds() {
		assert.True(t, seen[k.GVK.Kind], "no round-trip fixture for %s", k.GVK)
	}
}

// TestFixturesAreValid defaults and validates every round-trip fixture (each
// is a realistic, fully populated object of its kind) and checks that a
// no-op update passes the kind's update rules.
func TestFixturesAreValid(t *testing.T) {
	s, err := builtin.NewScheme()
	require.NoError(t, err)
	files, err := filepath.Glob(filepath.Join("..", "testdata", "roundtrip", "*.yaml"))
	require.NoError(t, err)
	for _, f := range files {
		for _, doc := range splitDocuments(readFile(t, f)) {
			obj, k, err := decode(t, s, doc)
			require.NoError(t, err)
			t.Run(k.GVK.Kind, func(t *testing.T) {
				k.Default(obj)
				assert.Empty(t, k.Validate(obj))
				old, _, err := decode(t, s, doc)
				require.NoError(t, err)
				k.Default(old)
				assert.Empty(t, k.ValidateUpdate(obj, old))
			})
		}
	}
}
