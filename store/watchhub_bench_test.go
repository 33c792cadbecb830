package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/apis/fields"
	"github.com/gantry-sdk/gantry/store"
)

// BenchmarkWatchFieldSelected is the cost of one pod write seen by N node
// agents' watches (field selector spec.nodeName=<node>), one pod per
// iteration, bound round-robin, until its node's watcher has it: "private"
// is every watch on a KV watch of its own (each wakes, decodes and matches
// every write), "shared" the shared watch indexed by spec.nodeName.
// cpu-ns/op is the process' CPU per write, every goroutine included.
func BenchmarkWatchFieldSelected(b *testing.B) {
	for _, n := range []int{100, 1000} {
		for _, mode := range []string{"private", "shared"} {
			b.Run(fmt.Sprintf("watchers=%d/%s", n, mode), func(b *testing.B) {
				benchWatchFieldSelected(b, n, mode == "private")
			})
		}
	}
}

func benchWatchFieldSelected(b *testing.B, n int, private bool) {
	s, err := store.New(newKV(b), coreScheme(b), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	if private {
		store.SetPrivateWatches(s)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pods := store.For[*core.Pod](s)
	l, err := pods.List(ctx, store.ListOptions{})
	if err != nil {
		b.Fatal(err)
	}
	got := make([]chan struct{}, n)
	done := make(chan struct{})
	for i := range n {
		got[i] = make(chan struct{}, 1)
		sel := fields.OneTermEqual("spec.nodeName", fmt.Sprintf("node-%d", i))
		go func() {
			defer func() { done <- struct{}{} }()
			for ev, err := range pods.Watch(ctx, store.WatchOptions{Fields: sel, Revision: l.Revision}) {
				if err != nil {
					b.Error(err)
					return
				}
				if ev.Type == store.WatchAdded {
					got[i] <- struct{}{}
				}
			}
		}()
	}
	create := func(name string, node int) {
		p := newPod("default", name, fmt.Sprintf("node-%d", node), "a")
		if _, err := pods.Create(ctx, p, store.WriteOptions{}); err != nil {
			b.Fatal(err)
		}
		<-got[node]
	}
	for i := range 2 * n { // every watcher caught up (and, shared, on the shared watch)
		create(fmt.Sprintf("warm-%d", i), i%n)
	}
	b.ReportAllocs()
	stop := cpuPerOp(b)
	for i := 0; b.Loop(); i++ {
		create(fmt.Sprintf("p-%d", i), i%n)
	}
	stop()
	cancel()
	for range n {
		<-done
	}
}
