package containerd_test

import (
	"context"
	"testing"
	"time"

	"github.com/gantry-sdk/gantry/kubelet/containerd"
	"github.com/gantry-sdk/gantry/kubelet/containerd/containerdtest"
	"github.com/gantry-sdk/gantry/kubelet/cri/critest"
)

// BenchmarkStartLatency measures, in one run on one private containerd, nothing
// -> a running `sleep 3600` of the same busybox image (pre-imported) five ways;
// teardown is off the clock, each reports p50 and p99 in milliseconds:
//
//   - native-pool-hit: a pod through this package, the pool holding a ready
//     network (waited for off the clock): RunPodSandbox is a hand-out;
//   - native-pool-hit-cold-shim: the same without the pool's warm shim (the
//     pod's first container starts a new shim);
//   - native-pool-miss: the same with the pool disabled: each sandbox creates
//     its network namespace and runs CNI (bridge, host-local) on the clock;
//   - cri-pod: the same pod through kubelet/cri and containerd's CRI plugin
//     (pause container, its own shim, CNI);
//   - runc-run: `runc run -d` of a prepared bundle of the same root file system;
//   - ctr-run: `ctr run -d` of the same image on the same daemon;
//
// and the floors below any pod start through containerd and runc:
//
//   - runc-create-start: `runc create` then `runc start` of runc-run's bundle,
//     the two steps a containerd (or CRI-O) shim takes;
//   - containerd-task-warm-shim and containerd-task: containerd's task API
//     alone (record and snapshot prepared off the clock; task create + start
//     on it, null IO, no network), in a running shim or a new one.
func BenchmarkStartLatency(b *testing.B) {
	critest.Require(b, startErr)
	poolHit := func(o containerd.Options) func(b *testing.B) {
		return func(b *testing.B) {
			rt := dial(b, o)
			defer rt.Close()
			env.BenchPodStart(b, rt, func() {
				// A full pool, and the refill of the previous hand-out done.
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				if err := rt.WaitPool(ctx, o.PoolSize); err != nil {
					b.Fatal(err)
				}
			})
		}
	}
	b.Run("native-pool-hit", poolHit(containerd.Options{PoolSize: 2}))
	b.Run("native-pool-hit-cold-shim", poolHit(containerd.Options{PoolSize: 2, ColdShim: true}))
	b.Run("native-pool-miss", func(b *testing.B) {
		rt := dial(b, containerd.Options{PoolSize: -1})
		defer rt.Close()
		env.BenchPodStart(b, rt, nil)
	})
	b.Run("cri-pod", func(b *testing.B) {
		rt, err := env.Dial(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		defer rt.Close()
		env.BenchPodStart(b, rt, nil)
	})
	b.Run("runc-run", env.BenchRuncRun)
	b.Run("ctr-run", env.BenchCtrRun)
	b.Run("runc-create-start", env.BenchRuncCreateStart)
	b.Run("containerd-task-warm-shim", func(b *testing.B) { containerdtest.BenchTask(b, env, true) })
	b.Run("containerd-task", func(b *testing.B) { containerdtest.BenchTask(b, env, false) })
}
