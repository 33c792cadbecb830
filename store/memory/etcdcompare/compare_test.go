// Package etcdcompare runs the shared KV benchmarks on store/memory and on an
// embedded etcd at equal durability (fsync on both), alternating A/B/A/B in
// one process, so that the two are compared under the same machine load:
//
//	go test -run '^$' -bench . -benchtime 1s ./store/memory/etcdcompare/
package etcdcompare

import (
	"fmt"
	"testing"

	"github.com/gantry-sdk/gantry/store"
	"github.com/gantry-sdk/gantry/store/etcd"
	"github.com/gantry-sdk/gantry/store/etcd/etcdtest"
	"github.com/gantry-sdk/gantry/store/memory"
	"github.com/gantry-sdk/gantry/store/storetest"
)

func BenchmarkSideBySide(b *testing.B) {
	for round := range 2 {
		b.Run(fmt.Sprintf("round=%d/memory", round), func(b *testing.B) {
			storetest.BenchmarkKV(b, func(b *testing.B) store.KV {
				kv, err := memory.Open(b.TempDir(), memory.Options{})
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { kv.Close() })
				return kv
			})
		})
		b.Run(fmt.Sprintf("round=%d/etcd", round), func(b *testing.B) {
			storetest.BenchmarkKV(b, func(b *testing.B) store.KV {
				srv := etcdtest.Start(b, etcdtest.Options{}) // fsync on, like memory.Open
				kv, err := etcd.New(srv.Client, etcd.Options{})
				if err != nil {
					b.Fatal(err)
				}
				return kv
			})
		})
	}
}
