package controller_test

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/apis/discovery"
	"github.com/gantry-sdk/gantry/controllers/serviceip"
	"github.com/gantry-sdk/gantry/informer"
	"github.com/gantry-sdk/gantry/proxy"
	"github.com/gantry-sdk/gantry/proxy/controller"
	"github.com/gantry-sdk/gantry/store"
	"github.com/gantry-sdk/gantry/store/memory"
)

// benchStore is a store holding n ClusterIP Services with one slice of two
// ready endpoints each (written directly: no EndpointSlice controller runs).
func benchStore(b *testing.B, n int) (store.Store, store.Typed[*discovery.EndpointSlice]) {
	b.Helper()
	scheme := apis.NewScheme()
	require.NoError(b, core.AddToScheme(scheme))
	require.NoError(b, discovery.AddToScheme(scheme))
	kv := memory.New(memory.Options{})
	b.Cleanup(func() { _ = kv.Close() })
	alloc, err := serviceip.New(kv, serviceip.Options{CIDR: netip.MustParsePrefix("127.100.0.0/16")})
	require.NoError(b, err)
	s, err := store.New(kv, scheme, store.Options{Mutating: []store.Admitter{alloc}})
	require.NoError(b, err)
	ctx := context.Background()
	svcs, sl := store.For[*core.Service](s), store.For[*discovery.EndpointSlice](s)
	for i := range n {
		v := &core.Service{ObjectMeta: apis.ObjectMeta{Namespace: "default", Name: fmt.Sprintf("s%d", i)}}
		v.Spec.Ports = []core.ServicePort{{Name: "http", Port: 80}}
		_, err := svcs.Create(ctx, v, store.WriteOptions{})
		require.NoError(b, err)
		_, err = sl.Create(ctx, benchSlice(i, true), store.WriteOptions{})
		require.NoError(b, err)
	}
	return s, sl
}

func benchSlice(i int, ready bool) *discovery.EndpointSlice {
	name, port := "http", int32(8080)
	es := &discovery.EndpointSlice{
		ObjectMeta:  apis.ObjectMeta{Namespace: "default", Name: fmt.Sprintf("s%d-0", i), Labels: map[string]string{discovery.LabelServiceName: fmt.Sprintf("s%d", i)}},
		AddressType: discovery.AddressTypeIPv4,
		Ports:       []discovery.EndpointPort{{Name: &name, Port: &port}},
	}
	for j := range 2 {
		r := ready || j == 0
		es.Endpoints = append(es.Endpoints, discovery.Endpoint{
			Addresses:  []string{fmt.Sprintf("10.%d.%d.%d", 1+j, i>>8&255, i&255)},
			Conditions: discovery.EndpointConditions{Ready: &r, Serving: &r, Terminating: new(bool)},
		})
	}
	return es
}

func startController(b *testing.B, s store.Store, applied chan int) func() {
	dp, _ := newDatapath(b)
	return runController(b, dp, s, applied)
}

func runController(b *testing.B, dp proxy.Datapath, s store.Store, applied chan int) func() {
	ctx, cancel := context.WithCancel(context.Background())
	f := informer.NewFactory(s, informer.FactoryOptions{})
	pc, err := controller.New(dp, f, controller.Options{OnApplied: func(n int) { applied <- n }})
	require.NoError(b, err)
	f.Start(ctx)
	done := make(chan error, 1)
	go func() { done <- pc.Run(ctx) }()
	return func() { cancel(); <-done; f.Wait() }
}

// BenchmarkChangeToApplied: an EndpointSlice write in the store (one
// endpoint turning unready or ready) until the datapath has applied it, with
// 1000 services programmed. Reports the p50 and p99 latency.
func BenchmarkChangeToApplied(b *testing.B) {
	const n = 1000
	s, sl := benchStore(b, n)
	applied := make(chan int, 16)
	stop := startController(b, s, applied)
	defer stop()
	<-applied // the initial Sync
	ctx := context.Background()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		es, err := sl.Get(ctx, apis.Key{Namespace: "default", Name: fmt.Sprintf("s%d-0", i%n)}, store.GetOptions{})
		require.NoError(b, err)
		r := !*es.Endpoints[1].Conditions.Ready
		es.Endpoints[1].Conditions.Ready, es.Endpoints[1].Conditions.Serving = &r, &r
		t0 := time.Now()
		_, err = sl.Update(ctx, es, store.WriteOptions{})
		require.NoError(b, err)
		<-applied
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkProgram10k: a controller starting over 10k Services (each with a
// slice of two endpoints) until its Sync has programmed them all. "cold"
// includes the informers' initial lists of the 20k objects; "warm" starts
// with the informers synced, so it is the controller's own cost: the slice
// index, the frontends of every Service and the datapath's Sync.
func BenchmarkProgram10k(b *testing.B) {
	s, _ := benchStore(b, 10000)
	for _, warm := range []bool{false, true} {
		b.Run(map[bool]string{false: "cold", true: "warm"}[warm], func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				dp, _ := newDatapath(b)
				ctx, cancel := context.WithCancel(context.Background())
				f := informer.NewFactory(s, informer.FactoryOptions{})
				if warm {
					informer.Shared[*core.Service](f)
					informer.Shared[*discovery.EndpointSlice](f)
					f.Start(ctx)
					require.NoError(b, f.WaitForSync(ctx))
				}
				applied := make(chan int, 16)
				b.StartTimer()
				pc, err := controller.New(dp, f, controller.Options{OnApplied: func(n int) { applied <- n }})
				require.NoError(b, err)
				f.Start(ctx)
				done := make(chan error, 1)
				go func() { done <- pc.Run(ctx) }()
				n := <-applied
				b.StopTimer()
				require.Equal(b, 10000, n)
				cancel()
				<-done
				f.Wait()
				require.NoError(b, dp.Close())
				b.StartTimer()
			}
		})
	}
}
