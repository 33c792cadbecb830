package cri_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/gantry-sdk/gantry/kubelet"
	"github.com/gantry-sdk/gantry/kubelet/cri/critest"
	"github.com/gantry-sdk/gantry/kubelet/runtimetest"
)

// env is the package's private containerd; startErr why there is none.
var (
	env      *critest.Env
	startErr error
)

func TestMain(m *testing.M) {
	env, startErr = critest.Start(context.Background(), critest.Options{})
	os.Exit(critest.Main(m, &env))
}

func TestRuntimeSuite(t *testing.T) {
	critest.Require(t, startErr)
	ctx := context.Background()
	rt, err := env.Dial(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	runtimetest.Run(t, runtimetest.Harness{
		Runtime:      rt,
		Image:        critest.BusyboxImage,
		CgroupParent: env.CgroupParent,
		LogDir:       env.LogDir,
		Real:         true,
		PodSecurity:  true,
		NoStdinClose: true,
		Reconnect: func(ctx context.Context) (kubelet.Runtime, func(), error) {
			rt, err := env.Dial(ctx)
			if err != nil {
				return nil, nil, err
			}
			return rt, func() { rt.Close() }, nil
		},
	})
}

func TestPullFromUnreachableRegistryFails(t *testing.T) {
	critest.Require(t, startErr)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rt, err := env.Dial(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	// Port 1 on loopback: nothing listens, the pull fails fast without leaving the machine.
	_, err = rt.PullImage(ctx, "127.0.0.1:1/gantry/absent:v1")
	if err == nil {
		t.Fatal("pull from an unreachable registry succeeded")
	}
	if _, err := rt.PullImage(ctx, ""); !errors.Is(err, kubelet.ErrInvalid) {
		t.Fatalf("empty reference: %v", err)
	}
}
