// Package clientgo benchmarks Gantry's work queue and informer side by side
// with client-go's, in one run. It is a separate module so client-go never
// enters the main module.
package clientgo

import (
	"context"
	"strconv"
	"sync"
	"testing"

	"k8s.io/client-go/util/workqueue"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/reconcile"
)

func benchKeys(n int) []apis.Key {
	keys := make([]apis.Key, n)
	for i := range keys {
		keys[i] = apis.Key{Namespace: "default", Name: "pod-" + strconv.Itoa(i)}
	}
	return keys
}

// Both benchmarks: one producer adds b.N distinct keys while two workers Get
// and Done them; the run ends when every key was processed.

func BenchmarkQueueAddGetDone(b *testing.B) {
	b.Run("impl=gantry", func(b *testing.B) {
		keys := benchKeys(b.N)
		q := reconcile.NewQueue[apis.Key](reconcile.QueueOptions{})
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
		_ = q.ShutDownWithDrain(context.Background())
		wg.Wait()
	})
	b.Run("impl=client-go", func(b *testing.B) {
		keys := benchKeys(b.N)
		q := workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[apis.Key]())
		var wg sync.WaitGroup
		b.ResetTimer()
		for range 2 {
			wg.Go(func() {
				for {
					k, shutdown := q.Get()
					if shutdown {
						return
					}
					q.Done(k)
				}
			})
		}
		for _, k := range keys {
			q.Add(k)
		}
		q.ShutDownWithDrain()
		wg.Wait()
	})
}

// BenchmarkQueueSerial: one goroutine adds a batch of 64 distinct keys, then
// gets and dones them: the queues' own cost, without goroutine hand-offs.
func BenchmarkQueueSerial(b *testing.B) {
	keys := benchKeys(64)
	b.Run("impl=gantry", func(b *testing.B) {
		q := reconcile.NewQueue[apis.Key](reconcile.QueueOptions{})
		defer q.ShutDown()
		for i := 0; i < b.N; i += len(keys) {
			for _, k := range keys {
				q.Add(k)
			}
			for range keys {
				k, _ := q.Get()
				q.Done(k)
			}
		}
	})
	b.Run("impl=client-go", func(b *testing.B) {
		q := workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[apis.Key]())
		defer q.ShutDown()
		for i := 0; i < b.N; i += len(keys) {
			for _, k := range keys {
				q.Add(k)
			}
			for range keys {
				k, _ := q.Get()
				q.Done(k)
			}
		}
	})
}
