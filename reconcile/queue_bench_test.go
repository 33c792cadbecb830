package reconcile

import (
	"strconv"
	"sync"
	"testing"

	"github.com/gantry-sdk/gantry/apis"
)

// BenchmarkQueueAddGetDone: one producer adds b.N distinct keys while two
// workers Get and Done them, as client-go's workqueue benchmarks do.
func BenchmarkQueueAddGetDone(b *testing.B) {
	keys := make([]apis.Key, b.N)
	for i := range keys {
		keys[i] = apis.Key{Namespace: "default", Name: "pod-" + strconv.Itoa(i)}
	}
	q := NewQueue[apis.Key](QueueOptions{})
	var wg sync.WaitGroup
	b.ResetTimer()
	for range 2 {
		wg.Go(func() {
			for {
				k, ok := q.Get()
				if !ok {
					return
				}
				q.Done(k)
			}
		})
	}
	for _, k := range keys {
		q.Add(k)
	}
	_ = q.ShutDownWithDrain(b.Context())
	wg.Wait()
}
