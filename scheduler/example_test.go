package scheduler_test

import (
	"context"
	"fmt"
	"time"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/builtin"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/apis/resource"
	"github.com/gantry-sdk/gantry/scheduler"
	"github.com/gantry-sdk/gantry/store"
	"github.com/gantry-sdk/gantry/store/memory"
)

// PreferZone is a user plugin: it scores nodes labelled zone=<Zone> highest.
type PreferZone struct{ Zone string }

func (PreferZone) Name() string { return "PreferZone" }

func (p PreferZone) Score(_ context.Context, _ *scheduler.CycleState, _ *scheduler.PodInfo, node *scheduler.NodeInfo) (int64, *scheduler.Status) {
	if node.Node.Labels["zone"] == p.Zone {
		return scheduler.MaxNodeScore, nil
	}
	return 0, nil
}

// A user plugin is a type with the extension-point methods it needs (here
// Score), registered by name and enabled in a profile with a weight.
func Example_userPlugin() {
	ctx := context.Background()
	scheme, _ := builtin.NewScheme()
	kv := memory.New(memory.Options{})
	defer kv.Close()
	s, _ := store.New(kv, scheme, store.Options{})

	plugins := append(scheduler.DefaultPlugins(), scheduler.PluginConfig{Name: "PreferZone", Weight: 10})
	sched, err := scheduler.New(s, scheduler.Options{
		Registry: scheduler.Registry{
			"PreferZone": func(any, scheduler.Handle) (scheduler.Plugin, error) { return PreferZone{Zone: "a"}, nil },
		},
		Profiles: []scheduler.ProfileConfig{{SchedulerName: "default-scheduler", Plugins: plugins}},
	})
	if err != nil {
		panic(err)
	}
	nodes := store.For[*core.Node](s)
	for _, z := range []string{"b", "a", "c"} {
		_, _ = nodes.Create(ctx, &core.Node{
			ObjectMeta: apis.ObjectMeta{Name: "node-" + z, Labels: map[string]string{"zone": z}},
			Status: core.NodeStatus{Allocatable: core.ResourceList{
				core.ResourceCPU: resource.MustParse("4"), core.ResourceMemory: resource.MustParse("8Gi"), core.ResourcePods: resource.MustParse("110")}},
		}, store.WriteOptions{})
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error)
	go func() { done <- sched.Run(runCtx) }()

	pods := store.For[*core.Pod](s)
	_, _ = pods.Create(ctx, &core.Pod{
		ObjectMeta: apis.ObjectMeta{Name: "web-0", Namespace: "default"},
		Spec:       core.PodSpec{Containers: []core.Container{{Name: "web", Image: "nginx"}}},
	}, store.WriteOptions{})

	for {
		p, _ := pods.Get(ctx, apis.Key{Namespace: "default", Name: "web-0"}, store.GetOptions{})
		if p.Spec.NodeName != "" {
			fmt.Println("web-0 ->", p.Spec.NodeName)
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	stop()
	<-done
	// Output: web-0 -> node-a
}
