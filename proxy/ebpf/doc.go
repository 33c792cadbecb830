// Package ebpf is the eBPF socket load balancer: a proxy.Datapath whose
// programs, attached to a cgroup v2 directory, translate a service address to
// a backend inside the connect(), sendmsg(), recvmsg() and getpeername()
// system calls of the sockets below it, for IPv4 and IPv6. No packet is
// rewritten, no conntrack entry is made, and the cost of a connect is a few
// hash lookups, whatever the number of services.
//
// # Programs
//
// Eight CGroupSockAddr programs: connect4/6 (TCP and connected UDP: a random
// backend per connect), sendmsg4/6 (unconnected UDP: the backend is chosen by
// the socket cookie, so one socket keeps one backend), recvmsg4/6 and
// getpeername4/6 (the application sees the service address as the peer and as
// the source of replies). A service whose Count is 0 makes connect and sendmsg
// fail with EPERM, on the node, at once.
//
// The programs are written with cilium/ebpf's asm package, not C through
// bpf2go: they are small (245-300 instructions for connect and sendmsg, half
// of them the second attempt; 25-37 for recvmsg and getpeername), so they stay
// readable as Go; Go generates the IPv4 and IPv6 variants and the retry path from one
// function instead of C macros; they take the map file descriptors directly;
// and the build needs no clang, no generated object files in the repository
// and no go:generate step, so `go build` and `go test` are all CI runs.
//
// # Maps
//
//   - services (per family, hash): {address, port, protocol} -> {backend set
//     id, backend count, service id, flags, affinity timeout, revision, and up
//     to 4 backends inline}. A backend of weight w takes w slots.
//   - backends (per family, hash): {set id, slot} -> {address, port}, for the
//     services of more than 4 slots.
//   - reverse (per family, LRU): {socket cookie, backend address, port} ->
//     the service address the socket asked for; written at connect/sendmsg.
//   - affinity (LRU): {network namespace cookie, service id} -> {backend, last
//     use (ktime)}. At connect the source address is not chosen yet, so the
//     client of ClientIP affinity is its network namespace: a pod, or the
//     node's own processes.
//   - members (hash): {service id, backend} present while the backend is
//     selected, so that a remembered backend that left is never used again.
//
// # Atomic replacement
//
// A hash-map update replaces an entry whole (readers see the old element or
// the new one), so a service of at most 4 slots, whose backends are inline, is
// replaced atomically by its one update; that is also why programming and
// changing the common small services costs one map entry each. A larger
// changed service gets a fresh set id: its new slots are written first
// (invisible), then the service entry is replaced in one map update, then
// the old slots are deleted. A connect reads the entry once, so it sees the
// old set or the new one, never a mix. A connect that read the old entry just
// before the flip may find its old slot already deleted; it then reads the
// entry again (the programs try twice). Apply batches each step
// (BPF_MAP_UPDATE_BATCH / DELETE_BATCH) over up to 8192 changes.
//
// # NodePort
//
// The socket hooks see only sockets of this node's cgroup, so they translate
// local connects to nodeIP:nodePort but not packets from other hosts or
// network namespaces. Those go through nftables (proxy/nftables with
// ExternalOnly), which proxy/datapath joins to this datapath. nftables rather
// than a tc eBPF program because external NodePort traffic needs stateful
// reverse translation of the replies: conntrack does it, correct for TCP,
// UDP, ICMP errors and fragments, while tc would need our own connection
// table, checksum rewriting and its own expiry; and this path is not the hot
// one the socket hooks exist for (a NodePort connection pays one verdict-map
// lookup, independent of the number of services).
//
// # Usage
//
//	if err := ebpf.Probe(); err != nil { /* errors.Is(err, proxy.ErrUnsupported): use proxy/nftables */ }
//	dp, err := ebpf.New(ebpf.Options{}) // attaches to the cgroup v2 root
//	if err != nil { return err }
//	defer dp.Close() // detaches
//	err = dp.Apply(ctx, []proxy.ServiceChange{{Service: svc}})
//
// Root (or CAP_BPF, CAP_NET_ADMIN and CAP_SYS_ADMIN) is needed. The links die
// with the process; connections already made keep their backend.
package ebpf
