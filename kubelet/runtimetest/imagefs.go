package runtimetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// imageFsInfo: the image filesystem is named and has a capacity that holds
// what the runtime reports it uses.
func (s *suite) imageFsInfo(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	u, err := s.h.Runtime.ImageFsInfo(ctx)
	require.NoError(t, err)
	assert.NotEmpty(t, u.Mountpoint)
	assert.NotZero(t, u.CapacityBytes)
	assert.LessOrEqual(t, u.AvailableBytes, u.CapacityBytes)
	// The runtime's layers are part of what the filesystem has in use
	// (containerd's CRI plugin refreshes its figure every 10 s: it may still
	// be 0 after a start).
	assert.LessOrEqual(t, u.UsedBytes, u.CapacityBytes-u.AvailableBytes)
	t.Logf("image fs %s: used %d, capacity %d, available %d", u.Mountpoint, u.UsedBytes, u.CapacityBytes, u.AvailableBytes)
}
