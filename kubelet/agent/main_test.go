package agent

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/gantry-sdk/gantry/kubelet/cri/critest"
)

// The private containerd of the real-runtime tests, started by the first
// test that needs it (the fake-runtime tests never wait for it).
var (
	criOnce  sync.Once
	criEnv   *critest.Env
	criError error
)

func realRuntime(t testing.TB) *critest.Env {
	criOnce.Do(func() { criEnv, criError = critest.Start(context.Background(), critest.Options{}) })
	critest.Require(t, criError)
	return criEnv
}

func TestMain(m *testing.M) {
	code := m.Run()
	if criEnv != nil {
		if err := criEnv.Stop(); err != nil {
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
	os.Exit(code)
}
