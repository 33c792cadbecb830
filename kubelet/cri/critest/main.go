package critest

import (
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"
)

// Main is the body of a TestMain for a package that runs tests against a
// private containerd: it runs the tests, stops *env if one was started (by
// TestMain or lazily by a test), then checks that no goroutine leaked. It
// returns the exit code for os.Exit.
//
//	func TestMain(m *testing.M) { os.Exit(critest.Main(m, &env)) }
func Main(m *testing.M, env **Env) int {
	code := m.Run()
	if *env != nil {
		if err := (*env).Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stop containerd:", err)
			code = 1
		}
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	return code
}
