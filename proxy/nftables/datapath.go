package nftables

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"sigs.k8s.io/knftables"

	"github.com/gantry-sdk/gantry/proxy"
)

// Options tunes a Datapath. The zero value works.
type Options struct {
	// Table is the name of the inet table the datapath owns (created fresh,
	// deleted on Close). Default "gantry-proxy".
	Table string
	// ExternalOnly programs only NodePort frontends, and only for packets that
	// arrive from outside (prerouting): the complement of proxy/ebpf, whose
	// socket hooks see only local sockets.
	ExternalOnly bool
	// Log receives one line per created and deleted table.
	Log logr.Logger
}

// Datapath is the nftables load balancer. Safe for concurrent use.
type Datapath struct {
	mu     sync.Mutex
	opts   Options
	nft    knftables.Interface
	table  *proxy.Table
	state  map[proxy.Frontend]svcState
	nextID int
	closed bool
}

// svcState is what was programmed for one frontend.
type svcState struct {
	id      int
	noEP    bool              // in the no-endpoint set instead of the service map
	eps     map[string]string // endpoint chain -> affinity set ("" without)
	chain   bool              // has a service chain and a service-map element
	skipped bool              // not programmed (ExternalOnly and not a NodePort)
}

var _ proxy.Datapath = (*Datapath)(nil)

// Probe reports whether nft is installed and usable; the error wraps
// proxy.ErrUnsupported.
func Probe() error {
	if _, err := knftables.New(knftables.InetFamily, "gantry-probe"); err != nil {
		return fmt.Errorf("%w: nftables: %w", proxy.ErrUnsupported, err)
	}
	return nil
}

// New creates the table with its base chains, maps and sets, replacing a
// table of the same name left by an earlier run.
func New(ctx context.Context, opts Options) (*Datapath, error) {
	if opts.Table == "" {
		opts.Table = "gantry-proxy"
	}
	nft, err := knftables.New(knftables.InetFamily, opts.Table)
	if err != nil {
		return nil, fmt.Errorf("%w: nftables: %w", proxy.ErrUnsupported, err)
	}
	d := &Datapath{opts: opts, nft: nft, table: proxy.NewTable(), state: make(map[proxy.Frontend]svcState)}
	tx := nft.NewTransaction()
	tx.Add(&knftables.Table{})
	tx.Delete(&knftables.Table{})
	tx.Add(&knftables.Table{Comment: knftables.PtrTo("gantry service load balancer")})
	tx.Add(&knftables.Map{Name: "svc4", Type: "ipv4_addr . inet_proto . inet_service : verdict"})
	tx.Add(&knftables.Map{Name: "svc6", Type: "ipv6_addr . inet_proto . inet_service : verdict"})
	tx.Add(&knftables.Set{Name: "noep4", Type: "ipv4_addr . inet_proto . inet_service"})
	tx.Add(&knftables.Set{Name: "noep6", Type: "ipv6_addr . inet_proto . inet_service"})
	base := func(name string, typ knftables.BaseChainType, hook knftables.BaseChainHook, prio knftables.BaseChainPriority, rules ...string) {
		tx.Add(&knftables.Chain{Name: name, Type: &typ, Hook: &hook, Priority: &prio})
		for _, r := range rules {
			tx.Add(&knftables.Rule{Chain: name, Rule: r})
		}
	}
	lookup := []string{
		"ip daddr . meta l4proto . th dport vmap @svc4",
		"ip6 daddr . meta l4proto . th dport vmap @svc6",
	}
	base("nat-prerouting", knftables.NATType, knftables.PreroutingHook, knftables.DNATPriority, lookup...)
	// A service without endpoints: refuse packets from outside (the client
	// gets a reset or port unreachable), drop local ones (connect fails with
	// EPERM, as with the eBPF datapath).
	base("filter-input", knftables.FilterType, knftables.InputHook, knftables.FilterPriority,
		"ip daddr . meta l4proto . th dport @noep4 reject",
		"ip6 daddr . meta l4proto . th dport @noep6 reject")
	if !opts.ExternalOnly {
		base("nat-output", knftables.NATType, knftables.OutputHook, knftables.DNATPriority, lookup...)
		base("filter-output", knftables.FilterType, knftables.OutputHook, knftables.FilterPriority,
			"ip daddr . meta l4proto . th dport @noep4 reject with icmpx admin-prohibited",
			"ip6 daddr . meta l4proto . th dport @noep6 reject with icmpx admin-prohibited")
	}
	if err := nft.Run(ctx, tx); err != nil {
		return nil, fmt.Errorf("nftables: create table %s: %w", opts.Table, err)
	}
	opts.Log.V(1).Info("nftables load balancer created", "table", opts.Table, "externalOnly", opts.ExternalOnly)
	return d, nil
}

// Close deletes the table.
func (d *Datapath) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	tx := d.nft.NewTransaction()
	tx.Delete(&knftables.Table{})
	if err := d.nft.Run(context.Background(), tx); err != nil && !knftables.IsNotFound(err) {
		return fmt.Errorf("nftables: delete table %s: %w", d.opts.Table, err)
	}
	d.opts.Log.V(1).Info("nftables load balancer deleted", "table", d.opts.Table)
	return nil
}

// Table returns a copy of what the datapath programmed.
func (d *Datapath) Table() *proxy.Table {
	d.mu.Lock()
	defer d.mu.Unlock()
	t := proxy.NewTable()
	for _, e := range d.table.All() {
		t.Apply(proxy.ServiceChange{Service: e.Service})
	}
	return t
}

// Sync makes the datapath hold exactly services.
func (d *Datapath) Sync(ctx context.Context, services []proxy.Service) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	changes, err := d.table.Diff(services)
	if err != nil {
		return err
	}
	return d.apply(ctx, changes)
}

// Apply programs the changes in one nft transaction: all or nothing. All are
// validated first.
func (d *Datapath) Apply(ctx context.Context, changes []proxy.ServiceChange) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.apply(ctx, changes)
}

func (d *Datapath) apply(ctx context.Context, changes []proxy.ServiceChange) error {
	if d.closed {
		return proxy.ErrClosed
	}
	for i, c := range changes {
		if err := proxy.ValidateChange(c); err != nil {
			return fmt.Errorf("changes[%d]: %w", i, err)
		}
	}
	// Only the last change to a frontend matters; drop no-ops.
	last := make(map[proxy.Frontend]int, len(changes))
	for i, c := range changes {
		last[c.Service.Frontend] = i
	}
	tx := d.nft.NewTransaction()
	// Work on copies so that a failed transaction leaves the state as it was.
	next := make(map[proxy.Frontend]svcState, len(changes))
	nextID := d.nextID
	var applied []proxy.ServiceChange
	for i, c := range changes {
		f := c.Service.Frontend
		if last[f] != i {
			continue
		}
		e, had := d.table.Get(f)
		if (c.Op == proxy.Delete && !had) || (c.Op == proxy.Upsert && had && e.Service.Equal(c.Service)) {
			continue
		}
		old := d.state[f]
		var st svcState
		if c.Op == proxy.Delete {
			d.remove(tx, f, old)
		} else {
			if old.id == 0 {
				nextID++
				old.id = nextID
			}
			st = d.program(tx, c.Service, old)
		}
		next[f] = st
		applied = append(applied, c)
	}
	if tx.NumOperations() > 0 {
		if err := d.nft.Run(ctx, tx); err != nil {
			return fmt.Errorf("nftables: apply %d changes: %w", len(applied), err)
		}
	}
	d.nextID = nextID
	for f, st := range next {
		if st.id == 0 {
			delete(d.state, f)
		} else {
			d.state[f] = st
		}
	}
	for _, c := range applied {
		d.table.Apply(c)
	}
	return nil
}

// names of one service's objects.
func svcChain(id int) string { return "svc-" + strconv.Itoa(id) }

func epName(id int, a netip.AddrPort) string {
	r := strings.NewReplacer(".", "_", ":", "_", "[", "", "]", "")
	return strconv.Itoa(id) + "-" + r.Replace(a.String())
}

func familyOf(a netip.Addr) (ip string, mapName, noEP string) {
	if a.Is4() {
		return "ip", "svc4", "noep4"
	}
	return "ip6", "svc6", "noep6"
}

func elementKey(f proxy.Frontend) []string {
	return []string{f.Addr.String(), strings.ToLower(f.Protocol.String()), strconv.Itoa(int(f.Port))}
}

// program writes one service into tx and returns its new state. The
// service-map element names the service chain, whose name never changes, so
// the flip from the old backends to the new ones is the chain's flush and
// refill inside the same transaction.
func (d *Datapath) program(tx *knftables.Transaction, s proxy.Service, old svcState) svcState {
	f := s.Frontend
	st := svcState{id: old.id, eps: map[string]string{}}
	if d.opts.ExternalOnly && f.Kind != proxy.NodePort {
		st.skipped = true
		return st
	}
	ip, mapName, noEPSet := familyOf(f.Addr)
	key := elementKey(f)
	slots := s.Slots()
	chain := svcChain(st.id)
	if len(slots) == 0 {
		st.noEP = true
		if !old.noEP {
			tx.Add(&knftables.Element{Set: noEPSet, Key: key})
		}
		if old.chain {
			tx.Delete(&knftables.Element{Map: mapName, Key: key})
			d.deleteChains(tx, old, true)
		}
		return st
	}
	timeout := s.EffectiveTimeout()
	// Endpoint chains (and their affinity sets) first: the service chain refers to them.
	for _, b := range s.Selected() {
		ep := "ep-" + epName(st.id, b.Addr)
		aff := ""
		if s.Affinity.ClientIP {
			aff = "aff-" + epName(st.id, b.Addr) + "-" + strconv.FormatInt(int64(timeout/time.Second), 10)
			tx.Add(&knftables.Set{Name: aff, Type: addrType(f.Addr), Flags: []knftables.SetFlag{knftables.DynamicFlag, knftables.TimeoutFlag}, Timeout: &timeout})
		}
		st.eps[ep] = aff
		tx.Add(&knftables.Chain{Name: ep})
		tx.Flush(&knftables.Chain{Name: ep})
		if aff != "" {
			tx.Add(&knftables.Rule{Chain: ep, Rule: knftables.Concat("update", "@"+aff, "{", ip, "saddr", "}")})
		}
		to := b.Addr.String()
		tx.Add(&knftables.Rule{Chain: ep, Rule: knftables.Concat(
			"meta l4proto", strings.ToLower(f.Protocol.String()), "dnat", ip, "to", to)})
	}
	st.chain = true
	tx.Add(&knftables.Chain{Name: chain})
	tx.Flush(&knftables.Chain{Name: chain})
	if s.Affinity.ClientIP {
		for _, b := range s.Selected() {
			ep := "ep-" + epName(st.id, b.Addr)
			tx.Add(&knftables.Rule{Chain: chain, Rule: knftables.Concat(ip, "saddr", "@"+st.eps[ep], "goto", ep)})
		}
	}
	var vmap strings.Builder
	for i, a := range slots {
		if i > 0 {
			vmap.WriteString(", ")
		}
		fmt.Fprintf(&vmap, "%d : goto ep-%s", i, epName(st.id, a))
	}
	tx.Add(&knftables.Rule{Chain: chain, Rule: fmt.Sprintf("numgen random mod %d vmap { %s }", len(slots), vmap.String())})
	tx.Add(&knftables.Element{Map: mapName, Key: key, Value: []string{"goto " + chain}})
	if old.noEP {
		tx.Delete(&knftables.Element{Set: noEPSet, Key: key})
	}
	// Endpoint chains no longer referenced go last.
	for ep, aff := range old.eps {
		if newAff, ok := st.eps[ep]; ok && newAff == aff {
			continue
		}
		if _, ok := st.eps[ep]; !ok {
			tx.Delete(&knftables.Chain{Name: ep})
		}
		if aff != "" && st.eps[ep] != aff {
			tx.Delete(&knftables.Set{Name: aff})
		}
	}
	return st
}

// remove deletes one service from tx.
func (d *Datapath) remove(tx *knftables.Transaction, f proxy.Frontend, old svcState) {
	if !old.chain && !old.noEP {
		return
	}
	_, mapName, noEPSet := familyOf(f.Addr)
	if old.noEP {
		tx.Delete(&knftables.Element{Set: noEPSet, Key: elementKey(f)})
		return
	}
	tx.Delete(&knftables.Element{Map: mapName, Key: elementKey(f)})
	d.deleteChains(tx, old, true)
}

func (d *Datapath) deleteChains(tx *knftables.Transaction, old svcState, withService bool) {
	if withService {
		tx.Flush(&knftables.Chain{Name: svcChain(old.id)})
		tx.Delete(&knftables.Chain{Name: svcChain(old.id)})
	}
	for ep, aff := range old.eps {
		tx.Delete(&knftables.Chain{Name: ep})
		if aff != "" {
			tx.Delete(&knftables.Set{Name: aff})
		}
	}
}

func addrType(a netip.Addr) string {
	if a.Is4() {
		return "ipv4_addr"
	}
	return "ipv6_addr"
}
