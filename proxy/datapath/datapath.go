package datapath

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-logr/logr"

	"github.com/gantry-sdk/gantry/proxy"
	"github.com/gantry-sdk/gantry/proxy/ebpf"
	"github.com/gantry-sdk/gantry/proxy/nftables"
)

// Kind names a datapath.
type Kind string

const (
	// EBPF: the socket load balancer of proxy/ebpf, with nftables for NodePort
	// traffic from outside the node.
	EBPF Kind = "ebpf"
	// NFTables: the fallback, nftables DNAT for everything.
	NFTables Kind = "nftables"
)

// Options tunes New. The zero value probes and picks.
type Options struct {
	// Force picks a kind instead of probing ("" probes).
	Force Kind
	EBPF  ebpf.Options
	// NFTables configures the fallback, and with eBPF the table for external
	// NodePort traffic (whose ExternalOnly is then set).
	NFTables nftables.Options
}

// Choice says which datapath New built and why.
type Choice struct {
	Kind   Kind
	Reason string
}

// New builds the best datapath this machine supports: eBPF when Probe passes,
// else nftables; it logs one line saying which and why.
func New(ctx context.Context, log logr.Logger, opts Options) (proxy.Datapath, Choice, error) {
	opts.EBPF.Log, opts.NFTables.Log = log, log
	probe := ebpf.Probe()
	var ch Choice
	switch {
	case opts.Force == EBPF:
		if probe != nil {
			return nil, Choice{}, fmt.Errorf("datapath: ebpf forced: %w", probe)
		}
		ch = Choice{EBPF, "forced"}
	case opts.Force == NFTables:
		ch = Choice{NFTables, "forced"}
	case opts.Force != "":
		return nil, Choice{}, fmt.Errorf("%w: datapath: unknown kind %q", proxy.ErrInvalid, opts.Force)
	case probe == nil:
		ch = Choice{EBPF, "eBPF socket-address programs and helpers available"}
	default:
		ch = Choice{NFTables, "eBPF unavailable: " + probe.Error()}
	}
	if ch.Kind == NFTables {
		dp, err := nftables.New(ctx, opts.NFTables)
		if err != nil {
			return nil, ch, err
		}
		log.Info("proxy datapath selected", "kind", ch.Kind, "reason", ch.Reason)
		return dp, ch, nil
	}
	local, err := ebpf.New(opts.EBPF)
	if err != nil {
		return nil, ch, err
	}
	ext := opts.NFTables
	ext.ExternalOnly = true
	external, err := nftables.New(ctx, ext)
	if err != nil {
		if !errors.Is(err, proxy.ErrUnsupported) {
			_ = local.Close()
			return nil, ch, err
		}
		log.Info("proxy datapath selected", "kind", ch.Kind, "reason", ch.Reason,
			"nodePortFromOutside", false, "why", err.Error())
		return local, ch, nil
	}
	log.Info("proxy datapath selected", "kind", ch.Kind, "reason", ch.Reason, "nodePortFromOutside", "nftables")
	return &joined{local: local, external: external}, ch, nil
}

// joined programs every change into both datapaths: the eBPF one translates
// local sockets, the nftables one (ExternalOnly) NodePort packets from outside.
// Each keeps its own Table, so when the second fails after the first applied,
// the caller's retry (or Sync) is a no-op for the first and completes the second.
type joined struct {
	local    *ebpf.Datapath
	external *nftables.Datapath
}

func (j *joined) Apply(ctx context.Context, changes []proxy.ServiceChange) error {
	if err := j.local.Apply(ctx, changes); err != nil {
		return err
	}
	return j.external.Apply(ctx, changes)
}

func (j *joined) Sync(ctx context.Context, services []proxy.Service) error {
	if err := j.local.Sync(ctx, services); err != nil {
		return err
	}
	return j.external.Sync(ctx, services)
}

func (j *joined) Close() error {
	return errors.Join(j.local.Close(), j.external.Close())
}

// Table returns what the eBPF datapath programmed.
func (j *joined) Table() *proxy.Table { return j.local.Table() }
