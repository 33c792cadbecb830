package proxytest

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"
)

// RequireRoot skips the test unless it runs as root; under CI=true it fails
// instead, so that a CI machine without the privileges cannot pass silently.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		Unavailable(t, "needs root (eBPF, cgroups, network namespaces, nftables)")
	}
}

// Unavailable skips, or under CI=true fails, with the reason.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("prerequisite missing under CI=true: "+format, args...)
	}
	t.Skipf(format, args...)
}

// RequireTool checks that a command is installed (scripts/setup/30-bpf.sh installs them).
func RequireTool(t testing.TB, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		Unavailable(t, "%s not installed (scripts/setup/30-bpf.sh installs it)", name)
	}
}

var seq atomic.Int64

// uniq is a name unique to this process and call, short enough for an interface.
func uniq(prefix string) string {
	return fmt.Sprintf("%s%d%d", prefix, os.Getpid()%100000, seq.Add(1))
}

// Cgroup is a child cgroup for one test.
type Cgroup struct {
	Path   string
	parent string
}

// NewCgroup creates a child of the cgroup v2 root, removed when the test ends
// (after moving this process back if it is still inside).
func NewCgroup(t testing.TB, root string) *Cgroup {
	t.Helper()
	c := &Cgroup{Path: filepath.Join(root, uniq("gantry-test-")), parent: root}
	if err := os.Mkdir(c.Path, 0o755); err != nil {
		Unavailable(t, "create cgroup: %v", err)
	}
	t.Cleanup(func() {
		c.Leave(t)
		if err := os.Remove(c.Path); err != nil {
			t.Errorf("remove cgroup %s: %v", c.Path, err)
		}
	})
	return c
}

// Enter moves this whole process into the cgroup.
func (c *Cgroup) Enter(t testing.TB) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(c.Path, "cgroup.procs"), []byte(strconv.Itoa(os.Getpid())), 0); err != nil {
		t.Fatalf("enter cgroup %s: %v", c.Path, err)
	}
}

// Leave moves this process back to the parent, if it is inside.
func (c *Cgroup) Leave(t testing.TB) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(c.Path, "cgroup.procs"))
	if err != nil || !containsLine(string(b), strconv.Itoa(os.Getpid())) {
		return
	}
	if err := os.WriteFile(filepath.Join(c.parent, "cgroup.procs"), []byte(strconv.Itoa(os.Getpid())), 0); err != nil {
		t.Errorf("leave cgroup %s: %v", c.Path, err)
	}
}

func containsLine(s, line string) bool {
	for _, l := range strings.Split(s, "\n") {
		if l == line {
			return true
		}
	}
	return false
}

// Netns is a network namespace joined to this one by a veth pair on a /30 of
// 198.18.0.0/15 (the benchmarking range, never routed): the node side keeps
// NodeAddr, the namespace side ClientAddr.
type Netns struct {
	Name       string
	HostIf     string
	NodeAddr   netip.Addr
	ClientAddr netip.Addr
}

var subnet atomic.Int64

// NewNetns creates the namespace and the veth pair, removed when the test ends.
func NewNetns(t testing.TB) *Netns {
	t.Helper()
	RequireTool(t, "ip")
	n := subnet.Add(1) + int64(os.Getpid()%200)*64
	base := netip.AddrFrom4([4]byte{198, 18 + byte(n>>14&1), byte(n >> 6), byte(n&63) * 4})
	ns := &Netns{Name: uniq("gantry-"), HostIf: uniq("gv"), NodeAddr: base.Next(), ClientAddr: base.Next().Next()}
	peer := ns.HostIf + "p"
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	run("netns", "add", ns.Name)
	t.Cleanup(func() {
		_ = exec.Command("ip", "link", "del", ns.HostIf).Run()
		if out, err := exec.Command("ip", "netns", "del", ns.Name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", ns.Name, err, out)
		}
	})
	run("link", "add", ns.HostIf, "type", "veth", "peer", "name", peer, "netns", ns.Name)
	run("addr", "add", ns.NodeAddr.String()+"/30", "dev", ns.HostIf)
	run("link", "set", ns.HostIf, "up")
	run("-n", ns.Name, "addr", "add", ns.ClientAddr.String()+"/30", "dev", peer)
	run("-n", ns.Name, "link", "set", peer, "up")
	run("-n", ns.Name, "link", "set", "lo", "up")
	return ns
}

// Do runs fn on an OS thread switched into the namespace: sockets fn creates
// belong to it for their whole life.
func (n *Netns) Do(fn func() error) error {
	return InNetns("/run/netns/"+n.Name, fn)
}

// InNetns runs fn with the calling OS thread in the network namespace at path.
func InNetns(path string, fn func() error) error {
	runtime.LockOSThread()
	self, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer self.Close()
	target, err := os.Open(path)
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("setns %s: %w", path, err)
	}
	ferr := fn()
	if err := unix.Setns(int(self.Fd()), unix.CLONE_NEWNET); err != nil {
		// The thread is in the wrong namespace: keep it locked so it dies with the goroutine.
		return errors.Join(ferr, fmt.Errorf("setns back: %w", err))
	}
	runtime.UnlockOSThread()
	return ferr
}
