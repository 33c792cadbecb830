// Package storetest holds the conformance suites and benchmark harnesses that
// every implementation of the store contracts runs: store/memory, store/etcd,
// and the remote client of apiserver.
//
// # Usage
//
// In the implementation's tests:
//
//	func TestKVConformance(t *testing.T) {
//		storetest.RunKV(t, func(t *testing.T) store.KV {
//			kv := memory.New(memory.Options{ProgressInterval: 100 * time.Millisecond})
//			t.Cleanup(func() { kv.Close() })
//			return kv
//		})
//	}
//
//	func BenchmarkKV(b *testing.B) {
//		storetest.BenchmarkKV(b, func(b *testing.B) store.KV { ... })
//	}
//
// RunKV checks the documented behaviour of store.KV: revisions, Range at a
// revision with prefix, limit, After and CountOnly, Txn compares and
// atomicity, watch ordering, Prev, resumption, progress and compaction, and
// the rejection of bad input without change.
package storetest
