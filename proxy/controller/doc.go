// Package controller is the proxy controller: it watches Services and
// EndpointSlices (informers) and programs a proxy.Datapath with them.
//
// Each Service key is reconciled into its frontends: ClusterIP:port for every
// TCP or UDP port, and, for type NodePort (and LoadBalancer with node ports),
// nodeAddress:nodePort for every address in Options.NodeAddrs. A frontend's
// backends are the endpoints of the Service's slices (label
// kubernetes.io/service-name) with the slice port of the same name and
// protocol; only endpoints that can take new connections are passed (ready
// ones, and serving terminating ones that proxy.Service.Selected falls back
// to), so an unready pod leaves the rotation. sessionAffinity ClientIP is
// passed with its timeoutSeconds. Headless and ExternalName Services, and
// Services without a cluster IP yet, have no frontends.
//
// Changes are incremental: the controller remembers the frontends it
// programmed per Service key and Applies only the difference (upserts of
// changed frontends, deletes of vanished ones), in one batch per key. The
// full Sync runs once, when Run starts, after the informers have synced; a
// failed Apply is retried with the reconcile queue's backoff (the datapath
// keeps what it applied, and the retry re-sends the difference).
//
// # Usage
//
//	dp, _, err := datapath.New(ctx, log, datapath.Options{})
//	f := informer.NewFactory(s, informer.FactoryOptions{})
//	c, err := controller.New(dp, f, controller.Options{NodeAddrs: []netip.Addr{nodeIP}, Logger: log})
//	f.Start(ctx)
//	err = c.Run(ctx) // Sync, then incremental Apply until ctx ends
package controller
