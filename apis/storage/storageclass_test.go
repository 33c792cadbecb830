package storage

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/core"
)

func TestStorageClass(t *testing.T) {
	c := &StorageClass{ObjectMeta: apis.ObjectMeta{Name: "local"}, Provisioner: "rancher.io/local-path"}
	DefaultStorageClass(c)
	assert.Equal(t, core.PersistentVolumeReclaimDelete, *c.ReclaimPolicy)
	assert.Equal(t, VolumeBindingImmediate, *c.VolumeBindingMode)
	assert.Empty(t, ValidateStorageClass(c))

	tests := []struct {
		name   string
		mutate func(c *StorageClass)
		path   string
	}{
		{"provisioner", func(c *StorageClass) { c.Provisioner = "" }, "provisioner"},
		{"provisioner too long", func(c *StorageClass) { c.Provisioner = strings.Repeat("p", 64) }, "provisioner"},
		{"provisioner syntax", func(c *StorageClass) { c.Provisioner = "bad provisioner" }, "provisioner"},
		{"parameter key", func(c *StorageClass) { c.Parameters = map[string]string{"": "x"} }, "parameters"},
		{"topology key", func(c *StorageClass) {
			c.AllowedTopologies = []core.TopologySelectorTerm{{MatchLabelExpressions: []core.TopologySelectorLabelRequirement{{Key: "a b", Values: []string{"x"}}}}}
		}, "allowedTopologies[0].matchLabelExpressions[0].key"},
		{"topology empty", func(c *StorageClass) { c.AllowedTopologies = []core.TopologySelectorTerm{{}} }, "allowedTopologies[0].matchLabelExpressions"},
		{"reclaimPolicy", func(c *StorageClass) { p := core.PersistentVolumeReclaimRecycle; c.ReclaimPolicy = &p }, "reclaimPolicy"},
		{"bindingMode", func(c *StorageClass) { m := VolumeBindingMode("Later"); c.VolumeBindingMode = &m }, "volumeBindingMode"},
		{"namespace", func(c *StorageClass) { c.Namespace = "default" }, "metadata.namespace"},
		{"topology", func(c *StorageClass) {
			c.AllowedTopologies = []core.TopologySelectorTerm{{MatchLabelExpressions: []core.TopologySelectorLabelRequirement{{Key: "zone"}}}}
		}, "allowedTopologies[0].matchLabelExpressions[0].values"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &StorageClass{ObjectMeta: apis.ObjectMeta{Name: "local"}, Provisioner: "rancher.io/local-path"}
			DefaultStorageClass(c)
			tt.mutate(c)
			errs := ValidateStorageClass(c)
			require.Len(t, errs, 1, "%v", errs)
			assert.Equal(t, tt.path, errs[0].Field)
		})
	}
	changed := *c
	changed.Provisioner = "example.com/other"
	errs := ValidateStorageClassUpdate(&changed, c)
	require.Len(t, errs, 1)
	assert.Equal(t, "provisioner", errs[0].Field)
	for _, mutate := range []func(c *StorageClass){
		func(c *StorageClass) { c.Parameters = map[string]string{"type": "hdd"} },
		func(c *StorageClass) { p := core.PersistentVolumeReclaimRetain; c.ReclaimPolicy = &p },
		func(c *StorageClass) { m := VolumeBindingWaitForFirstConsumer; c.VolumeBindingMode = &m },
	} {
		changed := *c
		mutate(&changed)
		assert.Len(t, ValidateStorageClassUpdate(&changed, c), 1)
	}
	expand := *c
	expand.AllowVolumeExpansion = new(bool)
	assert.Empty(t, ValidateStorageClassUpdate(&expand, c))
}
