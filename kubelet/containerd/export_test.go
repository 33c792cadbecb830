package containerd_test

import (
	"context"

	"github.com/containerd/containerd/v2/pkg/namespaces"

	"github.com/gantry-sdk/gantry/kubelet/containerd"
)

func nsCtx(ctx context.Context, rt *containerd.Runtime) context.Context {
	return namespaces.WithNamespace(ctx, rt.Namespace())
}
