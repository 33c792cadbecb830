package agent

import (
	"context"
	"os"
	"sync"
	"testing"

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
	os.Exit(critest.Main(m, &criEnv))
}
