package memory_test

import (
	"context"
	"fmt"

	"github.com/gantry-sdk/gantry/store"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gantry-sdk/gantry/store/memory"
)

// BenchmarkFsync4K measures this machine's floor for a durable write: append
// 4 KiB to a file and fdatasync it. Put latency is compared against its p50.
func BenchmarkFsync4K(b *testing.B) {
	f, err := os.OpenFile(filepath.Join(b.TempDir(), "fsync"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		if _, err := f.Write(buf); err != nil {
			b.Fatal(err)
		}
		if err := memory.Fdatasync(f); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	reportLatency(b, lat, "")
}

// reportLatency reports the p50 and p99 of lat in microseconds.
func reportLatency(b *testing.B, lat []time.Duration, prefix string) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, prefix+"p50-us")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, prefix+"p99-us")
}

// BenchmarkPutVsFsync alternates one durable single-writer put with one
// 4 KiB append+fdatasync on the same file system, so that both see the same
// machine conditions, and reports both p50s and their ratio (the goal is a
// put p50 within 1.5x the fsync p50).
func BenchmarkPutVsFsync(b *testing.B) {
	dir := b.TempDir()
	kv, err := memory.Open(filepath.Join(dir, "kv"), memory.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer kv.Close()
	f, err := os.OpenFile(filepath.Join(dir, "fsync"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	ctx := context.Background()
	value := make([]byte, 256)
	block := make([]byte, 4096)
	puts := make([]time.Duration, 0, b.N)
	syncs := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		if _, err := kv.Txn(ctx, store.Txn{Then: []store.Op{store.Put(fmt.Sprintf("/k/%05d", i%10000), value)}}); err != nil {
			b.Fatal(err)
		}
		puts = append(puts, time.Since(start))
		start = time.Now()
		if _, err := f.Write(block); err != nil {
			b.Fatal(err)
		}
		if err := memory.Fdatasync(f); err != nil {
			b.Fatal(err)
		}
		syncs = append(syncs, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(puts)
	slices.Sort(syncs)
	put50, sync50 := puts[len(puts)/2], syncs[len(syncs)/2]
	b.ReportMetric(float64(put50.Nanoseconds())/1e3, "put-p50-us")
	b.ReportMetric(float64(sync50.Nanoseconds())/1e3, "fsync-p50-us")
	b.ReportMetric(float64(put50)/float64(sync50), "put/fsync")
}
