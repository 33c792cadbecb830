package reconcile

import (
	"strconv"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gantry-sdk/gantry/apis"
)

func benchKeys(n int) []apis.Key {
	keys := make([]apis.Key, n)
	for i := range keys {
		keys[i] = apis.Key{Namespace: "default", Name: "pod-" + strconv.Itoa(i)}
	}
	return keys
}

// BenchmarkQueueAddGetDone: one producer adds b.N distinct keys while two
// workers Get and Done them, as client-go's workqueue benchmarks do.
func BenchmarkQueueAddGetDone(b *testing.B) {
	keys := benchKeys(b.N)
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

// BenchmarkQueueHotKeys: two workers, each adding a key of its own hot set
// of 64, then getting a key and marking it done, in step: the hand-off cost
// with a small map. bench/clientgo runs the same shape against client-go.
func BenchmarkQueueHotKeys(b *testing.B) {
	q := NewQueue[apis.Key](QueueOptions{})
	defer q.ShutDown()
	runHotKeys(b, q)
}

// BenchmarkQueueHotKeysMetrics: the hot-key shape with workqueue_* metrics
// recorded, to show what they cost per item.
func BenchmarkQueueHotKeysMetrics(b *testing.B) {
	m, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	q := NewQueue[apis.Key](QueueOptions{Name: "bench", Metrics: m})
	defer q.ShutDown()
	runHotKeys(b, q)
}

// runHotKeys is the hot-key shape over q: two workers in step, each adding
// a key of its own 64, then getting and finishing one.
func runHotKeys(b *testing.B, q *Queue[apis.Key]) {
	const workers, hot = 2, 64
	keys := benchKeys(workers * hot)
	var wg sync.WaitGroup
	b.ResetTimer()
	for w := range workers {
		mine := keys[w*hot : (w+1)*hot]
		n := b.N / workers
		if w == 0 {
			n += b.N % workers
		}
		wg.Go(func() {
			for i := range n {
				q.Add(mine[i%hot])
				k, _ := q.Get()
				q.Done(k)
			}
		})
	}
	wg.Wait()
}
