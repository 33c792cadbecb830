// Package proxy is the service load balancer's core: the value types of a
// Service as a datapath sees it (a Frontend — ClusterIP VIP or node address and
// node port, port, TCP or UDP, IPv4 or IPv6 — its Backends with the
// EndpointSlice conditions, ClientIP session affinity), the Datapath port that
// programs them, and Table, the pure desired-state table that datapaths keep of
// what they programmed so that they can be diffed and tested.
//
// Implementations of Datapath:
//   - proxy/ebpf: cilium/ebpf programs on the cgroup socket hooks (connect,
//     sendmsg, recvmsg, getpeername; IPv4 and IPv6) translate a VIP to a backend
//     when the socket connects, so no packet is ever NATed and the cost does not
//     grow with the number of services.
//   - proxy/nftables: DNAT with nftables maps and verdict maps, for machines
//     without eBPF, and for NodePort traffic that arrives from other hosts or
//     network namespaces (the socket hooks only see local sockets).
//   - proxy/datapath: picks one of them with a feature probe and says why.
//
// Semantics every datapath follows:
//   - Only Service.Selected backends get new connections: the ready ones, or, when
//     none is ready, the serving terminating ones. With none, a new connection
//     fails locally (EPERM) instead of leaving the node.
//   - Apply is incremental and ordered; a change to one service never exposes a
//     half-written service: a connection sees the old backends or the new ones.
//     Connections already established keep their backend.
//   - Sync is the full resync, used at start (and after the controller lost
//     track): the datapath diffs its Table against the desired services and
//     applies only the difference.
//
// # Usage
//
//	dp, choice, err := datapath.New(ctx, log, datapath.Options{})
//	if err != nil { return err }
//	defer dp.Close()
//	log.Info("proxy datapath", "kind", choice.Kind, "why", choice.Reason)
//	vip := proxy.Frontend{Addr: netip.MustParseAddr("10.96.0.10"), Port: 53, Protocol: proxy.UDP}
//	err = dp.Apply(ctx, []proxy.ServiceChange{{Service: proxy.Service{
//		Frontend: vip,
//		Backends: []proxy.Backend{{Addr: netip.MustParseAddrPort("10.0.1.5:53"), Ready: true, Serving: true}},
//	}}})
//
// A controller keeps its own Table of desired state, calls Apply with each
// change it observes, and Sync with the whole table once at start.
package proxy
