package containerd_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"path/filepath"
	"testing"
	"time"

	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/kubelet/containerd"
	"github.com/gantry-sdk/gantry/kubelet/cri/critest"
)

// TestImageFsInfo: the snapshotter's root comes from the daemon (the
// private one keeps it under its own directory), an unpacked image adds its
// layers to UsedBytes, and the CRI plugin's pin label reads as Image.Pinned.
func TestImageFsInfo(t *testing.T) {
	rt := dial(t, containerd.Options{Namespace: "imagefs", PoolSize: -1})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	before, err := rt.ImageFsInfo(ctx)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(env.Dir, "root", "io.containerd.snapshotter.v1.overlayfs"), before.Mountpoint)

	noise := make([]byte, 2<<20)
	_, _ = rand.Read(noise)
	layer, err := critest.FileLayer(map[string][]byte{"noise": noise})
	require.NoError(t, err)
	var archive bytes.Buffer
	require.NoError(t, critest.WriteOCIArchive(&archive, layer, critest.Image{Name: "gantry.local/imagefs:test"}))
	imgs, err := rt.ImportImage(ctx, &archive)
	require.NoError(t, err)
	require.Len(t, imgs, 1)
	assert.False(t, imgs[0].Pinned)
	after, err := rt.ImageFsInfo(ctx)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, after.UsedBytes, before.UsedBytes+uint64(len(noise)), "the unpacked layer is counted")

	nsCtx := namespaces.WithNamespace(ctx, rt.Namespace())
	is := rt.Client().ImageService()
	img, err := is.Get(nsCtx, "gantry.local/imagefs:test")
	require.NoError(t, err)
	img.Labels = map[string]string{"io.cri-containerd.pinned": "pinned"}
	_, err = is.Update(nsCtx, img, "labels")
	require.NoError(t, err)
	st, err := rt.ImageStatus(ctx, "gantry.local/imagefs:test")
	require.NoError(t, err)
	assert.True(t, st.Pinned)

	require.NoError(t, rt.RemoveImage(ctx, imgs[0].ID))

	// A root set in the Options is taken as is.
	other := dial(t, containerd.Options{Namespace: "imagefs", PoolSize: -1, SnapshotterRoot: t.TempDir()})
	u, err := other.ImageFsInfo(ctx)
	require.NoError(t, err)
	assert.NotEqual(t, before.Mountpoint, u.Mountpoint)
	assert.NotZero(t, u.CapacityBytes)
}
