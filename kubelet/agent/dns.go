package agent

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/kubelet"
)

// DefaultResolvConf is the node's resolver configuration that pods with
// dnsPolicy Default inherit (Options.ResolvConf).
const DefaultResolvConf = "/etc/resolv.conf"

// resolvConf is what a resolv.conf says, as the kubelet reads it.
type resolvConf struct {
	servers, searches, options []string
}

// parseResolvConf reads nameserver, search and options lines as the kubelet
// does: comments (# or ;) and other keywords ignored, the last search line
// wins, search domains lose a trailing dot. It fails only on a line longer
// than the reader's buffer (64 KiB) or a read error.
func parseResolvConf(r io.Reader) (resolvConf, error) {
	var out resolvConf
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if i := strings.IndexAny(text, "#;"); i >= 0 {
			text = text[:i]
		}
		f := strings.Fields(text)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "nameserver":
			out.servers = append(out.servers, f[1])
		case "search":
			out.searches = out.searches[:0]
			for _, s := range f[1:] {
				if s = strings.TrimSuffix(s, "."); s != "" {
					out.searches = append(out.searches, s)
				}
			}
		case "options":
			out.options = append(out.options, f[1:]...)
		}
	}
	if err := sc.Err(); err != nil {
		return resolvConf{}, fmt.Errorf("line %d: %w", line+1, err)
	}
	return out, nil
}

// hostResolvConf reads the node's resolv.conf (Options.ResolvConf), parsed
// again only when its size or modification time changed.
func (a *Agent) hostResolvConf() (resolvConf, error) {
	path := a.opts.ResolvConf
	if path == "" {
		path = DefaultResolvConf
	}
	fi, err := os.Stat(path)
	if err != nil {
		return resolvConf{}, fmt.Errorf("agent: host DNS: %w", err)
	}
	a.resolvMu.Lock()
	defer a.resolvMu.Unlock()
	if c := a.resolvCache; c != nil && c.path == path && c.size == fi.Size() && c.mtime.Equal(fi.ModTime()) {
		return c.conf, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return resolvConf{}, fmt.Errorf("agent: host DNS: %w", err)
	}
	rc, err := parseResolvConf(bytes.NewReader(b))
	if err != nil {
		return resolvConf{}, fmt.Errorf("agent: host DNS: %s: %w", path, err)
	}
	a.resolvCache = &resolvCache{path: path, size: fi.Size(), mtime: fi.ModTime(), conf: rc}
	return rc, nil
}

// resolvCache is the node's parsed resolv.conf and what identified it.
type resolvCache struct {
	path  string
	size  int64
	mtime time.Time
	conf  resolvConf
}

// podEvent is an event to record about a pod.
type podEvent struct{ typ, reason, message string }

// podDNS builds a pod's resolver configuration as the kubelet does. By
// dnsPolicy: ClusterFirst (the default) uses the cluster's DNS servers, the
// search list <ns>.svc.<domain> svc.<domain> <domain> then the node's, and
// ndots:5 (hostNetwork pods use the node's instead, unless the policy is
// ClusterFirstWithHostNet); without cluster DNS configured it falls back to
// Default with a MissingClusterDNS warning. Default copies the node's
// resolv.conf; None starts empty. pod.spec.dnsConfig is then merged in:
// servers and searches appended, duplicates dropped, options overriding
// same-named ones. Lists beyond Kubernetes' limits are cut, with a
// DNSConfigForming warning.
func (a *Agent) podDNS(pod *core.Pod) (kubelet.DNSConfig, []podEvent, error) {
	var events []podEvent
	policy := pod.Spec.DNSPolicy
	cluster := false
	switch policy {
	case core.DNSNone:
	case core.DNSClusterFirstWithHostNet:
		cluster = true
	case core.DNSDefault:
	default: // ClusterFirst, and unset
		cluster = !pod.Spec.HostNetwork
	}
	if cluster && len(a.opts.ClusterDNS) == 0 {
		if policy == "" {
			policy = core.DNSClusterFirst
		}
		events = append(events, podEvent{core.EventTypeWarning, "MissingClusterDNS",
			fmt.Sprintf("pod: %q. kubelet does not have ClusterDNS IP configured and cannot create Pod using %q policy. Falling back to %q policy.",
				podRef(pod), policy, core.DNSDefault)})
		cluster = false
	}
	var dns kubelet.DNSConfig
	if policy != core.DNSNone {
		host, err := a.hostResolvConf()
		if err != nil {
			return kubelet.DNSConfig{}, nil, err
		}
		if cluster {
			dns.Servers = slices.Clone(a.opts.ClusterDNS)
			if d := a.opts.ClusterDomain; d != "" {
				dns.Searches = []string{pod.Namespace + ".svc." + d, "svc." + d, d}
			}
			dns.Searches = append(dns.Searches, host.searches...)
			dns.Options = []string{"ndots:5"}
		} else {
			dns = kubelet.DNSConfig{Servers: host.servers, Searches: host.searches, Options: host.options}
		}
	}
	if c := pod.Spec.DNSConfig; c != nil {
		dns.Servers = appendNew(dns.Servers, c.Nameservers...)
		dns.Searches = appendNew(dns.Searches, c.Searches...)
		dns.Options = mergeDNSOptions(dns.Options, c.Options)
	}
	if len(dns.Servers) > kubelet.MaxDNSServers {
		dns.Servers = dns.Servers[:kubelet.MaxDNSServers]
		events = append(events, podEvent{core.EventTypeWarning, "DNSConfigForming",
			"Nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver line is: " + strings.Join(dns.Servers, " ")})
	}
	if n := fitSearches(dns.Searches); n < len(dns.Searches) {
		dns.Searches = dns.Searches[:n]
		events = append(events, podEvent{core.EventTypeWarning, "DNSConfigForming",
			"Search Line limits were exceeded, some search paths have been omitted, the applied search line is: " + strings.Join(dns.Searches, " ")})
	}
	return dns, events, nil
}

// fitSearches is how many of the searches fit Kubernetes' limits.
func fitSearches(searches []string) int {
	n, chars := 0, 0
	for _, s := range searches {
		if n > 0 {
			chars++ // the separating space
		}
		if n == kubelet.MaxDNSSearches || chars+len(s) > kubelet.MaxDNSSearchListChars {
			break
		}
		chars += len(s)
		n++
	}
	return n
}

// appendNew appends more to list and drops every repeated entry, of either.
func appendNew(list []string, more ...string) []string {
	var out []string
	for _, s := range append(slices.Clone(list), more...) {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// mergeDNSOptions lets the pod's options override same-named ones
// ("ndots:2" replaces "ndots:5"), keeping their order.
func mergeDNSOptions(options []string, pod []core.PodDNSConfigOption) []string {
	name := func(o string) string { n, _, _ := strings.Cut(o, ":"); return n }
	out := slices.Clone(options)
	for _, o := range pod {
		s := o.Name
		if o.Value != nil && *o.Value != "" {
			s += ":" + *o.Value
		}
		if i := slices.IndexFunc(out, func(e string) bool { return name(e) == o.Name }); i >= 0 {
			out[i] = s
		} else {
			out = append(out, s)
		}
	}
	return out
}

// podRef names a pod as the kubelet's messages do: name_namespace(uid).
func podRef(pod *core.Pod) string {
	return fmt.Sprintf("%s_%s(%s)", pod.Name, pod.Namespace, pod.UID)
}

// podHostname returns the pod's hostname (spec.hostname, else its name cut to
// 63 characters) and its domain, <subdomain>.<ns>.svc.<cluster domain> when
// it has a subdomain and the agent a cluster domain.
func (a *Agent) podHostname(pod *core.Pod) (hostname, domain string) {
	hostname = pod.Spec.Hostname
	if hostname == "" {
		hostname = pod.Name
		if len(hostname) > 63 {
			hostname = strings.TrimRight(hostname[:63], "-.")
		}
	}
	if pod.Spec.Subdomain != "" && a.opts.ClusterDomain != "" {
		domain = pod.Spec.Subdomain + "." + pod.Namespace + ".svc." + a.opts.ClusterDomain
	}
	return hostname, domain
}

// hostsFile is the /etc/hosts the agent manages for a pod, as the kubelet
// writes it: localhost entries, the pod's IP with its names, then
// spec.hostAliases.
func hostsFile(podIP, hostname, domain string, aliases []core.HostAlias) []byte {
	var b bytes.Buffer
	b.WriteString("# Kubernetes-managed hosts file.\n" +
		"127.0.0.1\tlocalhost\n" +
		"::1\tlocalhost ip6-localhost ip6-loopback\n" +
		"fe00::0\tip6-localnet\n" +
		"fe00::0\tip6-mcastprefix\n" +
		"fe00::1\tip6-allnodes\n" +
		"fe00::2\tip6-allrouters\n")
	if domain != "" {
		fmt.Fprintf(&b, "%s\t%s.%s\t%s\n", podIP, hostname, domain, hostname)
	} else {
		fmt.Fprintf(&b, "%s\t%s\n", podIP, hostname)
	}
	if len(aliases) > 0 {
		b.WriteString("\n# Entries added by HostAliases.\n")
		for _, h := range aliases {
			fmt.Fprintf(&b, "%s\t%s\n", h.IP, strings.Join(h.Hostnames, "\t"))
		}
	}
	return b.Bytes()
}

// ensureHostsFile writes the pod's managed /etc/hosts under its directory and
// returns its path ("" when the agent manages none: no RootDir, a
// host-network pod, no IP yet). It rewrites the file in place, never by
// rename, so containers that bind-mount it see the change.
func (a *Agent) ensureHostsFile(pod *core.Pod, st *podState) (string, error) {
	if a.opts.RootDir == "" || pod.Spec.HostNetwork || st.ip == "" {
		return "", nil
	}
	hostname, domain := a.podHostname(pod)
	want := hostsFile(st.ip, hostname, domain, pod.Spec.HostAliases)
	path := filepath.Join(a.podDir(st.uid), "etc-hosts")
	if bytes.Equal(st.hostsWritten, want) {
		return path, nil
	}
	if have, err := os.ReadFile(path); err == nil && bytes.Equal(have, want) {
		st.hostsWritten = want
		return path, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", fmt.Errorf("agent: hosts file: %w", err)
	}
	if err := os.WriteFile(path, want, 0o644); err != nil {
		return "", fmt.Errorf("agent: hosts file: %w", err)
	}
	st.hostsWritten = want
	return path, nil
}
