package controller

import (
	"cmp"
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/go-logr/logr"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/apis/discovery"
	"github.com/gantry-sdk/gantry/informer"
	"github.com/gantry-sdk/gantry/proxy"
	"github.com/gantry-sdk/gantry/reconcile"
)

// ControllerName names the reconcile.Controller (logs, metrics).
const ControllerName = "proxy"

const sliceIndex = "proxy-service" // slices by "namespace/service"

// Options tune the controller. The zero value works (no NodePort frontends).
type Options struct {
	// NodeAddrs are the node's addresses that NodePort frontends listen on.
	NodeAddrs []netip.Addr
	Logger    logr.Logger
	Metrics   *reconcile.Metrics
	// OnApplied, when set, is called after each successful Apply or Sync
	// with the number of changes (benchmarks and tests use it).
	OnApplied func(changes int)
}

// Controller programs a Datapath from Services and EndpointSlices.
type Controller struct {
	dp       proxy.Datapath
	services *informer.Informer[*core.Service]
	slices   *informer.Informer[*discovery.EndpointSlice]
	opts     Options
	c        *reconcile.Controller

	mu         sync.Mutex
	programmed map[apis.Key][]proxy.Service // per Service key, what the datapath holds
}

// New builds the controller on the factory's shared Service and
// EndpointSlice informers; start the factory and call Run.
func New(dp proxy.Datapath, f *informer.Factory, opts Options) (*Controller, error) {
	c := &Controller{
		dp:         dp,
		services:   informer.Shared[*core.Service](f),
		slices:     informer.Shared[*discovery.EndpointSlice](f),
		opts:       opts,
		programmed: map[apis.Key][]proxy.Service{},
	}
	if err := c.slices.AddIndex(informer.Index[*discovery.EndpointSlice]{Name: sliceIndex, Func: func(es *discovery.EndpointSlice) []string {
		if name, ok := es.Labels[discovery.LabelServiceName]; ok {
			return []string{es.Namespace + "/" + name}
		}
		return nil
	}}); err != nil {
		return nil, fmt.Errorf("proxy controller: index slices: %w", err)
	}
	// One worker: Apply batches reach the datapath in the order they were computed.
	c.c = reconcile.NewController(ControllerName, c, reconcile.Options{Workers: 1, Logger: opts.Logger, Metrics: opts.Metrics})
	err := c.c.Watch(
		reconcile.For(c.services),
		reconcile.Watches(c.slices, func(es *discovery.EndpointSlice) []apis.Key {
			if name, ok := es.Labels[discovery.LabelServiceName]; ok {
				return []apis.Key{{Namespace: es.Namespace, Name: name}}
			}
			return nil
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("proxy controller: %w", err)
	}
	return c, nil
}

// Run waits for the informers, programs the full state with one Sync, then
// applies changes incrementally until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	if err := c.services.WaitForSync(ctx); err != nil {
		return err
	}
	if err := c.slices.WaitForSync(ctx); err != nil {
		return err
	}
	if err := c.syncAll(ctx); err != nil {
		return err
	}
	return c.c.Run(ctx)
}

func (c *Controller) syncAll(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	all := map[apis.Key][]proxy.Service{}
	var flat []proxy.Service
	for _, svc := range c.services.List() {
		fs := c.frontends(svc)
		if len(fs) > 0 {
			all[apis.KeyOf(svc)] = fs
			flat = append(flat, fs...)
		}
	}
	for attempt := 0; ; attempt++ {
		err := c.dp.Sync(ctx, flat)
		if err == nil {
			break
		}
		c.opts.Logger.Error(err, "proxy: initial sync failed; retrying", "attempt", attempt)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(min(time.Duration(1<<min(attempt, 6))*50*time.Millisecond, 5*time.Second)):
		}
	}
	c.programmed = all
	if c.opts.OnApplied != nil {
		c.opts.OnApplied(len(flat))
	}
	c.opts.Logger.Info("proxy: datapath synced", "services", len(all), "frontends", len(flat))
	return nil
}

// Reconcile applies the difference between what the datapath holds for one
// Service key and what the Service and its slices want now.
func (c *Controller) Reconcile(ctx context.Context, key apis.Key) (reconcile.Result, error) {
	var want []proxy.Service
	if svc, ok := c.services.Get(key); ok {
		want = c.frontends(svc)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	changes := diff(c.programmed[key], want)
	if len(changes) == 0 {
		return reconcile.Result{}, nil
	}
	if err := c.dp.Apply(ctx, changes); err != nil {
		return reconcile.Result{}, fmt.Errorf("proxy: apply %s: %w", key, err)
	}
	if len(want) == 0 {
		delete(c.programmed, key)
	} else {
		c.programmed[key] = want
	}
	if c.opts.OnApplied != nil {
		c.opts.OnApplied(len(changes))
	}
	return reconcile.Result{}, nil
}

// diff is the changes that turn have into want: upserts first (so a
// frontend moving between backends never disappears), then deletes.
func diff(have, want []proxy.Service) []proxy.ServiceChange {
	var out []proxy.ServiceChange
	old := make(map[proxy.Frontend]proxy.Service, len(have))
	for _, s := range have {
		old[s.Frontend] = s
	}
	keep := make(map[proxy.Frontend]bool, len(want))
	for _, s := range want {
		keep[s.Frontend] = true
		if o, ok := old[s.Frontend]; ok && o.Equal(s) {
			continue
		}
		out = append(out, proxy.ServiceChange{Op: proxy.Upsert, Service: s})
	}
	for _, s := range have {
		if !keep[s.Frontend] {
			out = append(out, proxy.ServiceChange{Op: proxy.Delete, Service: proxy.Service{Frontend: s.Frontend}})
		}
	}
	return out
}

func protocolOf(p core.Protocol) (proxy.Protocol, bool) {
	switch cmp.Or(p, core.ProtocolTCP) {
	case core.ProtocolTCP:
		return proxy.TCP, true
	case core.ProtocolUDP:
		return proxy.UDP, true
	}
	return 0, false
}

// frontends is what a Service programs, sorted by frontend.
func (c *Controller) frontends(svc *core.Service) []proxy.Service {
	if svc.IsHeadless() || svc.Spec.Type == core.ServiceTypeExternalName {
		return nil
	}
	vip, err := netip.ParseAddr(svc.Spec.ClusterIP)
	if err != nil {
		return nil
	}
	vip = vip.Unmap()
	var aff proxy.Affinity
	if svc.Spec.SessionAffinity == core.ServiceAffinityClientIP {
		aff.ClientIP = true
		if cfg := svc.Spec.SessionAffinityConfig; cfg != nil && cfg.ClientIP != nil && cfg.ClientIP.TimeoutSeconds != nil {
			aff.Timeout = min(time.Duration(*cfg.ClientIP.TimeoutSeconds)*time.Second, proxy.MaxAffinityTimeout)
		}
	}
	nodePorts := svc.Spec.Type == core.ServiceTypeNodePort || svc.Spec.Type == core.ServiceTypeLoadBalancer
	slices_, _ := c.slices.ByIndex(sliceIndex, svc.Namespace+"/"+svc.Name)
	var out []proxy.Service
	for _, sp := range svc.Spec.Ports {
		proto, ok := protocolOf(sp.Protocol)
		if !ok || sp.Port <= 0 || sp.Port > 65535 {
			continue
		}
		backends := backendsFor(slices_, sp.Name, sp.Protocol, vip.Is4())
		name := svc.Namespace + "/" + svc.Name + ":" + cmp.Or(sp.Name, fmt.Sprint(sp.Port))
		out = append(out, proxy.Service{
			Frontend: proxy.Frontend{Kind: proxy.ClusterIP, Addr: vip, Port: uint16(sp.Port), Protocol: proto},
			Backends: backends, Affinity: aff, Name: name,
		})
		if nodePorts && sp.NodePort >= proxy.NodePortMin && sp.NodePort <= proxy.NodePortMax {
			for _, a := range c.opts.NodeAddrs {
				if a.Is4() != vip.Is4() {
					continue
				}
				out = append(out, proxy.Service{
					Frontend: proxy.Frontend{Kind: proxy.NodePort, Addr: a, Port: uint16(sp.NodePort), Protocol: proto},
					Backends: backends, Affinity: aff, Name: name,
				})
			}
		}
	}
	return out
}

// backendsFor collects, from every slice, the endpoints that can take new
// connections on the port named name, de-duplicated (a pod can briefly sit in
// two slices), sorted by address so equal states compare equal.
func backendsFor(ss []*discovery.EndpointSlice, name string, protocol core.Protocol, v4 bool) []proxy.Backend {
	seen := map[netip.AddrPort]bool{}
	var out []proxy.Backend
	for _, es := range ss {
		if (v4 && es.AddressType != discovery.AddressTypeIPv4) || (!v4 && es.AddressType != discovery.AddressTypeIPv6) {
			continue
		}
		var port int32
		for _, p := range es.Ports {
			pn := ""
			if p.Name != nil {
				pn = *p.Name
			}
			pp := core.ProtocolTCP
			if p.Protocol != nil {
				pp = *p.Protocol
			}
			if pn == name && pp == cmp.Or(protocol, core.ProtocolTCP) && p.Port != nil {
				port = *p.Port
				break
			}
		}
		if port <= 0 || port > 65535 {
			continue
		}
		for _, ep := range es.Endpoints {
			ready := ep.Conditions.Ready == nil || *ep.Conditions.Ready
			serving := ready
			if ep.Conditions.Serving != nil {
				serving = *ep.Conditions.Serving
			}
			terminating := ep.Conditions.Terminating != nil && *ep.Conditions.Terminating
			if !ready && !(serving && terminating) {
				continue // never selected: leave it out, so its flapping costs nothing
			}
			for _, a := range ep.Addresses[:min(1, len(ep.Addresses))] {
				ip, err := netip.ParseAddr(a)
				if err != nil {
					continue
				}
				ap := netip.AddrPortFrom(ip.Unmap(), uint16(port))
				if seen[ap] {
					continue
				}
				seen[ap] = true
				out = append(out, proxy.Backend{Addr: ap, Ready: ready && !terminating, Serving: serving, Terminating: terminating})
			}
		}
	}
	slices.SortFunc(out, func(a, b proxy.Backend) int { return a.Addr.Compare(b.Addr) })
	return out
}
