// Package discovery holds the discovery.k8s.io/v1 EndpointSlice: the
// endpoints of a Service (named by the kubernetes.io/service-name label) with
// their ready/serving/terminating conditions, node and zone, and ports.
//
// # Usage
//
//	s := apis.NewScheme()
//	if err := discovery.AddToScheme(s); err != nil { ... }
//	ready := e.Conditions.Ready == nil || *e.Conditions.Ready // nil means ready
package discovery
