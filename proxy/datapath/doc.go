// Package datapath builds the service load balancer this machine supports and
// says why: eBPF (proxy/ebpf) when the feature probe passes, joined with
// nftables (proxy/nftables, ExternalOnly) for NodePort traffic from outside;
// otherwise nftables for everything. The choice is logged as one line:
//
//	"proxy datapath selected" kind=ebpf reason="eBPF socket-address programs and helpers available" nodePortFromOutside=nftables
//	"proxy datapath selected" kind=nftables reason="eBPF unavailable: proxy: datapath unsupported: ebpf: program type CGroupSockAddr: ..."
//
// # Usage
//
//	dp, choice, err := datapath.New(ctx, log, datapath.Options{})
//	if err != nil { return err }
//	defer dp.Close()
//	_ = choice.Kind // datapath.EBPF or datapath.NFTables
package datapath
