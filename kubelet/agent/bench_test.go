package agent

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/builtin"
	"github.com/gantry-sdk/gantry/apis/coordination"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/informer"
	"github.com/gantry-sdk/gantry/kubelet/containerd/containerdtest"
	"github.com/gantry-sdk/gantry/kubelet/cri/critest"
	"github.com/gantry-sdk/gantry/kubelet/fake"
	"github.com/gantry-sdk/gantry/store"
	"github.com/gantry-sdk/gantry/store/memory"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// waitRunning watches the store from rev until every named pod is Running.
func waitRunning(ctx context.Context, s store.Store, rev int64, names map[string]bool) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	left := len(names)
	for ev, err := range store.For[*core.Pod](s).Watch(ctx, store.WatchOptions{Revision: rev}) {
		if err != nil {
			return err
		}
		if p := ev.Object; names[p.Name] && p.Status.Phase == core.PodRunning {
			names[p.Name] = false
			if left--; left == 0 {
				return nil
			}
		}
	}
	return ctx.Err()
}

func createPod(b testing.TB, s store.Store, node, name, image string, cmd ...string) int64 {
	p := &core.Pod{}
	p.Namespace, p.Name = "default", name
	p.Spec.NodeName = node
	grace := int64(0)
	p.Spec.TerminationGracePeriodSeconds = &grace
	p.Spec.Containers = []core.Container{{Name: "app", Image: image, Command: cmd}}
	out, err := store.For[*core.Pod](s).Create(context.Background(), p, store.WriteOptions{})
	if err != nil {
		b.Fatal(err)
	}
	rv, _ := strconv.ParseInt(out.ResourceVersion, 10, 64)
	return rv
}

// BenchmarkRealPodStart: a pod bound to the node (created with spec.nodeName)
// until the store shows it Running, through the agent on containerd's CRI
// (agent-pod) and on kubelet/containerd with a pool hit (agent-native-pod),
// beside `runc run -d` and `ctr run -d` of the same image on the same daemon,
// and the floors under any pod start through containerd and runc: `runc
// create` + `runc start`, and containerd's task API alone in a running shim.
func BenchmarkRealPodStart(b *testing.B) {
	env := realRuntime(b)
	b.Run("agent-pod", func(b *testing.B) { agentPodStart(b, newRealHarness(b, "bench-start", withClusterDNS), nil) })
	b.Run("agent-native-pod", func(b *testing.B) {
		h, rt := newNativeHarness(b, "bench-native", withClusterDNS)
		agentPodStart(b, h, func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := rt.WaitPool(ctx, 1); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("runc-run", env.BenchRuncRun)
	b.Run("runc-create-start", env.BenchRuncCreateStart)
	b.Run("containerd-task-warm-shim", func(b *testing.B) { containerdtest.BenchTask(b, env, true) })
	b.Run("ctr-run", func(b *testing.B) {
		ctx := context.Background()
		const ns = "k8s.io"
		var lat []time.Duration
		for i := 0; b.Loop(); i++ {
			id := fmt.Sprintf("bench-agent-ctr-%d", i)
			start := time.Now()
			if out, err := env.Ctr(ctx, ns, "run", "-d", "--cgroup", env.CgroupParent+"/"+id, critest.BusyboxImage, id, "sleep", "3600"); err != nil {
				b.Fatalf("%v: %s", err, out)
			}
			lat = append(lat, time.Since(start))
			b.StopTimer()
			_, _ = env.Ctr(ctx, ns, "task", "rm", "-f", id)
			_, _ = env.Ctr(ctx, ns, "containers", "rm", id)
			b.StartTimer()
		}
		critest.ReportPercentiles(b, lat)
	})
}

// BenchmarkRealBurst110 creates 110 pods on one node at once (its pod limit)
// and reports the time until the store shows all Running. Use -benchtime=1x.
func BenchmarkRealBurst110(b *testing.B) {
	b.Run("cri", func(b *testing.B) { burst110(b, newRealHarness(b, "bench-burst", withClusterDNS)) })
	b.Run("native", func(b *testing.B) {
		h, _ := newNativeHarness(b, "bench-burst-native")
		burst110(b, h)
	})
}

// burst110 creates 110 pods on h's node at once and reports the time until
// the store shows them all Running; the pods are removed off the clock.
func burst110(b *testing.B, h *harness) {
	ctx := context.Background()
	for i := 0; b.Loop(); i++ {
		names := map[string]bool{}
		var rev int64
		start := time.Now()
		for j := range 110 {
			name := fmt.Sprintf("b%d-%d", i, j)
			names[name] = true
			if r := createPod(b, h.s, h.node, name, critest.BusyboxImage, "sleep", "3600"); rev == 0 {
				rev = r
			}
		}
		if err := waitRunning(ctx, h.s, rev-1, names); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(time.Since(start).Seconds(), "s-all-running")
		b.StopTimer()
		zero := int64(0)
		for name := range names {
			if _, err := store.For[*core.Pod](h.s).Delete(ctx, apis.Key{Namespace: "default", Name: name}, store.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
				b.Fatal(err)
			}
		}
		h.eventually(2*time.Minute, "burst pods removed", func() bool { return len(h.containers("app")) == 0 })
		b.StartTimer()
	}
}

// BenchmarkSimulatedNodes runs many agents, each with its own simulated
// runtime, over one in-memory store in this process; each node gets one pod.
// It reports the time until every node is registered and every pod Running,
// and the process' CPU per pod and per node-second of steady heartbeats.
// -benchtime=1x. Each agent's RootDir (pod directories, /etc/hosts files,
// logs) is on the test's temporary directory (disk), and for 1,000 nodes also
// on a tmpfs, where a simulation would put it: on this machine's ext4 a
// directory creation costs about half a millisecond.
func BenchmarkSimulatedNodes(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			for b.Loop() {
				simulateNodes(b, n, b.TempDir)
			}
		})
	}
	b.Run("nodes=1000/rootdir=tmpfs", func(b *testing.B) {
		if _, err := os.Stat("/dev/shm"); err != nil {
			b.Skip("no /dev/shm")
		}
		for b.Loop() {
			simulateNodes(b, 1000, func() string {
				dir, err := os.MkdirTemp("/dev/shm", "gantry-sim-")
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { _ = os.RemoveAll(dir) })
				return dir
			})
		}
	})
}

func simulateNodes(b *testing.B, n int, rootDir func() string) {
	scheme, err := builtin.NewScheme()
	if err != nil {
		b.Fatal(err)
	}
	kv := memory.New(memory.Options{})
	defer kv.Close()
	s, err := store.New(kv, scheme, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	m := MachineFunc(func() (MachineInfo, error) { return testMachine(), nil })
	shared := informer.NewFactory(s, informer.FactoryOptions{})
	cpu0, start := cpuTime(), time.Now()
	for i := range n {
		node := fmt.Sprintf("sim-%04d", i)
		a, err := New(node, s, fake.New(fake.Options{Images: []string{"app:v1"}}), Options{Machine: m, RootDir: rootDir(), Workers: 1, Informers: shared, ClusterDNS: []string{"10.96.0.10"}, ClusterDomain: "cluster.local"})
		if err != nil {
			b.Fatal(err)
		}
		wg.Add(1)
		go func() { defer wg.Done(); _ = a.Run(ctx) }()
	}
	shared.Start(ctx)
	defer func() { cancel(); wg.Wait(); shared.Wait() }()
	for {
		l, err := store.For[*coordination.Lease](s).List(ctx, store.ListOptions{Namespace: "kube-node-lease"})
		if err != nil {
			b.Fatal(err)
		}
		if len(l.Items) == n {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.ReportMetric(time.Since(start).Seconds(), "s-registered")
	cpu1, t1 := cpuTime(), time.Now()
	names := map[string]bool{}
	var rev int64
	for i := range n {
		name := fmt.Sprintf("pod-%04d", i)
		names[name] = true
		if r := createPod(b, s, fmt.Sprintf("sim-%04d", i), name, "app:v1"); rev == 0 {
			rev = r
		}
	}
	if err := waitRunning(ctx, s, rev-1, names); err != nil {
		b.Fatal(err)
	}
	cpu2, t2 := cpuTime(), time.Now()
	b.ReportMetric(t2.Sub(t1).Seconds(), "s-pods-running")
	b.ReportMetric(float64((cpu2-cpu1).Microseconds())/float64(n), "cpu-µs/pod")
	// Steady state: heartbeats, leases and relists of n idle-ish nodes.
	time.Sleep(10 * time.Second)
	cpu3, t3 := cpuTime(), time.Now()
	b.ReportMetric(float64(cpu3-cpu2)/float64(t3.Sub(t2))*100, "steady-cpu-%")
	_ = cpu0
}

// agentPodStart measures a bound pod until the store shows it Running; before
// runs off the clock ahead of each pod (nil: nothing).
func agentPodStart(b *testing.B, h *harness, before func()) {
	ctx := context.Background()
	var lat []time.Duration
	for i := 0; b.Loop(); i++ {
		if before != nil {
			b.StopTimer()
			before()
			b.StartTimer()
		}
		name := fmt.Sprintf("p%d", i)
		start := time.Now()
		rev := createPod(b, h.s, h.node, name, critest.BusyboxImage, "sleep", "3600")
		if err := waitRunning(ctx, h.s, rev-1, map[string]bool{name: true}); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
		b.StopTimer()
		zero := int64(0)
		if _, err := store.For[*core.Pod](h.s).Delete(ctx, apis.Key{Namespace: "default", Name: name}, store.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
			b.Fatal(err)
		}
		h.eventually(30*time.Second, "pod removed", func() bool { return len(h.containers("app")) == 0 })
		b.StartTimer()
	}
	critest.ReportPercentiles(b, lat)
}
