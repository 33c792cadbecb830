package etcd_test

import (
	"testing"

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
// other; with -count N the pairs alternate (A/B/A/B) only if each count is
// its own process, so docs/bench/store.md runs the binary N times:
//
//	go test -c -o /tmp/etcd.test ./store/etcd
//	for i in 1 2 3 4 5; do /tmp/etcd.test -test.run '^$' -test.bench SideBySide; done > bench.txt
//	benchstat -col /backend bench.txt
func BenchmarkKVSideBySide(b *testing.B) {
	b.Run("backend=etcd", func(b *testing.B) { storetest.BenchmarkKV(b, openEtcd) })
	b.Run("backend=memory", func(b *testing.B) { storetest.BenchmarkKV(b, openMemory) })
}
