package store_test

import (
	"context"
	"fmt"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/apis/labels"
	"github.com/gantry-sdk/gantry/store"
	"github.com/gantry-sdk/gantry/store/memory"
)

// Website is a user-defined kind: a plain Go struct, no generated code.
type Website struct {
	apis.TypeMeta   `json:",inline"`
	apis.ObjectMeta `json:"metadata"`
	Spec            WebsiteSpec   `json:"spec"`
	Status          WebsiteStatus `json:"status,omitzero"`
}

type WebsiteSpec struct {
	Domain string `json:"domain"`
}

type WebsiteStatus struct {
	Ready bool `json:"ready,omitempty"`
}

func Example() {
	ctx := context.Background()

	scheme := apis.NewScheme()
	_ = apis.Register[core.Namespace](scheme, apis.Kind[*core.Namespace]{
		GroupVersionKind: apis.GroupVersionKind{Version: "v1", Kind: "Namespace"}, Scope: apis.ClusterScoped})
	_ = apis.Register[Website](scheme, apis.Kind[*Website]{
		GroupVersionKind: apis.GroupVersionKind{Group: "example.com", Version: "v1", Kind: "Website"}})

	kv := memory.New(memory.Options{}) // the embedded backend, here without a directory
	defer kv.Close()
	s, err := store.New(kv, scheme, store.Options{})
	if err != nil {
		panic(err)
	}
	sites := store.For[*Website](s)

	// Watch from the current revision, in the background.
	start, _ := sites.List(ctx, store.ListOptions{})
	wctx, stop := context.WithCancel(ctx)
	events := make(chan string)
	go func() {
		defer close(events)
		for ev, err := range sites.Watch(wctx, store.WatchOptions{Revision: start.Revision}) {
			if err != nil {
				return
			}
			events <- fmt.Sprintf("%s %s generation=%d", ev.Type, ev.Object.Name, ev.Object.Generation)
		}
	}()

	blog, _ := sites.Create(ctx, &Website{
		ObjectMeta: apis.ObjectMeta{Namespace: "default", Name: "blog", Labels: map[string]string{"team": "web"}},
		Spec:       WebsiteSpec{Domain: "blog.example.com"},
	}, store.WriteOptions{})
	fmt.Println(<-events)

	blog.Spec.Domain = "www.example.com"
	blog, _ = sites.Update(ctx, blog, store.WriteOptions{})
	fmt.Println(<-events)

	blog.Status.Ready = true
	_, _ = sites.UpdateStatus(ctx, blog, store.WriteOptions{})
	fmt.Println(<-events)

	_, err = sites.Create(ctx, &Website{ObjectMeta: apis.ObjectMeta{Namespace: "default", Name: "blog"}}, store.WriteOptions{})
	fmt.Println(err)

	team, _ := labels.Parse("team=web")
	list, _ := sites.List(ctx, store.ListOptions{Namespace: "default", Labels: team})
	for _, site := range list.Items {
		fmt.Println(site.Name, site.Spec.Domain, site.Status.Ready)
	}
	stop()
	for range events {
	}

	// Output:
	// ADDED blog generation=1
	// MODIFIED blog generation=2
	// MODIFIED blog generation=2
	// store: already exists: websites.example.com "default/blog"
	// blog www.example.com true
}
