package kubelet

import (
	"fmt"
	"net/netip"
	"strings"
)

// Limits of a pod's resolver configuration, as Kubernetes (v1.28 and later)
// enforces them: more name servers than the C resolver reads are useless, and
// long search lists slow every lookup.
const (
	MaxDNSServers         = 3
	MaxDNSSearches        = 32
	MaxDNSSearchListChars = 2048
)

// MaxID is the largest user or group ID Linux accepts ((uid_t)-1 means "none").
const MaxID = 1<<32 - 2

// capabilities are the Linux capabilities (capability.h, Linux 5.9 and later),
// named as Kubernetes names them: without the CAP_ prefix.
var capabilities = map[string]bool{
	"CHOWN": true, "DAC_OVERRIDE": true, "DAC_READ_SEARCH": true, "FOWNER": true, "FSETID": true,
	"KILL": true, "SETGID": true, "SETUID": true, "SETPCAP": true, "LINUX_IMMUTABLE": true,
	"NET_BIND_SERVICE": true, "NET_BROADCAST": true, "NET_ADMIN": true, "NET_RAW": true,
	"IPC_LOCK": true, "IPC_OWNER": true, "SYS_MODULE": true, "SYS_RAWIO": true, "SYS_CHROOT": true,
	"SYS_PTRACE": true, "SYS_PACCT": true, "SYS_ADMIN": true, "SYS_BOOT": true, "SYS_NICE": true,
	"SYS_RESOURCE": true, "SYS_TIME": true, "SYS_TTY_CONFIG": true, "MKNOD": true, "LEASE": true,
	"AUDIT_WRITE": true, "AUDIT_CONTROL": true, "SETFCAP": true, "MAC_OVERRIDE": true, "MAC_ADMIN": true,
	"SYSLOG": true, "WAKE_ALARM": true, "BLOCK_SUSPEND": true, "AUDIT_READ": true, "PERFMON": true,
	"BPF": true, "CHECKPOINT_RESTORE": true,
}

// IsCapability reports whether name is a Linux capability as Kubernetes names
// it ("NET_ADMIN": upper case, no CAP_ prefix). "ALL" is not one.
func IsCapability(name string) bool { return capabilities[name] }

// Validate checks the fields every runtime needs, naming the first bad one.
func (c SandboxConfig) Validate() error {
	switch {
	case c.Name == "":
		return fmt.Errorf("%w: sandbox name is empty", ErrInvalid)
	case c.Namespace == "":
		return fmt.Errorf("%w: sandbox %q: namespace is empty", ErrInvalid, c.Name)
	case c.UID == "":
		return fmt.Errorf("%w: sandbox %q: uid is empty", ErrInvalid, c.Name)
	}
	if err := c.DNS.Validate(); err != nil {
		return fmt.Errorf("%w: sandbox %q: %w", ErrInvalid, c.Name, err)
	}
	return nil
}

// Validate checks a resolver configuration: name servers are IP addresses
// (at most MaxDNSServers), search domains and options are single non-empty
// words, the search list within MaxDNSSearches and MaxDNSSearchListChars.
// The error names the field; it does not wrap ErrInvalid (callers do).
func (c DNSConfig) Validate() error {
	if len(c.Servers) > MaxDNSServers {
		return fmt.Errorf("dns.servers: %d name servers, at most %d", len(c.Servers), MaxDNSServers)
	}
	for i, s := range c.Servers {
		if _, err := netip.ParseAddr(s); err != nil {
			return fmt.Errorf("dns.servers[%d]: %q is not an IP address", i, s)
		}
	}
	if len(c.Searches) > MaxDNSSearches {
		return fmt.Errorf("dns.searches: %d search domains, at most %d", len(c.Searches), MaxDNSSearches)
	}
	if n := len(strings.Join(c.Searches, " ")); n > MaxDNSSearchListChars {
		return fmt.Errorf("dns.searches: the search list is %d characters long, at most %d", n, MaxDNSSearchListChars)
	}
	for _, f := range []struct {
		name string
		list []string
	}{{"searches", c.Searches}, {"options", c.Options}} {
		for i, s := range f.list {
			if s == "" || strings.ContainsFunc(s, isSpaceOrControl) {
				return fmt.Errorf("dns.%s[%d]: %q is empty or holds a space or control character", f.name, i, s)
			}
		}
	}
	return nil
}

func isSpaceOrControl(r rune) bool { return r <= ' ' || r == 0x7f }

// Validate checks the fields every runtime needs, naming the first bad one.
func (c ContainerConfig) Validate() error {
	switch {
	case c.Name == "":
		return fmt.Errorf("%w: container name is empty", ErrInvalid)
	case c.Image == "":
		return fmt.Errorf("%w: container %q: image is empty", ErrInvalid, c.Name)
	case c.Resources.OOMScoreAdj < 0:
		return fmt.Errorf("%w: container %q: resources.oomScoreAdj %d is negative", ErrInvalid, c.Name, c.Resources.OOMScoreAdj)
	case c.Resources.MemoryLimit < 0:
		return fmt.Errorf("%w: container %q: resources.memoryLimit %d is negative", ErrInvalid, c.Name, c.Resources.MemoryLimit)
	case c.Resources.CPUShares < 0, c.Resources.CPUQuota < 0, c.Resources.CPUPeriod < 0:
		return fmt.Errorf("%w: container %q: resources.cpu* is negative", ErrInvalid, c.Name)
	}
	for i, m := range c.Mounts {
		if m.ContainerPath == "" || m.HostPath == "" {
			return fmt.Errorf("%w: container %q: mounts[%d]: containerPath and hostPath are required", ErrInvalid, c.Name, i)
		}
	}
	if err := c.Security.Validate(); err != nil {
		return fmt.Errorf("%w: container %q: %w", ErrInvalid, c.Name, err)
	}
	return nil
}

// Validate checks a security context: IDs within 0..MaxID, capabilities known
// to Linux (or "ALL"), named without the CAP_ prefix. The error names the
// field; it does not wrap ErrInvalid (callers do).
func (s SecurityContext) Validate() error {
	for _, id := range []struct {
		name string
		v    *int64
	}{{"runAsUser", s.RunAsUser}, {"runAsGroup", s.RunAsGroup}} {
		if id.v != nil && (*id.v < 0 || *id.v > MaxID) {
			return fmt.Errorf("security.%s: %d is not a valid ID (0 to %d)", id.name, *id.v, int64(MaxID))
		}
	}
	for i, g := range s.SupplementalGroups {
		if g < 0 || g > MaxID {
			return fmt.Errorf("security.supplementalGroups[%d]: %d is not a valid ID (0 to %d)", i, g, int64(MaxID))
		}
	}
	for _, f := range []struct {
		name string
		list []string
	}{{"capAdd", s.CapAdd}, {"capDrop", s.CapDrop}} {
		for i, c := range f.list {
			switch {
			case c == "ALL" || IsCapability(c):
			case IsCapability(strings.TrimPrefix(strings.ToUpper(c), "CAP_")):
				return fmt.Errorf("security.%s[%d]: %q: name capabilities in upper case without the CAP_ prefix (%q)",
					f.name, i, c, strings.TrimPrefix(strings.ToUpper(c), "CAP_"))
			default:
				return fmt.Errorf("security.%s[%d]: %q is not a Linux capability (nor ALL)", f.name, i, c)
			}
		}
	}
	return nil
}
