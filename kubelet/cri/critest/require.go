package critest

import (
	"errors"
	"os"
	"testing"
)

// Require ends tb when the Env could not start: a skip when a prerequisite is
// missing on a developer machine, a failure under CI=true (where setup must have
// installed everything) or for any other error.
func Require(tb testing.TB, err error) {
	tb.Helper()
	if err == nil {
		return
	}
	if errors.Is(err, ErrPrerequisite) && os.Getenv("CI") != "true" {
		tb.Skip(err)
	}
	tb.Fatal(err)
}
