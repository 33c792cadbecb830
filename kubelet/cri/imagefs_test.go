package cri_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/kubelet/cri/critest"
)

// TestImageFsInfo: containerd's CRI plugin names its snapshotter's directory
// (under the private daemon's root), whose filesystem gives the capacity.
func TestImageFsInfo(t *testing.T) {
	critest.Require(t, startErr)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rt, err := env.Dial(ctx)
	require.NoError(t, err)
	defer rt.Close()
	u, err := rt.ImageFsInfo(ctx)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(env.Dir, "root", "io.containerd.snapshotter.v1.overlayfs"), u.Mountpoint)
	assert.NotZero(t, u.CapacityBytes)
	assert.NotZero(t, u.AvailableBytes)
	assert.LessOrEqual(t, u.AvailableBytes, u.CapacityBytes)
}
