// Package informer keeps a typed, indexed, in-memory copy of one kind of
// object from a store.Store and tells handlers about its changes.
//
// An Informer lists the objects at a revision R, then watches from R, so no
// change falls between the two. When the watch breaks, or its revision has
// been compacted away, it lists again and reconciles its cache with the
// list: handlers are told only of real differences, so each sees every
// final state once. Handlers receive real objects, the last known state on
// delete (never a tombstone).
//
// # Usage
//
//	pods := informer.New[*core.Pod](s, informer.Options[*core.Pod]{
//		Indexes: []informer.Index[*core.Pod]{{
//			Name: "node", Func: func(p *core.Pod) []string { return []string{p.Spec.NodeName} },
//		}},
//		// Drop what no consumer reads, to save memory.
//		Transform: func(p *core.Pod) *core.Pod { p.ManagedFields = nil; return p },
//	})
//	pods.AddHandler(informer.HandlerFuncs[*core.Pod]{Add: func(p *core.Pod) { ... }})
//	go pods.Run(ctx)
//	err := pods.WaitForSync(ctx)
//	p, ok := pods.Get(apis.Key{Namespace: "default", Name: "web-0"})
//	onNode, err := pods.ByIndex("node", "n1")
//
// Read your own writes: after a write, WaitForObject(ctx, written) (or
// WaitForRevision with its revision) returns once the cache reflects it.
//
// Consumers of the same kind share one informer through a Factory:
//
//	f := informer.NewFactory(s, informer.FactoryOptions{})
//	pods := informer.Shared[*core.Pod](f)
//	f.Start(ctx)
//	err := f.WaitForSync(ctx)
//
// Cached objects are shared: never modify one; copy it first. Tests can
// hold consumers to that with Options.CheckMutations (or
// FactoryOptions.CheckMutations), then, at the end:
//
//	require.NoError(t, pods.CheckMutations()) // ErrMutated names each modified object
package informer
