package storetest

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gantry-sdk/gantry/store"
)

// BenchValueSize is the size of the values the KV benchmarks write.
const BenchValueSize = 256

// BenchKeys is the number of keys the put, get and list benchmarks use.
const BenchKeys = 10_000

// BenchWatchers is the number of watchers of the memory-per-watcher benchmark.
const BenchWatchers = 1_000

// BenchmarkKV runs the KV benchmarks against KVs from open (one per
// sub-benchmark; open should register its own cleanup):
//
//   - Put/writers=N: single-key puts of 256 B values over 10k keys from N
//     concurrent writers; reports puts/s and the latency p50/p99 of one put.
//   - Get: exact-key Range over 10k keys; reports p50/p99.
//   - List10k: Range over a prefix of 10k keys of 256 B.
//   - PutToWatchEvent: from the start of a put to its event at a watcher of
//     the prefix; reports p50/p99, and the p50 from the put's return to the
//     event (the delivery cost beyond the durable write).
//   - WatcherMemory: heap and stacks per established watcher (each consumed
//     by its own goroutine, as an informer would), in bytes/watcher.
//
// Compare implementations in one run, side by side (the machine is shared:
// ratios, not absolute figures).
func BenchmarkKV(b *testing.B, open func(b *testing.B) store.KV) {
	for _, writers := range []int{1, 16, 256} {
		b.Run(fmt.Sprintf("Put/writers=%d", writers), func(b *testing.B) { benchPut(b, open(b), writers) })
	}
	b.Run("Get", func(b *testing.B) { benchGet(b, open(b)) })
	b.Run("List10k", func(b *testing.B) { benchList(b, open(b)) })
	b.Run("PutToWatchEvent", func(b *testing.B) { benchWatchLatency(b, open(b)) })
	b.Run("WatcherMemory", func(b *testing.B) { benchWatcherMemory(b, open(b)) })
}

func benchValue() []byte {
	v := make([]byte, BenchValueSize)
	for i := range v {
		v[i] = byte('a' + i%26)
	}
	return v
}

// ReportLatency reports the p50 and p99 of lat, in microseconds.
func ReportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, "p50-us")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "p99-us")
}

func benchPut(b *testing.B, kv store.KV, writers int) {
	ctx := context.Background()
	value := benchValue()
	keys := make([]string, BenchKeys)
	for i := range keys {
		keys[i] = fmt.Sprintf("/bench/put/%05d", i)
	}
	var next atomic.Int64
	lats := make([][]time.Duration, writers)
	var failed atomic.Pointer[error]
	var wg sync.WaitGroup
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu0 := time.Now(), processCPU()
	for w := range writers {
		wg.Go(func() {
			lat := make([]time.Duration, 0, b.N/writers+1)
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					break
				}
				t0 := time.Now()
				if _, err := kv.Txn(ctx, store.Txn{Then: []store.Op{store.Put(keys[i%BenchKeys], value)}}); err != nil {
					failed.Store(&err)
					return
				}
				lat = append(lat, time.Since(t0))
			}
			lats[w] = lat
		})
	}
	wg.Wait()
	elapsed, cpu := time.Since(start), processCPU()-cpu0
	b.StopTimer()
	if err := failed.Load(); err != nil {
		b.Fatal(*err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "puts/s")
	// CPU time of the whole process per put (an in-process server's too):
	// steadier than wall time on a shared machine.
	b.ReportMetric(float64(cpu.Nanoseconds())/1e3/float64(b.N), "cpu-us/op")
	ReportLatency(b, slices.Concat(lats...))
}

// Preload writes n keys prefix00000... of 256 B from 64 concurrent writers
// and returns them.
func Preload(b *testing.B, kv store.KV, prefix string, n int) []string {
	b.Helper()
	ctx := context.Background()
	value := benchValue()
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("%s%05d", prefix, i)
	}
	// Concurrent writers, so that durable KVs batch the load.
	var wg sync.WaitGroup
	var next atomic.Int64
	errs := make(chan error, 64)
	for range 64 {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				if _, err := kv.Txn(ctx, store.Txn{Then: []store.Op{store.Put(keys[i], value)}}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	return keys
}

func benchGet(b *testing.B, kv store.KV) {
	keys := Preload(b, kv, "/bench/get/", BenchKeys)
	ctx := context.Background()
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		t0 := time.Now()
		page, err := kv.Range(ctx, keys[i%len(keys)], store.RangeOptions{})
		if err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
		if len(page.KVs) != 1 {
			b.Fatalf("get %s: %d keys", keys[i%len(keys)], len(page.KVs))
		}
	}
	b.StopTimer()
	ReportLatency(b, lat)
}

func benchList(b *testing.B, kv store.KV) {
	Preload(b, kv, "/bench/list/", BenchKeys)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		page, err := kv.Range(ctx, "/bench/list/", store.RangeOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if len(page.KVs) != BenchKeys {
			b.Fatalf("list: %d keys", len(page.KVs))
		}
	}
}

func benchWatchLatency(b *testing.B, kv store.KV) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const prefix = "/bench/watch/"
	type seen struct {
		rev int64
		at  time.Time
	}
	events := make(chan seen, 1024)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	first, err := kv.Txn(ctx, store.Txn{Then: []store.Op{store.Put(prefix+"k", nil)}})
	if err != nil {
		b.Fatal(err)
	}
	wg.Go(func() {
		for ev, err := range kv.Watch(ctx, prefix, store.KVWatchOptions{FromRevision: first}) {
			if err != nil {
				return
			}
			select {
			case events <- seen{ev.Revision, time.Now()}:
			case <-ctx.Done():
				return
			}
		}
	})
	if ev := <-events; ev.rev != first {
		b.Fatalf("first event at revision %d, want %d", ev.rev, first)
	}
	value := benchValue()
	lat := make([]time.Duration, 0, b.N)
	afterAck := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		rev, err := kv.Txn(ctx, store.Txn{Then: []store.Op{store.Put(prefix+"k", value)}})
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		for ev := range events {
			if ev.rev == rev {
				lat = append(lat, ev.at.Sub(t0))
				afterAck = append(afterAck, ev.at.Sub(t1))
				break
			}
		}
	}
	b.StopTimer()
	ReportLatency(b, lat)
	// The delivery beyond the write itself: from the put's return to the
	// event (negative when the event arrived before the put returned).
	slices.Sort(afterAck)
	b.ReportMetric(float64(afterAck[len(afterAck)/2].Nanoseconds())/1e3, "after-ack-p50-us")
}

func benchWatcherMemory(b *testing.B, kv store.KV) {
	const prefix = "/bench/watchers/"
	for range b.N {
		ctx, cancel := context.WithCancel(context.Background())
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		var established, wg sync.WaitGroup
		established.Add(BenchWatchers)
		for range BenchWatchers {
			wg.Go(func() {
				once := false
				for _, err := range kv.Watch(ctx, prefix, store.KVWatchOptions{}) {
					if err != nil {
						break
					}
					if !once {
						once = true
						established.Done()
					}
				}
				if !once {
					established.Done()
				}
			})
		}
		// A watcher is established once it has seen a write made after it.
		waited := make(chan struct{})
		go func() { established.Wait(); close(waited) }()
	wait:
		for {
			if _, err := kv.Txn(ctx, store.Txn{Then: []store.Op{store.Put(prefix+"k", nil)}}); err != nil {
				b.Fatal(err)
			}
			select {
			case <-waited:
				break wait
			case <-time.After(50 * time.Millisecond):
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		used := int64(after.HeapAlloc+after.StackInuse) - int64(before.HeapAlloc+before.StackInuse)
		b.ReportMetric(float64(used)/BenchWatchers, "bytes/watcher")
		cancel()
		wg.Wait()
	}
}

// processCPU returns the user and system CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
