package scheduler

import (
	"context"
	"fmt"
	"math"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/apis/builtin"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/store"
	"github.com/gantry-sdk/gantry/store/memory"
)

// The workload of kube-scheduler's scheduler_perf 5000Nodes_10000Pods:
// nodes of 4 cpu, 32 GiB, 110 pods; 1,000 pods already running, then
// 10,000 pods of 100m cpu and 500 MiB to place, with the default plugins.
const (
	benchNodes    = 5000
	benchInitPods = 1000
	benchPods     = 10000
)

func benchNodeList(n int) []*core.Node {
	nodes := make([]*core.Node, n)
	for i := range nodes {
		nodes[i] = mkNode(fmt.Sprintf("node-%05d", i), "4", "32Gi",
			withLabels(core.LabelTopologyZone, fmt.Sprintf("zone-%d", i%3)))
	}
	return nodes
}

func benchPod(prefix string, i int) *core.Pod {
	return mkPod(fmt.Sprintf("%s-%05d", prefix, i), "100m", "500Mi")
}

// quality reports the fraction of pods placed and the standard deviation
// of cpu and memory utilisation across nodes (lower is better balanced).
func quality(b *testing.B, snap *Snapshot, placed, total int) {
	var sumC, sumC2, sumM, sumM2 float64
	for _, ni := range snap.Nodes {
		c := float64(ni.Requested.MilliCPU) / float64(ni.Allocatable.MilliCPU)
		m := float64(ni.Requested.Memory) / float64(ni.Allocatable.Memory)
		sumC, sumC2, sumM, sumM2 = sumC+c, sumC2+c*c, sumM+m, sumM2+m*m
	}
	n := float64(len(snap.Nodes))
	b.ReportMetric(float64(placed)/float64(total), "placed_frac")
	b.ReportMetric(math.Sqrt(sumC2/n-(sumC/n)*(sumC/n)), "cpu_util_stddev")
	b.ReportMetric(math.Sqrt(sumM2/n-(sumM/n)*(sumM/n)), "mem_util_stddev")
}

// BenchmarkSchedulingCore places 10,000 pods on 5,000 nodes with the
// default plugins: queue -> snapshot -> filter/score -> assume -> confirm,
// with an in-memory feed in place of informers and binding.
func BenchmarkSchedulingCore(b *testing.B) {
	nodes := benchNodeList(benchNodes)
	var elapsed, cpu time.Duration
	var placed int
	var last *Snapshot
	for b.Loop() {
		b.StopTimer()
		cache := NewCache(0)
		for _, n := range nodes {
			cache.AddNode(n)
		}
		for i := range benchInitPods {
			p := benchPod("init", i)
			p.Spec.NodeName = nodes[i%len(nodes)].Name
			cache.AddPod(p)
		}
		q := NewQueue(QueueOptions{})
		for i := range benchPods {
			q.Add(benchPod("pod", i))
		}
		prof := defaultProfile(b)
		snap := &Snapshot{}
		rng := newRNG(1)
		ctx := context.Background()
		placed = 0
		b.StartTimer()
		start, cpu0 := time.Now(), cpuTime()
		for range benchPods {
			qp, cycle, err := q.Pop(ctx)
			if err != nil {
				b.Fatal(err)
			}
			cache.UpdateSnapshot(snap)
			res, err := prof.Schedule(ctx, NewCycleState(), qp.Info, snap, rng)
			if err != nil {
				q.AddUnschedulable(qp, cycle, nil)
				continue
			}
			bound := *qp.Info.Pod
			bound.Spec.NodeName = res.NodeName
			ai := *qp.Info
			ai.Pod = &bound
			if err := cache.AssumePod(&ai); err != nil {
				b.Fatal(err)
			}
			cache.FinishBinding(ai.Key(), start)
			cache.AddPod(&bound) // the informer confirms the binding
			q.Done(ai.Key())
			placed++
		}
		elapsed += time.Since(start)
		cpu += cpuTime() - cpu0
		b.StopTimer()
		cache.UpdateSnapshot(snap)
		last = snap
		b.StartTimer()
	}
	b.ReportMetric(float64(benchPods*b.N)/elapsed.Seconds(), "pods/s")
	b.ReportMetric(float64(benchPods*b.N)/cpu.Seconds(), "pods/cpu-s")
	quality(b, last, placed, benchPods)
}

// BenchmarkSchedulerEndToEnd runs the Scheduler over the object store
// (memory KV): 5,000 nodes and 1,000 running pods exist, 10,000 pending pods
// are created, and the clock runs until every one is bound (spec.nodeName
// and the PodScheduled condition in one write compared on the revision) and
// every Scheduled event is written (or dropped: events_dropped).
func BenchmarkSchedulerEndToEnd(b *testing.B) {
	nodes := benchNodeList(benchNodes)
	var elapsed, cpu time.Duration
	var eventsDropped int64
	for b.Loop() {
		b.StopTimer()
		ctx, cancel := context.WithCancel(context.Background())
		scheme, err := builtin.NewScheme()
		require.NoError(b, err)
		kv := memory.New(memory.Options{})
		s, err := store.New(kv, scheme, store.Options{})
		require.NoError(b, err)
		nodeStore, podStore := store.For[*core.Node](s), store.For[*core.Pod](s)
		for _, n := range nodes {
			_, err := nodeStore.Create(ctx, n, store.WriteOptions{})
			require.NoError(b, err)
		}
		for i := range benchInitPods {
			p := benchPod("init", i)
			p.Spec.NodeName = nodes[i%len(nodes)].Name
			_, err := podStore.Create(ctx, p, store.WriteOptions{})
			require.NoError(b, err)
		}
		for i := range benchPods {
			_, err := podStore.Create(ctx, benchPod("pod", i), store.WriteOptions{})
			require.NoError(b, err)
		}
		sched, err := New(s, Options{Seed: 1})
		require.NoError(b, err)
		done := make(chan error, 1)
		b.StartTimer()
		start, cpu0 := time.Now(), cpuTime()
		go func() { done <- sched.Run(ctx) }()
		for {
			n, _ := sched.Stats()
			recorded, written, dropped := sched.EventStats()
			if n >= benchPods && written+dropped >= recorded {
				break
			}
			time.Sleep(time.Millisecond)
		}
		elapsed += time.Since(start)
		cpu += cpuTime() - cpu0
		b.StopTimer()
		snap := &Snapshot{}
		sched.Cache().UpdateSnapshot(snap)
		scheduled, _ := sched.Stats()
		_, _, dropped := sched.EventStats()
		eventsDropped += dropped
		cancel()
		require.NoError(b, <-done)
		kv.Close()
		quality(b, snap, int(scheduled), benchPods)
		b.StartTimer()
	}
	b.ReportMetric(float64(benchPods*b.N)/elapsed.Seconds(), "pods/s")
	b.ReportMetric(float64(benchPods*b.N)/cpu.Seconds(), "pods/cpu-s")
	b.ReportMetric(float64(eventsDropped)/float64(b.N), "events_dropped")
}

// cpuTime is the process's user+system CPU time: on a shared machine it is
// a steadier measure of work than the wall clock.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
