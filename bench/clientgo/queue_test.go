// Package clientgo benchmarks Gantry's work queue and informer side by side
// with client-go's, in one run. It is a separate module so client-go never
// enters the main module.
package clientgo

import (
	"context"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/util/workqueue"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/reconcile"
)

// cpuTime is the CPU time, user and system, the process has used so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportRates adds items/s and the CPU time per item: on a shared machine
// the wall time per item swings with the other processes' load, the CPU
// time far less (it counts spinning and the scheduler, but not the time
// the process waited for a CPU).
func reportRates(b *testing.B, cpuStart time.Duration) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "items/s")
	b.ReportMetric(float64(cpuTime(b)-cpuStart)/float64(b.N), "cpu-ns/item")
}

func benchKeys(n int) []apis.Key {
	keys := make([]apis.Key, n)
	for i := range keys {
		keys[i] = apis.Key{Namespace: "default", Name: "pod-" + strconv.Itoa(i)}
	}
	return keys
}

// workQueue is the part of both queues the benchmarks use.
type workQueue interface {
	Add(apis.Key)
	Get() (apis.Key, bool) // ok: a key was handed out
	Done(apis.Key)
	shutDownWithDrain()
}

type gantryQueue struct{ *reconcile.Queue[apis.Key] }

func (q gantryQueue) shutDownWithDrain() { _ = q.ShutDownWithDrain(context.Background()) }

type clientGoQueue struct {
	workqueue.TypedRateLimitingInterface[apis.Key]
}

func (q clientGoQueue) Get() (apis.Key, bool) {
	k, shutdown := q.TypedRateLimitingInterface.Get()
	return k, !shutdown
}

func (q clientGoQueue) shutDownWithDrain() { q.ShutDownWithDrain() }

// impls are the queues compared: Gantry's with its zero options, and
// client-go's rate-limited queue with its default controller rate limiter
// (the same 5 ms..1000 s backoff and 10 qps/100 burst bucket).
var impls = []struct {
	name string
	new  func() workQueue
}{
	{"gantry", func() workQueue { return gantryQueue{reconcile.NewQueue[apis.Key](reconcile.QueueOptions{})} }},
	{"client-go", func() workQueue {
		return clientGoQueue{workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[apis.Key]())}
	}},
}

// BenchmarkQueueHotKeys: two workers, each adding a key of its own hot set
// of 64, then getting a key and marking it done, in step (the shape of
// b.RunParallel over Add/Get/Done): the queue holds at most two keys and
// the map stays small, so this measures the hand-off, not map growth. It is
// the shape of the client-go anchor (2.5-2.8M items/s with 2
// workers on this machine, quiet).
func BenchmarkQueueHotKeys(b *testing.B) {
	const workers, hot = 2, 64
	keys := benchKeys(workers * hot)
	for _, impl := range impls {
		b.Run("impl="+impl.name, func(b *testing.B) {
			q := impl.new()
			var wg sync.WaitGroup
			b.ResetTimer()
			cpu := cpuTime(b)
			for w := range workers {
				mine := keys[w*hot : (w+1)*hot]
				// Each worker's adds are distinct from the other's and cycle
				// through 64 keys, so none is de-duplicated: every Add is one
				// Get and one Done.
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
			b.StopTimer()
			reportRates(b, cpu)
			q.shutDownWithDrain()
		})
	}
}

// BenchmarkQueueAddGetDone: one producer adds b.N distinct keys while two
// workers Get and Done them; the run ends when every key was processed. The
// producer runs far ahead, so the queue grows to hold most of the keys.
func BenchmarkQueueAddGetDone(b *testing.B) {
	for _, impl := range impls {
		b.Run("impl="+impl.name, func(b *testing.B) {
			keys := benchKeys(b.N)
			q := impl.new()
			var wg sync.WaitGroup
			b.ResetTimer()
			cpu := cpuTime(b)
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
			q.shutDownWithDrain()
			wg.Wait()
			b.StopTimer()
			reportRates(b, cpu)
		})
	}
}

// BenchmarkQueueSerial: one goroutine adds a batch of 64 distinct keys, then
// gets and dones them: the queues' own cost, without goroutine hand-offs.
func BenchmarkQueueSerial(b *testing.B) {
	keys := benchKeys(64)
	for _, impl := range impls {
		b.Run("impl="+impl.name, func(b *testing.B) {
			q := impl.new()
			b.ResetTimer()
			cpu := cpuTime(b)
			for i := 0; i < b.N; i += len(keys) {
				for _, k := range keys {
					q.Add(k)
				}
				for range keys {
					k, _ := q.Get()
					q.Done(k)
				}
			}
			b.StopTimer()
			reportRates(b, cpu)
			q.shutDownWithDrain()
		})
	}
}
