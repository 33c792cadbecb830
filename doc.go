// Package gantry is a Go SDK of composable control-plane building blocks: the
// parts of Kubernetes (object store, watch cache, controllers, scheduler, node
// agent, service load balancer) as importable packages that a platform team
// assembles into its own orchestrator, embeds in its tests, or runs as the
// reference cluster in examples/.
//
// The root package holds only this documentation; the blocks live in
// sub-packages:
//
//	manifests / kubectl / client code
//	         │  HTTP, Kubernetes REST conventions
//	         ▼
//	apiserver ── authn → authz → admission
//	         │
//	         ▼
//	store.Store ── object semantics: uid, resourceVersion, generation, finalizers,
//	         │      namespaces, selectors, status subresource, admission
//	         ▼
//	store.KV ── revisioned key/value + watch from revision + compaction
//	   ├─ store/memory : embedded default (in-memory MVCC + write-ahead log)
//	   └─ store/etcd   : the same contract on a real etcd cluster
//
//	store.Store ─► informer.Informer[T] ─► reconcile.Controller
//	                                         │
//	     controllers/*   scheduler   kubelet (containerd)   proxy (eBPF)
//
// Package apis holds the object model: TypeMeta, ObjectMeta, the Scheme (kind
// registry, including user-defined kinds as plain Go structs), codecs, label
// and field selectors; apis/core, apis/apps and the other group packages hold
// the Kubernetes kinds with their validation and defaulting.
//
// # Usage
//
// An embedded, durable store with the built-in kinds, and a typed view of it:
//
//	scheme, _ := builtin.NewScheme()
//	kv, _ := memory.Open("/var/lib/gantry", memory.Options{})
//	defer kv.Close()
//	s, _ := store.New(kv, scheme, store.Options{})
//	deployments := store.For[*apps.Deployment](s)
//	d, err := deployments.Create(ctx, myDeployment, store.WriteOptions{})
//	for ev, err := range deployments.Watch(ctx, store.WatchOptions{Revision: rev}) { ... }
//
// See README.md and docs/ARCHITECTURE.md.
package gantry
