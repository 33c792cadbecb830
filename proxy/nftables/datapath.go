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
	lbs    map[string]bool // shared lb chains created
	closed bool
}

// svcState is what was programmed for one frontend.
type svcState struct {
	id      int
	noEP    bool              // in the no-endpoint set instead of the service map
	eps     map[string]string // endpoint chain -> affinity set ("" without)
	lb      int               // slots in the shared map be<family>-<lb> (no affinity)
	chain   bool              // has chains of its own (affinity)
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
	d := &Datapath{opts: opts, nft: nft, table: proxy.NewTable(), state: make(map[proxy.Frontend]svcState), lbs: map[string]bool{}}
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
	return d.table.Clone()
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
	lbs := map[string]bool{}
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
			st = d.program(tx, c.Service, old, lbs)
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
	for c := range lbs {
		d.lbs[c] = true
	}
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

// program writes one service into tx and returns its new state. Everything
// happens in one nft transaction, so a service switches from its old backends
// to its new ones at once.
//
// A service without affinity costs no chain of its own: the service map sends
// it to the shared chain lb<family>-<n> for services of n backend slots, whose
// one rule picks slot `numgen random mod n` from the map be<family>-<n>, keyed
// by {address . protocol . port . slot}. (Chains of their own and anonymous
// maps per service make the kernel's transaction checks grow with the square of
// the number of services: 10k services took a minute to load.) A service with
// ClientIP affinity gets a chain and an affinity set per backend.
func (d *Datapath) program(tx *knftables.Transaction, s proxy.Service, old svcState, lbs map[string]bool) svcState {
	f := s.Frontend
	st := svcState{id: old.id}
	if d.opts.ExternalOnly && f.Kind != proxy.NodePort {
		st.skipped = true
		return st
	}
	_, mapName, noEPSet := familyOf(f.Addr)
	key := elementKey(f)
	slots := s.Slots()
	switch {
	case len(slots) == 0:
		st.noEP = true
	case s.Affinity.ClientIP:
		st.chain = true
	default:
		st.lb = len(slots)
	}
	// Take the old dispatch apart where it changes.
	oldVerdict, newVerdict := d.verdict(f, old), d.verdict(f, st)
	if oldVerdict != "" && oldVerdict != newVerdict {
		tx.Delete(&knftables.Element{Map: mapName, Key: key})
	}
	if old.noEP && !st.noEP {
		tx.Delete(&knftables.Element{Set: noEPSet, Key: key})
	}
	if old.lb > 0 {
		d.deleteSlots(tx, f, old.lb)
	}
	if old.chain && !st.chain {
		d.deleteChains(tx, old, true)
	}
	switch {
	case st.noEP:
		if !old.noEP {
			tx.Add(&knftables.Element{Set: noEPSet, Key: key})
		}
	case st.lb > 0:
		d.ensureLB(tx, f.Addr, st.lb, lbs)
		be := lbMap(f.Addr, st.lb)
		for i, a := range slots {
			tx.Add(&knftables.Element{Map: be, Key: append(elementKey(f), strconv.Itoa(i)),
				Value: []string{a.Addr().String(), strconv.Itoa(int(a.Port()))}})
		}
	default:
		st.eps = d.programChains(tx, s, old, slots)
	}
	if newVerdict != "" && newVerdict != oldVerdict {
		tx.Add(&knftables.Element{Map: mapName, Key: key, Value: []string{newVerdict}})
	}
	return st
}

// verdict is the service-map verdict of a state ("" when not in the map).
func (d *Datapath) verdict(f proxy.Frontend, st svcState) string {
	switch {
	case st.lb > 0:
		return "goto " + lbChain(f.Addr, st.lb)
	case st.chain:
		return "goto " + svcChain(st.id)
	}
	return ""
}

func famSuffix(a netip.Addr) string {
	if a.Is4() {
		return "4"
	}
	return "6"
}

func lbChain(a netip.Addr, n int) string { return "lb" + famSuffix(a) + "-" + strconv.Itoa(n) }
func lbMap(a netip.Addr, n int) string   { return "be" + famSuffix(a) + "-" + strconv.Itoa(n) }

// ensureLB creates the chain and map shared by the services of n slots, the
// first time a transaction needs them; they stay for the table's life. (They
// are never written twice: nft 1.0.6 cannot parse a rule that refers to a
// typeof map it reads back from the kernel.)
func (d *Datapath) ensureLB(tx *knftables.Transaction, a netip.Addr, n int, pending map[string]bool) {
	chain, m := lbChain(a, n), lbMap(a, n)
	if d.lbs[chain] || pending[chain] {
		return
	}
	pending[chain] = true
	ip, _, _ := familyOf(a)
	tx.Add(&knftables.Map{Name: m, TypeOf: ip + " daddr . meta l4proto . th dport . numgen random mod 1 : " + ip + " daddr . th dport"})
	tx.Add(&knftables.Chain{Name: chain})
	tx.Add(&knftables.Rule{Chain: chain, Rule: fmt.Sprintf(
		"dnat %s to %s daddr . meta l4proto . th dport . numgen random mod %d map @%s", ip, ip, n, m)})
}

func (d *Datapath) deleteSlots(tx *knftables.Transaction, f proxy.Frontend, n int) {
	be := lbMap(f.Addr, n)
	for i := range n {
		tx.Delete(&knftables.Element{Map: be, Key: append(elementKey(f), strconv.Itoa(i))})
	}
}

// programChains writes the chains of a service with ClientIP affinity and
// returns its endpoint chains (chain -> affinity set).
func (d *Datapath) programChains(tx *knftables.Transaction, s proxy.Service, old svcState, slots []netip.AddrPort) map[string]string {
	f := s.Frontend
	ip, _, _ := familyOf(f.Addr)
	id := old.id
	eps := map[string]string{}
	timeout := s.EffectiveTimeout()
	// Endpoint chains (and their affinity sets) first: the service chain refers to them.
	for _, b := range s.Selected() {
		ep := "ep-" + epName(id, b.Addr)
		aff := "aff-" + epName(id, b.Addr) + "-" + strconv.FormatInt(int64(timeout/time.Second), 10)
		tx.Add(&knftables.Set{Name: aff, Type: addrType(f.Addr), Flags: []knftables.SetFlag{knftables.DynamicFlag, knftables.TimeoutFlag}, Timeout: &timeout})
		eps[ep] = aff
		tx.Add(&knftables.Chain{Name: ep})
		tx.Flush(&knftables.Chain{Name: ep})
		tx.Add(&knftables.Rule{Chain: ep, Rule: knftables.Concat("update", "@"+aff, "{", ip, "saddr", "}")})
		tx.Add(&knftables.Rule{Chain: ep, Rule: knftables.Concat(
			"meta l4proto", strings.ToLower(f.Protocol.String()), "dnat", ip, "to", b.Addr.String())})
	}
	chain := svcChain(id)
	tx.Add(&knftables.Chain{Name: chain})
	tx.Flush(&knftables.Chain{Name: chain})
	for _, b := range s.Selected() {
		ep := "ep-" + epName(id, b.Addr)
		tx.Add(&knftables.Rule{Chain: chain, Rule: knftables.Concat(ip, "saddr", "@"+eps[ep], "goto", ep)})
	}
	var vmap strings.Builder
	for i, a := range slots {
		if i > 0 {
			vmap.WriteString(", ")
		}
		fmt.Fprintf(&vmap, "%d : goto ep-%s", i, epName(id, a))
	}
	tx.Add(&knftables.Rule{Chain: chain, Rule: fmt.Sprintf("numgen random mod %d vmap { %s }", len(slots), vmap.String())})
	// Endpoint chains and sets no longer referenced go last.
	for ep, aff := range old.eps {
		if _, ok := eps[ep]; !ok {
			tx.Delete(&knftables.Chain{Name: ep})
		}
		if eps[ep] != aff {
			tx.Delete(&knftables.Set{Name: aff})
		}
	}
	return eps
}

// remove deletes one service from tx.
func (d *Datapath) remove(tx *knftables.Transaction, f proxy.Frontend, old svcState) {
	_, mapName, noEPSet := familyOf(f.Addr)
	switch {
	case old.noEP:
		tx.Delete(&knftables.Element{Set: noEPSet, Key: elementKey(f)})
	case old.lb > 0:
		tx.Delete(&knftables.Element{Map: mapName, Key: elementKey(f)})
		d.deleteSlots(tx, f, old.lb)
	case old.chain:
		tx.Delete(&knftables.Element{Map: mapName, Key: elementKey(f)})
		d.deleteChains(tx, old, true)
	}
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
