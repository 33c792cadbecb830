package etcd_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gantry-sdk/gantry/store"
	"github.com/gantry-sdk/gantry/store/etcd"
	"github.com/gantry-sdk/gantry/store/etcd/etcdtest"
	"github.com/gantry-sdk/gantry/store/memory"
	"github.com/gantry-sdk/gantry/store/storetest"
)

// openEtcd returns a KV on a fresh embedded etcd with its default
// durability: the write-ahead log fsynced before a write is acknowledged.
func openEtcd(b *testing.B) store.KV {
	srv := etcdtest.Start(b, etcdtest.Options{})
	kv, err := etcd.New(srv.Client, etcd.Options{})
	if err != nil {
		b.Fatal(err)
	}
	return kv
}

// openMemory returns the embedded default at equal durability: a durable
// store/memory KV, every write fsynced before it is acknowledged.
func openMemory(b *testing.B) store.KV {
	kv, err := memory.Open(b.TempDir(), memory.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = kv.Close() })
	return kv
}

// BenchmarkKV runs the shared KV benchmarks on embedded etcd.
func BenchmarkKV(b *testing.B) { storetest.BenchmarkKV(b, openEtcd) }

// BenchmarkKVSideBySide runs the shared KV benchmarks on embedded etcd and on
// the durable store/memory in one process, on the same disk, one after the
// other. -count N would run each N times in a row; docs/bench/store-kv.md runs
// the binary N times instead, so that the two alternate (A/B/A/B):
//
//	go test -c -o /tmp/etcd.test ./store/etcd
//	for i in $(seq 10); do /tmp/etcd.test -test.run '^$' -test.bench 'SideBySide|Fdatasync' -test.benchmem; done > bench.txt
//	benchstat -col /backend bench.txt
func BenchmarkKVSideBySide(b *testing.B) {
	b.Run("backend=etcd", func(b *testing.B) { storetest.BenchmarkKV(b, openEtcd) })
	b.Run("backend=memory", func(b *testing.B) { storetest.BenchmarkKV(b, openMemory) })
}

// BenchmarkFdatasync4K is the machine's floor for any durable write, measured
// in the same run as the KVs: append 4 KiB to a file in the directory where
// the benchmarks keep their data, and fdatasync it.
func BenchmarkFdatasync4K(b *testing.B) {
	f, err := os.OpenFile(filepath.Join(b.TempDir(), "fsync"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		if _, err := f.Write(buf); err != nil {
			b.Fatal(err)
		}
		if err := unix.Fdatasync(int(f.Fd())); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	storetest.ReportLatency(b, lat)
}
