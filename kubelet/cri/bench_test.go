package cri_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/gantry-sdk/gantry/kubelet"
	"github.com/gantry-sdk/gantry/kubelet/cri/critest"
)

// BenchmarkStartLatency measures, in one run, the time from nothing to a running
// container of the same busybox image three ways: a pod through the Runtime port
// (RunPodSandbox + CreateContainer + StartContainer: network namespace, CNI
// bridge and IP, pause container, app container), `runc run -d` of a prepared
// bundle, and `ctr run -d`. Each reports p50 and p99 in milliseconds;
// teardown happens off the clock.
func BenchmarkStartLatency(b *testing.B) {
	critest.Require(b, startErr)
	b.Run("runtime-pod", benchPodStart)
	b.Run("runc-run", benchRuncRun)
	b.Run("runc-create-start", func(b *testing.B) { env.BenchRuncCreateStart(b) })
	b.Run("ctr-run", benchCtrRun)
}

func benchPodStart(b *testing.B) {
	rt, err := env.Dial(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	defer rt.Close()
	env.BenchPodStart(b, rt, nil)
}

func benchRuncRun(b *testing.B) { env.BenchRuncRun(b) }

func benchCtrRun(b *testing.B) { env.BenchCtrRun(b) }

func median(d []time.Duration) float64 { return critest.Median(d) }

// BenchmarkBurst110 starts 110 pods (the default pod limit of a node) at once
// through the port, each a sandbox and one container, and reports the time
// until all run. Run it with -benchtime=1x.
func BenchmarkBurst110(b *testing.B) {
	critest.Require(b, startErr)
	ctx := context.Background()
	rt, err := env.Dial(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer rt.Close()
	const pods = 110
	var total []time.Duration
	for round := 0; b.Loop(); round++ {
		start := time.Now()
		ids := make([]string, pods)
		errs := make(chan error, pods)
		for i := range pods {
			go func() {
				sb, err := rt.RunPodSandbox(ctx, kubelet.SandboxConfig{
					Name: fmt.Sprintf("burst-%d-%d", round, i), Namespace: "bench", UID: fmt.Sprintf("burst-%d-%d-%d", os.Getpid(), round, i),
					CgroupParent: env.CgroupParent,
				})
				if err != nil {
					errs <- err
					return
				}
				ids[i] = sb.ID
				id, err := rt.CreateContainer(ctx, sb.ID, kubelet.ContainerConfig{Name: "app", Image: critest.BusyboxImage, Command: []string{"sleep", "3600"}})
				if err == nil {
					err = rt.StartContainer(ctx, id)
				}
				errs <- err
			}()
		}
		var failed error
		for range pods {
			if err := <-errs; err != nil && failed == nil {
				failed = err
			}
		}
		total = append(total, time.Since(start))
		b.StopTimer()
		teardown := make(chan struct{}, pods)
		for _, id := range ids {
			go func() {
				defer func() { teardown <- struct{}{} }()
				if id != "" {
					_ = rt.StopPodSandbox(ctx, id)
					_ = rt.RemovePodSandbox(ctx, id)
				}
			}()
		}
		for range pods {
			<-teardown
		}
		if failed != nil {
			b.Fatal(failed)
		}
		b.StartTimer()
	}
	b.ReportMetric(median(total)*1, "all-running-ms")
	b.ReportMetric(0, "ns/op")
}
