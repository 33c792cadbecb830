package reconcile_test

import (
	"context"
	"fmt"
	"time"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/informer"
	"github.com/gantry-sdk/gantry/reconcile"
	"github.com/gantry-sdk/gantry/store"
	"github.com/gantry-sdk/gantry/store/memory"
)

// Website is a user-defined kind: a plain struct, registered in a Scheme.
type Website struct {
	apis.TypeMeta   `json:",inline"`
	apis.ObjectMeta `json:"metadata"`
	Spec            WebsiteSpec `json:"spec"`
}

type WebsiteSpec struct {
	Title string `json:"title"`
}

// Page is the child a Website owns.
type Page struct {
	apis.TypeMeta   `json:",inline"`
	apis.ObjectMeta `json:"metadata"`
	Body            string `json:"body"`
}

var websiteGVK = apis.GroupVersionKind{Group: "example.com", Version: "v1", Kind: "Website"}

// websiteReconciler makes sure every Website has its index Page.
type websiteReconciler struct {
	sites *informer.Informer[*Website]
	pages store.Typed[*Page]
}

func (r websiteReconciler) Reconcile(ctx context.Context, key apis.Key) (reconcile.Result, error) {
	site, ok := r.sites.Get(key)
	if !ok {
		return reconcile.Result{}, nil // deleted: the garbage collector removes its pages
	}
	yes := true
	page := &Page{
		ObjectMeta: apis.ObjectMeta{Namespace: key.Namespace, Name: key.Name + "-index",
			OwnerReferences: []apis.OwnerReference{{APIVersion: "example.com/v1", Kind: "Website",
				Name: site.Name, UID: site.UID, Controller: &yes}}},
		Body: "<h1>" + site.Spec.Title + "</h1>",
	}
	cur, err := r.pages.Get(ctx, apis.KeyOf(page), store.GetOptions{})
	switch {
	case err == nil && cur.Body == page.Body:
		return reconcile.Result{}, nil
	case err == nil:
		cur.Body = page.Body
		_, err = r.pages.Update(ctx, cur, store.WriteOptions{})
	default:
		_, err = r.pages.Create(ctx, page, store.WriteOptions{})
	}
	return reconcile.Result{}, err // errors are retried with backoff
}

// A controller for a user-defined kind that owns children: it reconciles a
// Website when the Website or one of its Pages changes.
func Example() {
	scheme := apis.NewScheme()
	if err := core.AddToScheme(scheme); err != nil { // the built-in kinds, Namespace among them
		panic(err)
	}
	apis.MustRegister[Website](scheme, apis.Kind[*Website]{GroupVersionKind: websiteGVK})
	apis.MustRegister[Page](scheme, apis.Kind[*Page]{
		GroupVersionKind: apis.GroupVersionKind{Group: "example.com", Version: "v1", Kind: "Page"}})
	kv := memory.New(memory.Options{})
	defer kv.Close()
	s, err := store.New(kv, scheme, store.Options{})
	if err != nil {
		panic(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := informer.NewFactory(s, informer.FactoryOptions{})
	sites, pages := informer.Shared[*Website](f), informer.Shared[*Page](f)
	created := make(chan *Page, 1)
	pages.AddHandler(informer.HandlerFuncs[*Page]{Add: func(p *Page) { created <- p }})
	f.Start(ctx)

	c := reconcile.NewController("website", websiteReconciler{sites: sites, pages: store.For[*Page](s)},
		reconcile.Options{Workers: 2})
	_ = c.Watch(reconcile.For[*Website](sites), reconcile.Owns[*Page](pages, websiteGVK))
	done := make(chan error)
	go func() { done <- c.Run(ctx) }()

	_, err = store.For[*Website](s).Create(ctx, &Website{
		ObjectMeta: apis.ObjectMeta{Namespace: "default", Name: "blog"},
		Spec:       WebsiteSpec{Title: "My blog"},
	}, store.WriteOptions{})
	if err != nil {
		panic(err)
	}
	select {
	case p := <-created:
		fmt.Println(p.Name, "owned by", p.OwnerReferences[0].Name+":", p.Body)
	case <-time.After(10 * time.Second):
		fmt.Println("timed out")
	}
	cancel()
	<-done
	f.Wait()
	// Output: blog-index owned by blog: <h1>My blog</h1>
}
