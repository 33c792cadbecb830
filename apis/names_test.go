package apis

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The regular expressions Kubernetes uses; the hand-written scanners must
// agree with them on every input.
var (
	refDNS1123Label     = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	refDNS1123Subdomain = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	refName             = regexp.MustCompile(`^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`)
)

func checkSyntaxAgainstRegexps(t *testing.T, v string) {
	t.Helper()
	assert.Equal(t, refDNS1123Label.MatchString(v), isDNS1123LabelSyntax(v), "label %q", v)
	assert.Equal(t, refDNS1123Subdomain.MatchString(v), isDNS1123SubdomainSyntax(v), "subdomain %q", v)
	assert.Equal(t, refName.MatchString(v), isNameSyntax(v), "name %q", v)
}

func TestNameSyntaxMatchesKubernetesRegexps(t *testing.T) {
	for _, v := range []string{
		"", "a", "A", "-", ".", "_", "a-", "-a", "a.b", "a..b", ".a", "a.", "a-b.c-d", "my_name",
		"MyName", "my.name", "123-abc", "abc-123", "a_", "_a", "a.-b", "a-.b", "x/y", "é", "a b",
	} {
		checkSyntaxAgainstRegexps(t, v)
	}
}

func FuzzNameSyntax(f *testing.F) {
	for _, s := range []string{"a", "a.b", "a-b_c.D", "-a", "a..b", ""} {
		f.Add(s)
	}
	f.Fuzz(checkSyntaxAgainstRegexps)
}

func TestSyntaxChecks(t *testing.T) {
	assert.Empty(t, IsDNS1123Label("my-name"))
	assert.NotEmpty(t, IsDNS1123Label("My-Name"))
	assert.NotEmpty(t, IsDNS1123Label(string(make([]byte, 64))))
	assert.Empty(t, IsDNS1123Subdomain("example.com"))
	assert.NotEmpty(t, IsDNS1123Subdomain("Bad_Name"))
	assert.Empty(t, IsQualifiedName("app.kubernetes.io/name"))
	assert.NotEmpty(t, IsQualifiedName("/name"))
	assert.NotEmpty(t, IsQualifiedName("Bad_Prefix/name"))
	assert.NotEmpty(t, IsQualifiedName("prefix/"))
	assert.Empty(t, IsValidLabelValue(""))
	assert.Empty(t, IsValidLabelValue("v1.2_x"))
	assert.NotEmpty(t, IsValidLabelValue("-v"))
}

func BenchmarkIsDNS1123Subdomain(b *testing.B) {
	for b.Loop() {
		IsDNS1123Subdomain("my-deployment-7f9c6d5b8c.default.svc")
	}
}
