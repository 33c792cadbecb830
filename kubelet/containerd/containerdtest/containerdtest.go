// Package containerdtest runs kubelet/containerd Runtimes against the private
// containerd of kubelet/cri/critest: same daemon, same CNI bridge and IP range,
// its own containerd namespace, state directory and runc root under the Env's
// directory (removed by Env.Stop).
//
// # Usage
//
//	env, err := critest.Start(ctx, critest.Options{})
//	critest.Require(t, err)
//	rt, err := containerdtest.Dial(ctx, env, containerd.Options{})
//	defer rt.Close()
package containerdtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gantry-sdk/gantry/kubelet"
	"github.com/gantry-sdk/gantry/kubelet/containerd"
	"github.com/gantry-sdk/gantry/kubelet/cri/critest"
)

// Namespace is the containerd namespace of the test Runtimes.
const Namespace = "gantry-native"

// Network returns the Env's CNI network (the bridge and host-local range the
// CRI plugin of the same daemon uses).
func Network(env *critest.Env) (containerd.Network, error) {
	b, err := os.ReadFile(filepath.Join(env.Dir, "cni/net.d/10-gantry.conflist"))
	if err != nil {
		return containerd.Network{}, fmt.Errorf("containerdtest: %w", err)
	}
	return containerd.Network{ConfList: b}, nil
}

// Dial returns a Runtime on env's daemon with the test images imported. Zero
// fields of o are filled for the Env.
func Dial(ctx context.Context, env *critest.Env, o containerd.Options) (*containerd.Runtime, error) {
	n, err := Network(env)
	if err != nil {
		return nil, err
	}
	if o.Namespace == "" {
		o.Namespace = Namespace
	}
	if o.StateDir == "" {
		o.StateDir = filepath.Join(env.Dir, "native", o.Namespace)
	}
	if o.CgroupParent == "" {
		o.CgroupParent = env.CgroupParent
	}
	if o.RuncRoot == "" {
		o.RuncRoot = filepath.Join(env.Dir, "runc-native")
	}
	rt, err := containerd.Dial(ctx, env.Socket, n, o)
	if err != nil {
		return nil, err
	}
	if _, err := rt.ImageStatus(ctx, critest.BusyboxImage); errors.Is(err, kubelet.ErrNotFound) {
		if _, err := rt.ImportImage(ctx, bytes.NewReader(env.ImageArchive())); err != nil {
			rt.Close()
			return nil, err
		}
	}
	return rt, nil
}

// RemoveAll stops and removes every sandbox of the Runtime's namespace.
func RemoveAll(ctx context.Context, rt kubelet.Runtime) error {
	return critest.RemoveSandboxes(ctx, rt)
}
