// Package endpointslice is the EndpointSlice controller: for every Service
// with a selector it keeps EndpointSlices listing the pods of the Service's
// namespace that the selector matches, with their readiness, so that proxies
// (proxy/controller) know where to send traffic.
//
// Each slice has addressType IPv4, at most MaxEndpointsPerSlice endpoints,
// the label kubernetes.io/service-name, the managed-by label, and an owner
// reference to its Service (controller=true). An endpoint is one pod with a
// status.podIP: conditions ready (pod Ready and not being deleted), serving
// (pod Ready) and terminating (deletionTimestamp set), nodeName and a
// targetRef to the pod. Ports are the Service's ports with targetPort
// resolved against the pod's container ports (named ports too); pods that
// resolve to different port numbers go to different slices. Terminal pods
// (Succeeded, Failed) and pods without an IP are left out;
// spec.publishNotReadyAddresses marks every endpoint ready.
//
// Slices are named deterministically (<service>-<hash of the ports>-<n>), so
// a reconcile computes the wanted set and creates, updates (only when
// something changed) and deletes to reach it. When the Service is gone, loses
// its selector or becomes ExternalName, its managed slices are deleted here
// (Gantry has no garbage collector yet; the owner references are there for
// one).
//
// # Usage
//
//	f := informer.NewFactory(s, informer.FactoryOptions{})
//	c, err := endpointslice.New(s, f, endpointslice.Options{Logger: log})
//	f.Start(ctx)
//	err = c.Run(ctx) // returns when ctx ends
package endpointslice
