// Package nftables is the fallback proxy.Datapath for machines without eBPF,
// and the NodePort path for traffic from outside the node: DNAT in netfilter,
// programmed through sigs.k8s.io/knftables (the nft command) in one inet table
// that the datapath owns.
//
// The layout follows nftables' own idioms, so a lookup costs the same with 10
// or 100,000 services:
//   - map svc4/svc6: {daddr . l4proto . dport} -> goto svc-<id>, consulted by
//     nat chains at prerouting (packets from outside) and output (local
//     sockets; not with Options.ExternalOnly).
//   - chain svc-<id>: with ClientIP affinity, `ip saddr @aff-… goto ep-…` for
//     each backend, then `numgen random mod N vmap {slot: goto ep-…}`.
//   - chain ep-<id>-<backend>: records the client in its affinity set (dynamic,
//     with the timeout), then `dnat to backend`.
//   - set noep4/noep6: services without backends; local connects are rejected
//     with admin-prohibited (EHOSTUNREACH), packets from outside with a reject.
//
// Every Apply is one nft transaction, so a service is never half-written and a
// failed Apply changes nothing. Conntrack gives replies the service address as
// their source. Packets from outside that go to a backend on another host are
// not masqueraded: the node must route the replies back.
//
// # Usage
//
//	dp, err := nftables.New(ctx, nftables.Options{}) // table inet gantry-proxy
//	if err != nil { return err }
//	defer dp.Close() // deletes the table
//	err = dp.Apply(ctx, []proxy.ServiceChange{{Service: svc}})
package nftables
