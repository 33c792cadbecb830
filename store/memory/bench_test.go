package memory_test

import (
	"testing"

	"github.com/gantry-sdk/gantry/store"
	"github.com/gantry-sdk/gantry/store/memory"
	"github.com/gantry-sdk/gantry/store/storetest"
)

// BenchmarkKV runs the shared KV benchmarks on a durable KV (every put
// fsynced before it is acknowledged), the configuration compared with etcd.
func BenchmarkKV(b *testing.B) {
	storetest.BenchmarkKV(b, func(b *testing.B) store.KV {
		kv, err := memory.Open(b.TempDir(), memory.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { kv.Close() })
		return kv
	})
}

// BenchmarkKVInMemory runs them on a purely in-memory KV.
func BenchmarkKVInMemory(b *testing.B) {
	storetest.BenchmarkKV(b, func(b *testing.B) store.KV {
		kv := memory.New(memory.Options{})
		b.Cleanup(func() { kv.Close() })
		return kv
	})
}

// BenchmarkRecovery measures Open on a directory holding 20k writes of
// 256 B, replayed from the log alone or mostly from a snapshot.
func BenchmarkRecovery(b *testing.B) {
	for _, tc := range []struct {
		name string
		opts memory.Options
	}{
		{"LogOnly", memory.Options{}},
		{"Snapshot", memory.Options{SnapshotBytes: 1 << 20}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			dir := b.TempDir()
			kv, err := memory.Open(dir, tc.opts)
			if err != nil {
				b.Fatal(err)
			}
			storetest.Preload(b, kv, "/bench/recovery/", 20_000)
			if err := kv.Close(); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for range b.N {
				kv, err := memory.Open(dir, tc.opts)
				if err != nil {
					b.Fatal(err)
				}
				kv.Close()
			}
		})
	}
}
