// Command quickstart shows Gantry's foundation at work: it opens the embedded,
// durable store in a directory, applies the manifests shipped beside it
// (a Deployment, a Service, a ConfigMap and a Pod), lists them with selectors,
// watches changes, and reopens the store to show that everything survived.
//
//	go run ./examples/quickstart              # data in a fresh temporary directory
//	go run ./examples/quickstart -dir ./data  # data kept in ./data (run it twice)
package main

import (
	"context"
	"embed"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"time"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/apps"
	"github.com/gantry-sdk/gantry/apis/builtin"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/apis/labels"
	"github.com/gantry-sdk/gantry/store"
	"github.com/gantry-sdk/gantry/store/memory"
)

//go:embed manifests/*.yaml
var manifests embed.FS

func main() {
	dir := flag.String("dir", "", "directory of the durable store (default: a new temporary directory)")
	flag.Parse()
	if err := run(context.Background(), *dir); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, dir string) error {
	if dir == "" {
		tmp, err := os.MkdirTemp("", "gantry-quickstart-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	scheme, err := builtin.NewScheme()
	if err != nil {
		return err
	}

	kv, err := memory.Open(dir, memory.Options{})
	if err != nil {
		return err
	}
	s, err := store.New(kv, scheme, store.Options{})
	if err != nil {
		kv.Close()
		return err
	}
	fmt.Printf("opened the durable store in %s at revision %d\n", dir, kv.Revision())

	// Watch the pods in "default" from now on, in the background.
	watchCtx, stopWatching := context.WithCancel(ctx)
	defer stopWatching()
	events := make(chan store.TypedEvent[*core.Pod], 64)
	go watchPods(watchCtx, s, kv.Revision(), events)

	// Apply every manifest: create, or update what is already there.
	codec := apis.Codec{Scheme: scheme}
	files, _ := fs.Glob(manifests, "manifests/*.yaml")
	for _, name := range files {
		data, _ := manifests.ReadFile(name)
		objs, warnings, err := codec.DecodeAll(data)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		for _, w := range warnings {
			fmt.Printf("  warning: %s: %s\n", name, w)
		}
		for _, obj := range objs {
			if err := apply(ctx, s, obj); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		}
	}

	// A bad write is refused with the field at fault, and changes nothing.
	bad := &core.Service{ObjectMeta: apis.ObjectMeta{Name: "Bad_Name", Namespace: "default"}}
	if _, err := store.For[*core.Service](s).Create(ctx, bad, store.WriteOptions{}); errors.Is(err, store.ErrInvalid) {
		fmt.Printf("refused: %v\n", err)
	}

	// Pods are simulated here: a node agent would create them from the Deployment.
	pods := store.For[*core.Pod](s)
	for i := range 2 {
		p := &core.Pod{
			ObjectMeta: apis.ObjectMeta{Name: fmt.Sprintf("gobackend-%d", i), Namespace: "default", Labels: map[string]string{"app": "gobackend"}},
			Spec:       core.PodSpec{Containers: []core.Container{{Name: "goback", Image: "ccr.ccs.tencentyun.com/lisa/go:v1"}}},
		}
		if _, err := pods.Create(ctx, p, store.WriteOptions{}); err != nil && !errors.Is(err, store.ErrAlreadyExists) {
			return err
		}
	}
	sel, err := labels.Parse("app=gobackend")
	if err != nil {
		return err
	}
	list, err := pods.List(ctx, store.ListOptions{Namespace: "default", Labels: sel})
	if err != nil {
		return err
	}
	fmt.Printf("pods matching %q at revision %d:\n", sel, list.Revision)
	for _, p := range list.Items {
		fmt.Printf("  %-22s rv=%-4s imagePullPolicy=%s restartPolicy=%s\n", p.Name, p.ResourceVersion, p.Spec.Containers[0].ImagePullPolicy, p.Spec.RestartPolicy)
	}

	// Scale the Deployment: generation moves, because the spec changed.
	deployments := store.For[*apps.Deployment](s)
	d, err := deployments.Get(ctx, apis.Key{Namespace: "default", Name: "test-k8s-backend"}, store.GetOptions{})
	if err != nil {
		return err
	}
	replicas := *d.Spec.Replicas + 1
	d.Spec.Replicas = &replicas
	if d, err = deployments.Update(ctx, d, store.WriteOptions{}); err != nil {
		return err
	}
	fmt.Printf("scaled %s to %d replicas: generation %d, resourceVersion %s\n", d.Name, *d.Spec.Replicas, d.Generation, d.ResourceVersion)

	// A stale write loses: optimistic concurrency.
	d.ResourceVersion = "1"
	if _, err := deployments.Update(ctx, d, store.WriteOptions{}); errors.Is(err, store.ErrConflict) {
		fmt.Printf("stale update refused: %v\n", err)
	}

	if _, err := pods.Delete(ctx, apis.Key{Namespace: "default", Name: "gobackend-1"}, store.DeleteOptions{}); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	fmt.Println("the watcher saw:")
	for last := kv.Revision(); ; {
		select {
		case ev, ok := <-events:
			if !ok {
				return errors.New("the watch ended early")
			}
			fmt.Printf("  %-8s pod %s at revision %d\n", ev.Type, ev.Object.Name, ev.Revision)
			if ev.Revision < last {
				continue
			}
		case <-time.After(5 * time.Second):
			return errors.New("the watch fell behind")
		}
		break
	}
	stopWatching()

	rev := kv.Revision()
	if err := kv.Close(); err != nil {
		return err
	}

	// Reopen: every acknowledged write is there.
	kv, err = memory.Open(dir, memory.Options{})
	if err != nil {
		return err
	}
	defer kv.Close()
	if s, err = store.New(kv, scheme, store.Options{}); err != nil {
		return err
	}
	fmt.Printf("reopened at revision %d (closed at %d); stored objects:\n", kv.Revision(), rev)
	for _, k := range scheme.Kinds() {
		l, err := s.List(ctx, k.GVK, store.ListOptions{})
		if err != nil {
			return err
		}
		names := make([]string, 0, len(l.Items))
		for _, o := range l.Items {
			names = append(names, apis.KeyOf(o).String())
		}
		sort.Strings(names)
		if len(names) > 0 {
			fmt.Printf("  %-12s %v\n", k.GVK.Kind, names)
		}
	}
	return nil
}

// apply creates obj, or updates it when it exists (as kubectl apply does for
// a manifest that has no resourceVersion).
func apply(ctx context.Context, s store.Store, obj apis.Object) error {
	if obj.Meta().Namespace == "" {
		if k, err := s.Scheme().KindOf(obj); err == nil && k.Namespaced() {
			obj.Meta().Namespace = core.NamespaceDefault
		}
	}
	created, err := s.Create(ctx, obj, store.WriteOptions{})
	verb := "created"
	if errors.Is(err, store.ErrAlreadyExists) {
		created, err = s.Update(ctx, obj, store.WriteOptions{})
		verb = "updated"
	}
	if err != nil {
		return err
	}
	m := created.Meta()
	fmt.Printf("%s %s %s (uid %.8s, resourceVersion %s, generation %d)\n", verb, created.Type().Kind, apis.KeyOf(created), m.UID, m.ResourceVersion, m.Generation)
	return nil
}

// watchPods sends the pod events in namespace default after rev until ctx ends.
func watchPods(ctx context.Context, s store.Store, rev int64, out chan<- store.TypedEvent[*core.Pod]) {
	defer close(out)
	for ev, err := range store.For[*core.Pod](s).Watch(ctx, store.WatchOptions{Namespace: "default", Revision: rev}) {
		if err != nil {
			if ctx.Err() == nil {
				fmt.Fprintln(os.Stderr, "watch ended:", err)
			}
			return
		}
		select {
		case out <- ev:
		case <-ctx.Done():
			return
		}
	}
}
