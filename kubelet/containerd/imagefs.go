package containerd

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/containerd/containerd/v2/core/snapshots"
	"github.com/containerd/containerd/v2/plugins"

	"github.com/gantry-sdk/gantry/kubelet"
)

// ImageFsInfo implements kubelet.Images: UsedBytes sums the snapshotter's
// usage of the Runtime's namespace (image layers and containers' writable
// layers), as containerd's CRI plugin does for its own; capacity and free
// space are the statfs of the snapshotter's root.
func (r *Runtime) ImageFsInfo(ctx context.Context) (kubelet.FsUsage, error) {
	ctx = r.nsCtx(ctx)
	root, err := r.snapshotterRoot(ctx)
	if err != nil {
		return kubelet.FsUsage{}, err
	}
	u := kubelet.FsUsage{Mountpoint: root}
	sn := r.c.SnapshotService(r.snapshotter)
	var keys []string
	if err := sn.Walk(ctx, func(_ context.Context, info snapshots.Info) error {
		keys = append(keys, info.Name)
		return nil
	}); err != nil {
		return u, r.wrap("image fs info: walk snapshots", r.snapshotter, err)
	}
	for _, k := range keys {
		usage, err := sn.Usage(ctx, k)
		if err != nil {
			continue // removed since the walk
		}
		if usage.Size > 0 {
			u.UsedBytes += uint64(usage.Size)
		}
	}
	return kubelet.StatFs(u)
}

// snapshotterRoot returns Options.SnapshotterRoot, or the root the snapshotter
// plugin exports (overlayfs and native do), or containerd's default.
func (r *Runtime) snapshotterRoot(ctx context.Context) (string, error) {
	r.mu.Lock()
	root := r.snapRoot
	r.mu.Unlock()
	if root != "" {
		return root, nil
	}
	resp, err := r.c.IntrospectionService().Plugins(ctx, fmt.Sprintf("type==%s,id==%s", plugins.SnapshotPlugin, r.snapshotter))
	if err != nil {
		return "", r.wrap("image fs info: introspect snapshotter", r.snapshotter, err)
	}
	for _, p := range resp.Plugins {
		if dir := p.Exports[plugins.SnapshotterRootDir]; dir != "" {
			root = dir
		}
	}
	if root == "" {
		root = filepath.Join("/var/lib/containerd", string(plugins.SnapshotPlugin)+"."+r.snapshotter)
	}
	r.mu.Lock()
	r.snapRoot = root
	r.mu.Unlock()
	return root, nil
}
