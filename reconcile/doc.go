// Package reconcile runs level-triggered controllers: reconcilers on keys,
// fed by a de-duplicating, delaying, rate-limited work queue that never hands
// one key to two workers at once.
//
// A Reconciler looks at the current state of the object a key names (from an
// informer's cache) and acts to make the world match it. Many changes to one
// object coalesce into one call; errors are retried with per-key exponential
// backoff (5 ms doubling to 1000 s) bounded by an overall token bucket (10
// qps, burst 100); Terminal errors are not retried; panics become errors.
//
// # Usage
//
// Build a controller from a Reconciler (or a Func), tell it where its keys
// come from, and run it:
//
//	c := reconcile.NewController("website", r, reconcile.Options{
//		Workers: 4, Logger: log, Metrics: metrics,
//	})
//	err := c.Watch(
//		reconcile.For[*Website](sites),                // a Website's own key
//		reconcile.Owns[*Page](pages, websiteGVK),      // the controlling Website of a Page
//		reconcile.Watches[*core.ConfigMap](cms, mapFn), // any mapping obj -> keys
//	)
//	err = c.Run(ctx) // waits for the sources to sync; returns when ctx ends
//
// A reconciler returns Result{RequeueAfter: d} to look again later,
// Result{Requeue: true} or an error to retry with backoff, and
// reconcile.Terminal(err) for errors that retrying cannot fix. The context
// it receives carries a logr.Logger with the controller and key
// (logr.FromContextOrDiscard).
//
// The Queue is usable on its own, with any comparable key type:
//
//	q := reconcile.NewQueue[apis.Key](reconcile.QueueOptions{})
//	q.Add(k)             // de-duplicated while waiting
//	q.AddAfter(k, time.Second)
//	q.AddRateLimited(k)  // backoff; q.Forget(k) resets it
//	k, ok := q.Get()     // blocks; ok is false after ShutDown
//	q.Done(k)            // a key added while in flight is handed out again now
//
// Metrics use the upstream names (workqueue_*, controller_runtime_*,
// leader_election_master_status): create them once per registry with
// NewMetrics and pass them in Options. Time comes from an injected Clock, so
// tests run on testing/synctest's fake time or a clock of their own.
package reconcile
