// Package coordination holds the coordination.k8s.io/v1 Lease: node
// heartbeats (kube-node-lease) and leader election. Renew and acquire times
// are apis.MicroTime, so they keep microseconds in JSON.
//
// # Usage
//
//	s := apis.NewScheme()
//	if err := coordination.AddToScheme(s); err != nil { ... }
//	now := apis.MicroTime{Time: clock.Now()}
//	lease.Spec.RenewTime = &now
package coordination
