package containerdtest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	tasks "github.com/containerd/containerd/api/services/tasks/v1"
	"github.com/containerd/containerd/api/types"
	"github.com/containerd/containerd/api/types/runc/options"
	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/containerd/containerd/v2/pkg/oci"
	"github.com/containerd/typeurl/v2"
	"github.com/opencontainers/image-spec/identity"

	"github.com/gantry-sdk/gantry/kubelet/containerd"
	"github.com/gantry-sdk/gantry/kubelet/cri/critest"
)

// BenchTask measures the floor of any pod start through
// containerd's task API: per iteration, off the clock, a container record and
// its snapshot are prepared (what CreateContainer does); on the clock, only
// the task is created and started (null IO, no network, no agent). With
// warmShim the containers join a shim held by a created, never started task,
// as this package's pool does; without, each task starts its own shim.
//
// Its records use the runc root of Dial's Runtimes.
func BenchTask(b *testing.B, env *critest.Env, warmShim bool) {
	const ns = "gantry-bench-task"
	ctx := namespaces.WithNamespace(context.Background(), ns)
	// A Runtime in the namespace imports and unpacks the image.
	rt, err := Dial(ctx, env, containerd.Options{Namespace: ns, PoolSize: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer rt.Close()
	runtimeOpts, err := typeurl.MarshalAny(&options.Options{Root: filepath.Join(env.Dir, "runc-native")})
	if err != nil {
		b.Fatal(err)
	}
	c, err := client.New(env.Socket)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	img, err := c.GetImage(ctx, critest.BusyboxImage)
	if err != nil {
		b.Fatal(err)
	}
	diffs, err := img.RootFS(ctx)
	if err != nil {
		b.Fatal(err)
	}
	chainID := identity.ChainID(diffs).String()
	imgSpec, err := img.Spec(ctx)
	if err != nil {
		b.Fatal(err)
	}
	snapshots := c.SnapshotService(containerd.DefaultSnapshotter)

	var created []string
	prepare := func(id string, annotations map[string]string) []*types.Mount {
		spec, err := oci.GenerateSpec(ctx, c, &containers.Container{ID: id},
			oci.WithEnv(imgSpec.Config.Env), oci.WithProcessArgs("sleep", "3600"),
			oci.WithCgroup(filepath.Join(env.CgroupParent, id)), oci.WithAnnotations(annotations))
		if err != nil {
			b.Fatal(err)
		}
		specAny, err := typeurl.MarshalAny(spec)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.ContainerService().Create(ctx, containers.Container{
			ID: id, Runtime: containers.RuntimeInfo{Name: "io.containerd.runc.v2", Options: runtimeOpts}, Spec: specAny,
			Snapshotter: containerd.DefaultSnapshotter, SnapshotKey: id,
		}); err != nil {
			b.Fatal(err)
		}
		created = append(created, id)
		ms, err := snapshots.Prepare(ctx, id, chainID)
		if err != nil {
			b.Fatal(err)
		}
		out := make([]*types.Mount, 0, len(ms))
		for _, m := range ms {
			out = append(out, &types.Mount{Type: m.Type, Source: m.Source, Target: m.Target, Options: m.Options})
		}
		return out
	}
	remove := func(id string) {
		_, _ = c.TaskService().Kill(ctx, &tasks.KillRequest{ContainerID: id, Signal: uint32(syscall.SIGKILL), All: true})
		_, _ = c.TaskService().Wait(ctx, &tasks.WaitRequest{ContainerID: id})
		_, _ = c.TaskService().Delete(ctx, &tasks.DeleteTaskRequest{ContainerID: id})
		_ = c.ContainerService().Delete(ctx, id)
		_ = snapshots.Remove(ctx, id)
	}
	defer func() {
		for i := len(created) - 1; i >= 0; i-- {
			remove(created[i])
		}
	}()

	var annotations map[string]string
	if warmShim {
		holder := fmt.Sprintf("bench-task-holder-%d", os.Getpid())
		annotations = map[string]string{"io.containerd.runc.v2.group": holder}
		rootfs := prepare(holder, annotations)
		if _, err := c.TaskService().Create(ctx, &tasks.CreateTaskRequest{ContainerID: holder, Rootfs: rootfs}); err != nil {
			b.Fatal(err)
		}
	}
	var lat []time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		id := fmt.Sprintf("bench-task-%d-%d", os.Getpid(), i)
		rootfs := prepare(id, annotations)
		b.StartTimer()
		start := time.Now()
		if _, err := c.TaskService().Create(ctx, &tasks.CreateTaskRequest{ContainerID: id, Rootfs: rootfs}); err != nil {
			b.Fatal(err)
		}
		if _, err := c.TaskService().Start(ctx, &tasks.StartRequest{ContainerID: id}); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
		b.StopTimer()
		remove(id)
		created = created[:len(created)-1]
		b.StartTimer()
	}
	critest.ReportPercentiles(b, lat)
}
