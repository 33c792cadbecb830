package builtin_test

import (
	"testing"

	"go.uber.org/goleak"
)

// The store tests start an in-memory KV; nothing may outlive them.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
