// Package leader elects one leader among replicas through a Lease object in
// the store (coordination.k8s.io/v1), as Kubernetes' components do: the
// holder renews the lease every RetryPeriod; others take it over once it has
// gone unrenewed for LeaseDuration by their own clock; a holder that cannot
// renew within RenewDeadline (shorter than LeaseDuration) steps down first,
// cancelling the context of its work, so two leaders never act at once
// while clocks run at the same rate.
//
// # Usage
//
//	e, err := leader.New(s, apis.Key{Namespace: "kube-system", Name: "my-operator"}, hostname,
//		leader.Callbacks{
//			OnStartedLeading: func(ctx context.Context) { _ = controller.Run(ctx) },
//			OnStoppedLeading: func() { log.Info("lost leadership") },
//		},
//		leader.Options{ReleaseOnCancel: true, Metrics: metrics})
//	err = e.Run(ctx) // returns after leadership ends; call again to re-campaign
//
// Fencing. Stepping down in time relies on clocks; fencing does not. When
// it acquires the lease, the new leader first writes a companion Lease,
// "<name>-fence" (FenceKey), itself fenced on the lease record it just
// acquired, and only then starts its work; the companion changes only when
// leadership does (the lease itself changes on every renewal, so its
// resourceVersion cannot serve). The work's ctx carries the fence; writes
// made with it fail with store.ErrFenced, atomically, once a successor has
// written its own, so no write of a deposed leader lands after any write of
// the next one:
//
//	OnStartedLeading: func(ctx context.Context) {
//		_, err := s.Update(ctx, obj, store.WriteOptions{Fence: leader.FenceFrom(ctx)})
//		if errors.Is(err, store.ErrFenced) { return } // deposed
//	},
//
// Defaults: 15 s lease, 10 s renew deadline, 2 s retry, the real clock.
package leader
