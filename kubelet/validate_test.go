package kubelet_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/kubelet"
)

func TestValidateDNS(t *testing.T) {
	many := func(n int, s string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = s
		}
		return out
	}
	for _, tc := range []struct {
		name string
		dns  kubelet.DNSConfig
		want string // "" for valid
	}{
		{"zero", kubelet.DNSConfig{}, ""},
		{"cluster", kubelet.DNSConfig{Servers: []string{"10.96.0.10", "fd00::a"}, Searches: []string{"ns.svc.cluster.local", "svc.cluster.local"}, Options: []string{"ndots:5", "edns0"}}, ""},
		{"server not an IP", kubelet.DNSConfig{Servers: []string{"dns.example"}}, `dns.servers[0]: "dns.example" is not an IP address`},
		{"four servers", kubelet.DNSConfig{Servers: many(4, "1.1.1.1")}, "dns.servers: 4 name servers, at most 3"},
		{"33 searches", kubelet.DNSConfig{Searches: many(33, "a.example")}, "dns.searches: 33 search domains, at most 32"},
		{"search list too long", kubelet.DNSConfig{Searches: many(3, strings.Repeat("a", 700))}, "dns.searches: the search list is 2102 characters long, at most 2048"},
		{"empty search", kubelet.DNSConfig{Searches: []string{"a", ""}}, `dns.searches[1]: "" is empty`},
		{"space in option", kubelet.DNSConfig{Options: []string{"ndots:5 x"}}, `dns.options[0]: "ndots:5 x"`},
		{"newline in search", kubelet.DNSConfig{Searches: []string{"a\nnameserver 1.2.3.4"}}, `dns.searches[0]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := kubelet.SandboxConfig{Name: "p", Namespace: "ns", UID: "u", DNS: tc.dns}.Validate()
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, kubelet.ErrInvalid)
			assert.ErrorContains(t, err, `sandbox "p": `+tc.want)
		})
	}
}

func TestValidateSecurityContext(t *testing.T) {
	id := func(v int64) *int64 { return &v }
	for _, tc := range []struct {
		name string
		sec  kubelet.SecurityContext
		want string
	}{
		{"zero", kubelet.SecurityContext{}, ""},
		{"full", kubelet.SecurityContext{RunAsUser: id(1000), RunAsGroup: id(0), SupplementalGroups: []int64{1, 4294967294},
			CapAdd: []string{"NET_ADMIN", "SYS_TIME"}, CapDrop: []string{"ALL"}, ReadOnlyRootFilesystem: true, NoNewPrivileges: true}, ""},
		{"add all", kubelet.SecurityContext{Privileged: true, CapAdd: []string{"ALL"}}, ""},
		{"negative user", kubelet.SecurityContext{RunAsUser: id(-1)}, "security.runAsUser: -1 is not a valid ID"},
		{"group too large", kubelet.SecurityContext{RunAsGroup: id(1 << 32)}, "security.runAsGroup: 4294967296 is not a valid ID"},
		{"negative supplemental", kubelet.SecurityContext{SupplementalGroups: []int64{5, -2}}, "security.supplementalGroups[1]: -2"},
		{"unknown capability", kubelet.SecurityContext{CapAdd: []string{"NET_ADMIN", "FLY"}}, `security.capAdd[1]: "FLY" is not a Linux capability`},
		{"CAP_ prefix", kubelet.SecurityContext{CapDrop: []string{"CAP_CHOWN"}}, `security.capDrop[0]: "CAP_CHOWN": name capabilities in upper case without the CAP_ prefix ("CHOWN")`},
		{"lower case", kubelet.SecurityContext{CapDrop: []string{"chown"}}, `security.capDrop[0]: "chown": name capabilities in upper case`},
		{"empty capability", kubelet.SecurityContext{CapDrop: []string{""}}, `security.capDrop[0]: "" is not a Linux capability`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := kubelet.ContainerConfig{Name: "c", Image: "i", Security: tc.sec}.Validate()
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, kubelet.ErrInvalid)
			assert.ErrorContains(t, err, `container "c": `+tc.want)
		})
	}
	assert.True(t, kubelet.IsCapability("CHOWN"))
	assert.False(t, kubelet.IsCapability("ALL"))
	assert.False(t, kubelet.IsCapability("CAP_CHOWN"))
}
