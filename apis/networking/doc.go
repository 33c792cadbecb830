// Package networking holds the networking.k8s.io/v1 kinds Ingress and
// IngressClass (cluster-scoped), with validation of hosts, paths and
// backends.
//
// # Usage
//
//	s := apis.NewScheme()
//	if err := networking.AddToScheme(s); err != nil { ... }
//	k, _ := s.ByResource("ing") // networking.k8s.io/v1 Ingress
package networking
