package ebpf

import (
	"errors"
	"fmt"

	bpf "github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/features"
	"golang.org/x/sys/unix"

	"github.com/gantry-sdk/gantry/proxy"
)

// Probe reports whether this machine can run the datapath: socket-address
// programs, the helpers they call, LRU maps and a cgroup v2 hierarchy. The
// error wraps proxy.ErrUnsupported and names what is missing.
func Probe() error {
	if err := features.HaveProgramType(bpf.CGroupSockAddr); err != nil {
		return unsupported("program type CGroupSockAddr", err)
	}
	for _, fn := range []asm.BuiltinFunc{asm.FnGetSocketCookie, asm.FnGetNetnsCookie, asm.FnGetPrandomU32, asm.FnKtimeGetNs} {
		if err := features.HaveProgramHelper(bpf.CGroupSockAddr, fn); err != nil {
			return unsupported("helper "+fn.String(), err)
		}
	}
	if err := features.HaveMapType(bpf.LRUHash); err != nil {
		return unsupported("map type LRUHash", err)
	}
	if _, err := CgroupRoot(); err != nil {
		return err
	}
	return nil
}

func unsupported(what string, err error) error {
	if errors.Is(err, unix.EPERM) {
		return fmt.Errorf("%w: ebpf: %s: permission denied (needs CAP_BPF, CAP_NET_ADMIN and CAP_SYS_ADMIN or root): %w", proxy.ErrUnsupported, what, err)
	}
	return fmt.Errorf("%w: ebpf: %s: %w", proxy.ErrUnsupported, what, err)
}

// CgroupRoot returns the mount point of the cgroup v2 hierarchy: a hybrid
// system mounts it at /sys/fs/cgroup/unified, a unified one at /sys/fs/cgroup.
func CgroupRoot() (string, error) {
	for _, p := range []string{"/sys/fs/cgroup/unified", "/sys/fs/cgroup"} {
		var st unix.Statfs_t
		if err := unix.Statfs(p, &st); err == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: ebpf: no cgroup v2 hierarchy at /sys/fs/cgroup/unified or /sys/fs/cgroup", proxy.ErrUnsupported)
}
