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

// BenchmarkInitialSync: from starting an informer to a synced cache of
// 10k pods in a memory store (the 100k-pod comparison with client-go lives
// in bench/clientgo).
func BenchmarkInitialSync(b *testing.B) {
	const n = 10_000
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
	pods := store.For[*core.Pod](s)
	for i := range n {
		_, err := pods.Create(b.Context(), &core.Pod{
			ObjectMeta: apis.ObjectMeta{Namespace: "default", Name: "pod-" + strconv.Itoa(i),
				Labels: map[string]string{"app": "web"}},
			Spec: core.PodSpec{NodeName: "node-" + strconv.Itoa(i%100),
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
		cancel()
		<-done
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "pods/s")
}
