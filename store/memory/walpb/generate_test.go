package walpb_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

// protocVersion is the line of the generated header that names the local
// protoc; it differs between machines without changing the code.
var protocVersion = regexp.MustCompile(`(?m)^//\s+protoc\s+v.*$`)

// TestGeneratedCodeIsCurrent regenerates walpb.pb.go from walpb.proto into a
// temporary directory and compares: edit the .proto, run go generate.
func TestGeneratedCodeIsCurrent(t *testing.T) {
	protoc, err := exec.LookPath("protoc")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("protoc is missing: run scripts/setup/10-protoc.sh")
		}
		t.Skip("protoc is missing: run scripts/setup/10-protoc.sh")
	}
	plugin, err := exec.LookPath("protoc-gen-go")
	if err != nil {
		gopath, _ := exec.Command("go", "env", "GOPATH").Output()
		candidate := filepath.Join(string(regexp.MustCompile(`\s+$`).ReplaceAll(gopath, nil)), "bin", "protoc-gen-go")
		if _, serr := os.Stat(candidate); serr == nil {
			plugin = candidate
		} else if os.Getenv("CI") == "true" {
			t.Fatal("protoc-gen-go is missing: run scripts/setup/10-protoc.sh")
		} else {
			t.Skip("protoc-gen-go is missing: run scripts/setup/10-protoc.sh")
		}
	}
	out := t.TempDir()
	cmd := exec.Command(protoc, "--plugin=protoc-gen-go="+plugin, "--go_out="+out, "--go_opt=paths=source_relative", "walpb.proto")
	msg, err := cmd.CombinedOutput()
	require.NoError(t, err, "protoc: %s", msg)
	got, err := os.ReadFile(filepath.Join(out, "walpb.pb.go"))
	require.NoError(t, err)
	want, err := os.ReadFile("walpb.pb.go")
	require.NoError(t, err)
	require.Equal(t, string(protocVersion.ReplaceAll(want, nil)), string(protocVersion.ReplaceAll(got, nil)),
		"walpb.pb.go is stale: run go generate ./store/memory/walpb")
}
