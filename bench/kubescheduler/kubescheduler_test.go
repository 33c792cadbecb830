// Package kubescheduler measures kube-scheduler (k8s.io/kubernetes v1.36.3)
// on the workload of Gantry's scheduler benchmarks, with a fake clientset:
// 5,000 nodes (4 cpu, 32 GiB, 110 pods), 1,000 running pods, 10,000 pods of
// 100m cpu and 500 MiB to place, default profile. It is its own module so
// that Gantry does not depend on Kubernetes.
package kubescheduler

import (
	"context"
	"fmt"
	"math"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic/dynamicinformer"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/events"
	"k8s.io/kubernetes/pkg/scheduler"
	"k8s.io/kubernetes/pkg/scheduler/profile"
)

const (
	numNodes    = 5000
	numInitPods = 1000
	numPods     = 10000
)

func node(i int) *v1.Node {
	alloc := v1.ResourceList{
		v1.ResourceCPU: resource.MustParse("4"), v1.ResourceMemory: resource.MustParse("32Gi"), v1.ResourcePods: resource.MustParse("110"),
	}
	name := fmt.Sprintf("node-%05d", i)
	return &v1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
			v1.LabelHostname: name, v1.LabelTopologyZone: fmt.Sprintf("zone-%d", i%3)}},
		Status: v1.NodeStatus{Capacity: alloc, Allocatable: alloc,
			Conditions: []v1.NodeCondition{{Type: v1.NodeReady, Status: v1.ConditionTrue}}},
	}
}

func pod(prefix string, i int) *v1.Pod {
	return &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%05d", prefix, i), Namespace: "default", UID: types.UID("uid-" + prefix + fmt.Sprint(i))},
		Spec: v1.PodSpec{
			SchedulerName: v1.DefaultSchedulerName,
			Containers: []v1.Container{{Name: "c", Image: "busybox", Resources: v1.ResourceRequirements{Requests: v1.ResourceList{
				v1.ResourceCPU: resource.MustParse("100m"), v1.ResourceMemory: resource.MustParse("500Mi")}}}},
		},
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkKubeScheduler(b *testing.B) {
	var elapsed, cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		ctx, cancel := context.WithCancel(context.Background())
		// Every object is loaded into the fake clientset up front (creating
		// 16,000 objects through it one by one is far slower than scheduling).
		objs := make([]runtime.Object, 0, numNodes+numInitPods+numPods)
		for i := range numNodes {
			objs = append(objs, node(i))
		}
		for i := range numInitPods {
			p := pod("init", i)
			p.Spec.NodeName = fmt.Sprintf("node-%05d", i%numNodes)
			objs = append(objs, p)
		}
		for i := range numPods {
			objs = append(objs, pod("pod", i))
		}
		client := fake.NewSimpleClientset(objs...) //nolint:staticcheck // NewClientset tracks managed fields: far slower

		var bound atomic.Int64
		used := make(map[string]int64) // node -> milli-cpu, for balance
		usedMem := make(map[string]int64)
		client.PrependReactor("create", "pods", func(action clienttesting.Action) (bool, runtime.Object, error) {
			ca, ok := action.(clienttesting.CreateAction)
			if !ok || action.GetSubresource() != "binding" {
				return false, nil, nil
			}
			binding := ca.GetObject().(*v1.Binding)
			obj, err := client.Tracker().Get(v1.SchemeGroupVersion.WithResource("pods"), binding.Namespace, binding.Name)
			if err != nil {
				return true, nil, err
			}
			p := obj.(*v1.Pod).DeepCopy()
			p.Spec.NodeName = binding.Target.Name
			if err := client.Tracker().Update(v1.SchemeGroupVersion.WithResource("pods"), p, p.Namespace); err != nil {
				return true, nil, err
			}
			bound.Add(1)
			return true, binding, nil
		})
		informerFactory := scheduler.NewInformerFactory(client, 0)
		dyn := dynamicinformer.NewDynamicSharedInformerFactory(dynamicfake.NewSimpleDynamicClient(runtime.NewScheme()), 0)
		broadcaster := events.NewBroadcaster(&events.EventSinkImpl{Interface: client.EventsV1()})
		sched, err := scheduler.New(ctx, client, informerFactory, dyn, profile.NewRecorderFactory(broadcaster))
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start, cpu0 := time.Now(), cpuTime()
		broadcaster.StartRecordingToSink(ctx.Done())
		informerFactory.Start(ctx.Done())
		dyn.Start(ctx.Done())
		informerFactory.WaitForCacheSync(ctx.Done())
		dyn.WaitForCacheSync(ctx.Done())
		go sched.Run(ctx)
		for bound.Load() < numPods {
			time.Sleep(time.Millisecond)
		}
		elapsed += time.Since(start)
		cpu += cpuTime() - cpu0
		b.StopTimer()
		all, _ := client.Tracker().List(v1.SchemeGroupVersion.WithResource("pods"), v1.SchemeGroupVersion.WithKind("Pod"), "default")
		for _, p := range all.(*v1.PodList).Items {
			q := p.Spec.Containers[0].Resources.Requests
			used[p.Spec.NodeName] += q.Cpu().MilliValue()
			usedMem[p.Spec.NodeName] += q.Memory().Value()
		}
		var sc, sc2, sm, sm2 float64
		for i := range numNodes {
			n := fmt.Sprintf("node-%05d", i)
			c := float64(used[n]) / 4000
			m := float64(usedMem[n]) / float64(32<<30)
			sc, sc2, sm, sm2 = sc+c, sc2+c*c, sm+m, sm2+m*m
		}
		nn := float64(numNodes)
		b.ReportMetric(float64(bound.Load())/numPods, "placed_frac")
		b.ReportMetric(math.Sqrt(sc2/nn-(sc/nn)*(sc/nn)), "cpu_util_stddev")
		b.ReportMetric(math.Sqrt(sm2/nn-(sm/nn)*(sm/nn)), "mem_util_stddev")
		cancel()
		broadcaster.Shutdown()
		b.StartTimer()
	}
	b.ReportMetric(float64(numPods*b.N)/elapsed.Seconds(), "pods/s")
	b.ReportMetric(float64(numPods*b.N)/cpu.Seconds(), "pods/cpu-s")
}
