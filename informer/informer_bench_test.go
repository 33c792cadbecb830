package informer

import (
	"context"
	"strconv"
	"testing"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/store"
	"github.com/gantry-sdk/gantry/store/memory"
)

// BenchmarkInitialSync: from starting an informer to a synced cache of n
// pods in 100 namespaces of a memory store, repeated over one store (the
// first sync of each run also settles the store's decoded cache; the
// comparison with client-go, one fresh store per run, lives in
// bench/clientgo).
func BenchmarkInitialSync(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run("pods="+strconv.Itoa(n), func(b *testing.B) {
			benchmarkInitialSync(b, n)
		})
	}
}

func benchmarkInitialSync(b *testing.B, n int) {
	scheme := apis.NewScheme()
	if err := core.AddToScheme(scheme); err != nil {
		b.Fatal(err)
	}
	kv := memory.New(memory.Options{})
	defer kv.Close()
	s, err := store.New(kv, scheme, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	for i := range 100 {
		ns := &core.Namespace{ObjectMeta: apis.ObjectMeta{Name: "ns-" + strconv.Itoa(i)}}
		if _, err := s.Create(b.Context(), ns, store.WriteOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	pods := store.For[*core.Pod](s)
	for i := range n {
		_, err := pods.Create(b.Context(), &core.Pod{
			ObjectMeta: apis.ObjectMeta{Namespace: "ns-" + strconv.Itoa(i%100), Name: "pod-" + strconv.Itoa(i),
				Labels: map[string]string{"app": "web-" + strconv.Itoa(i%1000), "tier": "frontend"}},
			Spec: core.PodSpec{NodeName: "node-" + strconv.Itoa(i%5000),
				Containers: []core.Container{{Name: "app", Image: "registry.example/web:1.0"}}},
		}, store.WriteOptions{})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for range b.N {
		ctx, cancel := context.WithCancel(context.Background())
		inf := New[*core.Pod](s, Options[*core.Pod]{})
		done := make(chan struct{})
		go func() { defer close(done); _ = inf.Run(ctx) }()
		if err := inf.WaitForSync(ctx); err != nil {
			b.Fatal(err)
		}
		if inf.Len() != n {
			b.Fatalf("synced %d pods", inf.Len())
		}
		cancel()
		<-done
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "pods/s")
}
