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
