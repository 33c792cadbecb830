package fake

import (
	"context"

	"github.com/gantry-sdk/gantry/kubelet"
)

// ImageFsInfo implements kubelet.Images: the simulated filesystem holds the
// images (their Size) and Options.ImageFsOtherBytes, out of
// Options.ImageFsCapacity. Removing an image frees its Size at once.
func (r *Runtime) ImageFsInfo(ctx context.Context) (kubelet.FsUsage, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var images uint64
	for _, img := range r.images {
		images += img.Size
	}
	used := images + r.fsOther
	u := kubelet.FsUsage{Mountpoint: "/fake/images", UsedBytes: images, CapacityBytes: r.fsCapacity}
	if used < r.fsCapacity {
		u.AvailableBytes = r.fsCapacity - used
	}
	return u, nil
}

// SetImageFs changes the simulated image filesystem (see
// Options.ImageFsCapacity); a zero capacity keeps the current one.
func (r *Runtime) SetImageFs(capacity, otherBytes uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if capacity > 0 {
		r.fsCapacity = capacity
	}
	r.fsOther = otherBytes
}
