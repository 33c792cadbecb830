// Package informer keeps a typed, indexed, in-memory copy of one kind of
// object from a store.Store and tells handlers about its changes.
package informer
