package store_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/labels"
	"github.com/gantry-sdk/gantry/store"
	"github.com/gantry-sdk/gantry/store/storetest"
)

// cpuPerOp reports the process's CPU time (user and system, GC and KV
// goroutines included) per operation as cpu-ns/op: on a shared, loaded
// machine it varies far less than wall time. Call it right before the loop
// and the returned func right after.
func cpuPerOp(b *testing.B) func() {
	start := cpuTime()
	return func() { b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op") }
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func benchWidget(name string) *Widget {
	return &Widget{
		ObjectMeta: apis.ObjectMeta{Namespace: "default", Name: name, Labels: map[string]string{"app": "web", "tier": "front"}},
		Spec:       storetest.WidgetSpec{Replicas: 3, NodeName: "node-1", Class: "gold"},
	}
}

// BenchmarkCreate compares the object store's Create with the bare KV put
// it ends in: the difference is encoding, defaulting, validation and the
// namespace check.
func BenchmarkCreate(b *testing.B) {
	b.Run("store", func(b *testing.B) {
		s, _ := openStore(b, store.Options{})
		widgets := store.For[*Widget](s)
		ctx := context.Background()
		b.ReportAllocs()
		done := cpuPerOp(b)
		for i := 0; b.Loop(); i++ {
			if _, err := widgets.Create(ctx, benchWidget("w-"+strconv.Itoa(i)), store.WriteOptions{}); err != nil {
				b.Fatal(err)
			}
		}
		done()
	})
	b.Run("kv-baseline", func(b *testing.B) {
		kv := newKV(b)
		ctx := context.Background()
		val := make([]byte, 330) // about a stored benchWidget
		b.ReportAllocs()
		done := cpuPerOp(b)
		for i := 0; b.Loop(); i++ {
			key := "/test.gantry.dev/widgets/default/w-" + strconv.Itoa(i)
			if _, err := kv.Txn(ctx, store.Txn{If: []store.Compare{{Key: key}}, Then: []store.Op{store.Put(key, val)}}); err != nil {
				b.Fatal(err)
			}
		}
		done()
	})
}

// BenchmarkGet compares Get (a range read plus a JSON decode) with the bare
// KV read under it.
func BenchmarkGet(b *testing.B) {
	s, kv := openStore(b, store.Options{})
	widgets := store.For[*Widget](s)
	ctx := context.Background()
	_, err := widgets.Create(ctx, benchWidget("a"), store.WriteOptions{})
	require.NoError(b, err)
	b.Run("store", func(b *testing.B) {
		key := apis.Key{Namespace: "default", Name: "a"}
		b.ReportAllocs()
		done := cpuPerOp(b)
		for b.Loop() {
			if _, err := widgets.Get(ctx, key, store.GetOptions{}); err != nil {
				b.Fatal(err)
			}
		}
		done()
	})
	b.Run("kv-baseline", func(b *testing.B) {
		b.ReportAllocs()
		done := cpuPerOp(b)
		for b.Loop() {
			if p, err := kv.Range(ctx, "/test.gantry.dev/widgets/default/a", store.RangeOptions{Limit: 1}); err != nil || len(p.KVs) != 1 {
				b.Fatal(err)
			}
		}
		done()
	})
}

// BenchmarkUpdate measures conditional updates that change the spec (a
// generation bump) and ones that change only a label, as controllers often do.
func BenchmarkUpdate(b *testing.B) {
	for _, c := range []struct {
		name   string
		change func(w *Widget, i int)
	}{
		{"spec", func(w *Widget, i int) { w.Spec.Replicas = int32(i) }},
		{"labels", func(w *Widget, i int) { w.Labels["rev"] = strconv.Itoa(i) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			s, _ := openStore(b, store.Options{})
			widgets := store.For[*Widget](s)
			ctx := context.Background()
			w, err := widgets.Create(ctx, benchWidget("a"), store.WriteOptions{})
			require.NoError(b, err)
			b.ReportAllocs()
			done := cpuPerOp(b)
			for i := 0; b.Loop(); i++ {
				c.change(w, i+1)
				if w, err = widgets.Update(ctx, w, store.WriteOptions{}); err != nil {
					b.Fatal(err)
				}
			}
			done()
		})
	}
}

// BenchmarkList10kLabelSelector lists 10,000 widgets of which 1 in 10
// matches the selector, against the bare KV range over the same keys.
func BenchmarkList10kLabelSelector(b *testing.B) {
	s, kv := openStore(b, store.Options{})
	widgets := store.For[*Widget](s)
	ctx := context.Background()
	for i := range 10_000 {
		w := benchWidget(fmt.Sprintf("w-%05d", i))
		if i%10 == 0 {
			w.Labels["app"] = "db"
		}
		_, err := widgets.Create(ctx, w, store.WriteOptions{})
		require.NoError(b, err)
	}
	sel, err := labels.Parse("app=db")
	require.NoError(b, err)
	b.Run("store", func(b *testing.B) {
		b.ReportAllocs()
		done := cpuPerOp(b)
		for b.Loop() {
			l, err := widgets.List(ctx, store.ListOptions{Labels: sel})
			if err != nil || len(l.Items) != 1000 {
				b.Fatal(err, len(l.Items))
			}
		}
		done()
	})
	b.Run("kv-range-baseline", func(b *testing.B) {
		b.ReportAllocs()
		done := cpuPerOp(b)
		for b.Loop() {
			p, err := kv.Range(ctx, "/test.gantry.dev/widgets/", store.RangeOptions{})
			if err != nil || len(p.KVs) != 10_000 {
				b.Fatal(err, len(p.KVs))
			}
		}
		done()
	})
}

// BenchmarkWatchFanOut measures one update reaching every one of N watchers
// (ns/op is per update, delivered to all).
func BenchmarkWatchFanOut(b *testing.B) {
	for _, n := range []int{1, 100} {
		b.Run("watchers="+strconv.Itoa(n), func(b *testing.B) {
			s, _ := openStore(b, store.Options{})
			widgets := store.For[*Widget](s)
			ctx, cancel := context.WithCancel(context.Background())
			w, err := widgets.Create(ctx, benchWidget("a"), store.WriteOptions{})
			require.NoError(b, err)
			from, err := strconv.ParseInt(w.ResourceVersion, 10, 64)
			require.NoError(b, err)
			got := make(chan struct{}, n)
			var wg sync.WaitGroup
			for range n {
				wg.Go(func() {
					for _, err := range widgets.Watch(ctx, store.WatchOptions{Revision: from}) {
						if err != nil {
							return
						}
						got <- struct{}{}
					}
				})
			}
			b.ReportAllocs()
			done := cpuPerOp(b)
			for b.Loop() {
				w.Spec.Replicas++
				if w, err = widgets.Update(ctx, w, store.WriteOptions{}); err != nil {
					b.Fatal(err)
				}
				for range n {
					<-got
				}
			}
			done()
			b.StopTimer()
			cancel()
			wg.Wait()
		})
	}
}
