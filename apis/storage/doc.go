// Package storage holds the storage.k8s.io/v1 StorageClass (cluster-scoped),
// defaulted to reclaimPolicy Delete and volumeBindingMode Immediate.
//
// # Usage
//
//	s := apis.NewScheme()
//	if err := storage.AddToScheme(s); err != nil { ... }
package storage
