package clientgo

import (
	"context"
	goruntime "runtime"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	k8sinformers "k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/informer"
	"github.com/gantry-sdk/gantry/store"
	"github.com/gantry-sdk/gantry/store/memory"
)

const syncPods = 100_000

// The same pod in both worlds: name, namespace, two labels, one container,
// a node.
func gantryPod(i int) *core.Pod {
	return &core.Pod{
		ObjectMeta: apis.ObjectMeta{Namespace: "ns-" + strconv.Itoa(i%100), Name: "pod-" + strconv.Itoa(i),
			Labels: map[string]string{"app": "web-" + strconv.Itoa(i%1000), "tier": "frontend"}},
		Spec: core.PodSpec{NodeName: "node-" + strconv.Itoa(i%5000),
			Containers: []core.Container{{Name: "app", Image: "registry.example/web:1.0"}}},
	}
}

func clientgoPod(i int) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns-" + strconv.Itoa(i%100), Name: "pod-" + strconv.Itoa(i),
			Labels:          map[string]string{"app": "web-" + strconv.Itoa(i%1000), "tier": "frontend"},
			ResourceVersion: strconv.Itoa(i + 1), UID: types.UID("uid-" + strconv.Itoa(i))},
		Spec: corev1.PodSpec{NodeName: "node-" + strconv.Itoa(i%5000),
			Containers: []corev1.Container{{Name: "app", Image: "registry.example/web:1.0"}}},
	}
}

func heapInUse() uint64 {
	goruntime.GC()
	goruntime.GC()
	var ms goruntime.MemStats
	goruntime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

func newGantryStore(b *testing.B) store.Store {
	scheme := apis.NewScheme()
	if err := core.AddToScheme(scheme); err != nil {
		b.Fatal(err)
	}
	kv := memory.New(memory.Options{})
	b.Cleanup(func() { _ = kv.Close() })
	s, err := store.New(kv, scheme, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for i := range 100 {
		ns := &core.Namespace{ObjectMeta: apis.ObjectMeta{Name: "ns-" + strconv.Itoa(i)}}
		if _, err := s.Create(ctx, ns, store.WriteOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	pods := store.For[*core.Pod](s)
	for i := range syncPods {
		if _, err := pods.Create(ctx, gantryPod(i), store.WriteOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

// retainedPerPod is the heap an informer holds per pod: the heap while it
// is alive less the heap once it is dropped, so that what the first list
// changes in the store itself (Gantry's decoded cache drops the writers'
// copies of the bytes) is not counted as the informer's, either way.
func retainedPerPod(with uint64, drop func()) float64 {
	drop()
	return (float64(with) - float64(heapInUse())) / syncPods
}

// reportSync reports pods/s of wall time, the process's CPU time per pod
// (all its goroutines, the garbage collector's included; on a shared
// machine wall time swings with the other processes' load, CPU time much
// less) and the heap held per pod.
func reportSync(b *testing.B, cpu time.Duration, perPod float64) {
	pods := float64(syncPods) * float64(b.N)
	b.ReportMetric(pods/b.Elapsed().Seconds(), "pods/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/pods, "cpu-ns/pod")
	b.ReportMetric(perPod, "B/pod")
}

// BenchmarkInformerInitialSync: time from starting an informer to a synced
// cache of 100k pods; also the heap the cache holds per pod (B/pod).
func BenchmarkInformerInitialSync(b *testing.B) {
	b.Run("impl=gantry", func(b *testing.B) {
		s := newGantryStore(b)
		var perPod float64
		var cpu time.Duration
		b.ResetTimer()
		for range b.N {
			b.StopTimer()
			heapInUse() // the same start for every run: no garbage of the last one
			cpu0 := cpuTime(b)
			b.StartTimer()
			ctx, cancel := context.WithCancel(context.Background())
			inf := informer.New[*core.Pod](s, informer.Options[*core.Pod]{})
			done := make(chan struct{})
			go func() { defer close(done); _ = inf.Run(ctx) }()
			if err := inf.WaitForSync(ctx); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			cpu += cpuTime(b) - cpu0
			if inf.Len() != syncPods {
				b.Fatalf("synced %d pods", inf.Len())
			}
			perPod = retainedPerPod(heapInUse(), func() {
				cancel()
				<-done
				inf = nil
			})
			b.StartTimer()
		}
		reportSync(b, cpu, perPod)
	})
	b.Run("impl=client-go", func(b *testing.B) {
		objs := make([]runtime.Object, syncPods)
		for i := range objs {
			objs[i] = clientgoPod(i)
		}
		client := fake.NewClientset(objs...)
		objs = nil
		var perPod float64
		var cpu time.Duration
		b.ResetTimer()
		for range b.N {
			b.StopTimer()
			heapInUse()
			cpu0 := cpuTime(b)
			b.StartTimer()
			stop := make(chan struct{})
			factory := k8sinformers.NewSharedInformerFactory(client, 0)
			inf := factory.Core().V1().Pods().Informer()
			factory.Start(stop)
			// cache.WaitForCacheSync polls every 100 ms, which would add up
			// to 100 ms to client-go's time; Gantry's WaitForSync wakes at
			// once, so poll finely here.
			for !inf.HasSynced() {
				time.Sleep(50 * time.Microsecond)
			}
			b.StopTimer()
			cpu += cpuTime(b) - cpu0
			if n := len(inf.GetStore().ListKeys()); n != syncPods {
				b.Fatalf("synced %d pods", n)
			}
			perPod = retainedPerPod(heapInUse(), func() {
				close(stop)
				factory.Shutdown()
				inf, factory = nil, nil
			})
			b.StartTimer()
		}
		reportSync(b, cpu, perPod)
	})
}
