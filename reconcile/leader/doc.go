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
// Defaults: 15 s lease, 10 s renew deadline, 2 s retry, the real clock.
package leader
