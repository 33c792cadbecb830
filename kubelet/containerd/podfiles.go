package containerd

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/gantry-sdk/gantry/kubelet"
)

// A pod's directory (Options.StateDir/pods/<sandbox ID>) holds what its
// containers share besides the network namespace, as the pause container
// and the CRI plugin's sandbox directory do:
//
//   - ipc: the pod's IPC namespace, pinned like the network namespace;
//   - shm: a tmpfs for the pod's /dev/shm;
//   - resolv.conf and hostname, bind-mounted at /etc/resolv.conf and
//     /etc/hostname (written by RunPodSandbox).
//
// The namespace and the tmpfs are made with the pod's network (in the pool
// for a pool hit); RemovePodSandbox releases them.
const (
	podIPCFile      = "ipc"
	podShmDir       = "shm"
	podResolvFile   = "resolv.conf"
	podHostnameFile = "hostname"
	// shmSize is the size of a pod's /dev/shm (the CRI plugin's and Docker's
	// default, 64 MiB).
	shmSize = "65536k"
)

func (r *Runtime) podDirPath(id string) string { return filepath.Join(r.stateDir, "pods", id) }

// newPodDir makes a pod's directory with its /dev/shm tmpfs (the IPC namespace
// comes with the network one, see newNamespaces).
func newPodDir(dir string) error {
	if err := os.MkdirAll(filepath.Join(dir, podShmDir), 0o700); err != nil {
		return fmt.Errorf("containerd: pod dir: %w", err)
	}
	if err := unix.Mount("shm", filepath.Join(dir, podShmDir), "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=1777,size="+shmSize); err != nil {
		return fmt.Errorf("containerd: pod /dev/shm %s: %w", dir, err)
	}
	return nil
}

// releasePodDir unmounts a pod's IPC namespace and tmpfs and removes its
// directory. Nothing is removed below a mount that did not go.
func releasePodDir(dir string) error {
	if dir == "" {
		return nil
	}
	err := errors.Join(removeNsFile(filepath.Join(dir, podIPCFile)), removeNsFile(filepath.Join(dir, podShmDir)))
	if err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("containerd: remove pod dir: %w", err)
	}
	return nil
}

// writePodFiles writes the pod's resolv.conf and hostname.
func writePodFiles(dir string, resolv []byte, hostname string) error {
	if err := os.WriteFile(filepath.Join(dir, podResolvFile), resolv, 0o644); err != nil {
		return fmt.Errorf("containerd: pod resolv.conf: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, podHostnameFile), []byte(hostname+"\n"), 0o644); err != nil {
		return fmt.Errorf("containerd: pod hostname: %w", err)
	}
	return nil
}

func podHostname(name, hostname string) string {
	if hostname != "" {
		return hostname
	}
	return name
}

// resolvConf renders a pod's resolv.conf as the CRI plugin does: search,
// nameservers, options; a zero config copies the host's file.
func resolvConf(dns kubelet.DNSConfig, hostFile string) ([]byte, error) {
	if dns.IsZero() {
		b, err := os.ReadFile(hostFile)
		if err != nil {
			return nil, fmt.Errorf("containerd: host resolv.conf: %w", err)
		}
		return b, nil
	}
	for i, s := range dns.Servers {
		if s == "" || strings.ContainsAny(s, " \t\n") {
			return nil, fmt.Errorf("%w: dns.servers[%d] %q", kubelet.ErrInvalid, i, s)
		}
	}
	for field, vs := range map[string][]string{"searches": dns.Searches, "options": dns.Options} {
		for i, v := range vs {
			if v == "" || strings.ContainsAny(v, " \t\n") {
				return nil, fmt.Errorf("%w: dns.%s[%d] %q", kubelet.ErrInvalid, field, i, v)
			}
		}
	}
	var b bytes.Buffer
	if len(dns.Searches) > 0 {
		b.WriteString("search " + strings.Join(dns.Searches, " ") + "\n")
	}
	for _, s := range dns.Servers {
		b.WriteString("nameserver " + s + "\n")
	}
	if len(dns.Options) > 0 {
		b.WriteString("options " + strings.Join(dns.Options, " ") + "\n")
	}
	return b.Bytes(), nil
}

// podMounts are the pod's shared files and /dev/shm in a container, each
// unless the caller mounts something there; read-only under a read-only root
// (as CRI does) so that they cannot be written around it.
func podMounts(dir string, cfg kubelet.ContainerConfig) (ms []specs.Mount, replaceShm bool) {
	taken := func(p string) bool {
		return slices.ContainsFunc(cfg.Mounts, func(m kubelet.Mount) bool { return filepath.Clean(m.ContainerPath) == p })
	}
	mode := "rw"
	if cfg.Security.ReadOnlyRootFilesystem {
		mode = "ro"
	}
	for _, f := range []struct{ file, dest string }{{podResolvFile, "/etc/resolv.conf"}, {podHostnameFile, "/etc/hostname"}} {
		if !taken(f.dest) {
			ms = append(ms, specs.Mount{Destination: f.dest, Type: "bind", Source: filepath.Join(dir, f.file), Options: []string{"rbind", "rprivate", mode}})
		}
	}
	if !taken("/dev/shm") {
		ms = append(ms, specs.Mount{Destination: "/dev/shm", Type: "bind", Source: filepath.Join(dir, podShmDir), Options: []string{"rbind", "rprivate", "nosuid", "nodev", "noexec", "rw"}})
		replaceShm = true
	}
	return ms, replaceShm
}
