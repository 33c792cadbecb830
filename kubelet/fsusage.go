package kubelet

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// StatFs fills u's CapacityBytes and AvailableBytes from the filesystem at
// u.Mountpoint, as the kubelet's image GC reads them (f_blocks and f_bavail
// in units of f_frsize).
func StatFs(u FsUsage) (FsUsage, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(u.Mountpoint, &st); err != nil {
		return u, fmt.Errorf("kubelet: statfs image filesystem %s: %w", u.Mountpoint, err)
	}
	bsize := uint64(st.Frsize)
	if bsize == 0 {
		bsize = uint64(st.Bsize)
	}
	u.CapacityBytes, u.AvailableBytes = st.Blocks*bsize, st.Bavail*bsize
	return u, nil
}
