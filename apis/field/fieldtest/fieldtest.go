// Package fieldtest holds assertions on field.ErrorList for validation tests.
//
// # Usage
//
//	errs := apps.ValidateDeployment(d)
//	fieldtest.ExpectOnly(t, errs, "spec.replicas", field.TypeInvalid)
package fieldtest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/apis/field"
)

// ExpectOnly asserts that errs holds exactly one error, of type typ at path.
func ExpectOnly(t testing.TB, errs field.ErrorList, path string, typ field.Type) {
	t.Helper()
	require.Len(t, errs, 1, "errors: %v", errs)
	assert.Equal(t, path, errs[0].Field, "errors: %v", errs)
	assert.Equal(t, typ, errs[0].Type, "errors: %v", errs)
}
