package builtin_test

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/builtin"
)

// TestCodecDecodesEveryKindStrictly checks the built-in kinds against the
// apis.Codec: every manifest and fixture decodes in strict mode with no
// warnings, and the invalid manifest's Widget is reported as an unknown kind.
func TestCodecDecodesEveryKindStrictly(t *testing.T) {
	s, err := builtin.NewScheme()
	require.NoError(t, err)
	c := apis.Codec{Scheme: s, Strict: true}
	for _, pattern := range []string{"manifests/*.yaml", "roundtrip/*.yaml"} {
		files, err := filepath.Glob(filepath.Join("..", "testdata", pattern))
		require.NoError(t, err)
		for _, f := range files {
			if filepath.Base(f) == "invalid.yaml" {
				continue
			}
			objs, warns, err := c.DecodeAll(readFile(t, f))
			require.NoError(t, err, f)
			assert.Empty(t, warns, f)
			assert.NotEmpty(t, objs, f)
		}
	}
	objs, _, err := c.DecodeAll(readManifest(t, "invalid.yaml"))
	require.Error(t, err)
	assert.True(t, errors.Is(err, apis.ErrUnknownKind), "%v", err)
	require.Len(t, objs, 4)
	assert.Nil(t, objs[3], "the Widget")
	for i, obj := range objs[:3] {
		require.NotNil(t, obj, "document %d decodes; it is invalid, not malformed", i)
		k, err := s.KindOf(obj)
		require.NoError(t, err)
		if k.Namespaced() && obj.Meta().Namespace == "" {
			obj.Meta().Namespace = "default"
		}
		k.Default(obj)
		assert.NotEmpty(t, k.Validate(obj), "document %d", i)
	}

	// An unknown field deep inside a kind is named in strict mode.
	_, _, err = c.Decode([]byte(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"x","livenessProbe":{"httpGet":{"port":80,"pathh":"/"}}}]}}`))
	require.Error(t, err)
	assert.ErrorIs(t, err, apis.ErrUnknownField)
	assert.Contains(t, err.Error(), "spec.containers[0].livenessProbe.httpGet.pathh")
}
