package serviceip

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/apis/field"
	"github.com/gantry-sdk/gantry/store"
)

// DefaultCIDR is the service CIDR of the zero Options (Kubernetes' usual one).
// Its addresses are virtual: never routed, only translated by the proxy.
var DefaultCIDR = netip.MustParsePrefix("10.96.0.0/12")

// The default node-port range (Kubernetes' --service-node-port-range).
const (
	DefaultNodePortMin = 30000
	DefaultNodePortMax = 32767
)

// Sentinel errors, wrapped with context.
var (
	// ErrFull: no free address in the CIDR, or no free node port in the range.
	ErrFull = errors.New("serviceip: range full")
	// ErrOptions: the Options are unusable (the wrapped text says which).
	ErrOptions = errors.New("serviceip: bad options")
)

// Options tune an Allocator. The zero value works.
type Options struct {
	// CIDR is the service CIDR; zero means DefaultCIDR. Its first (network)
	// and last (broadcast) addresses are never handed out.
	CIDR netip.Prefix
	// NodePortMin..NodePortMax is the node-port range (inclusive); zero means the defaults.
	NodePortMin, NodePortMax int32
	// KeyPrefix must equal the store's Options.KeyPrefix, so that the
	// reservations live beside the objects.
	KeyPrefix string
	// Rand picks candidates; nil means a per-call math/rand/v2 source.
	Rand func(n uint64) uint64
	// Clock stamps reservations, so that Repair leaves young ones alone; nil means time.Now.
	Clock func() time.Time
	// RepairGrace is how old a reservation must be before Repair may free it
	// (a younger one may belong to a create still between admission and its
	// write); 0 means one minute.
	RepairGrace time.Duration
}

// Allocator is the admission step. It implements store.Admitter; put it in
// store.Options.Mutating. It is safe for concurrent use, also by several
// processes over one KV.
type Allocator struct {
	kv         store.KV
	cidr       netip.Prefix
	first      netip.Addr // the first address handed out
	size       uint64     // how many addresses are handed out
	portMin    int32
	portMax    int32
	ipPrefix   string
	portPrefix string
	rand       func(n uint64) uint64
	now        func() time.Time
	grace      time.Duration
}

var _ store.Admitter = (*Allocator)(nil)

// New returns an Allocator keeping its reservations in kv.
func New(kv store.KV, opts Options) (*Allocator, error) {
	a := &Allocator{kv: kv, cidr: opts.CIDR, portMin: opts.NodePortMin, portMax: opts.NodePortMax, rand: opts.Rand}
	if !a.cidr.IsValid() {
		a.cidr = DefaultCIDR
	}
	a.cidr = a.cidr.Masked()
	hostBits := a.cidr.Addr().BitLen() - a.cidr.Bits()
	if hostBits < 2 {
		return nil, fmt.Errorf("%w: CIDR %s has no room for service addresses", ErrOptions, a.cidr)
	}
	a.size = (uint64(1) << min(hostBits, 32)) - 2
	a.first = a.cidr.Addr().Next()
	if a.portMin == 0 && a.portMax == 0 {
		a.portMin, a.portMax = DefaultNodePortMin, DefaultNodePortMax
	}
	if a.portMin < 1 || a.portMax > 65535 || a.portMin > a.portMax {
		return nil, fmt.Errorf("%w: node-port range %d-%d", ErrOptions, a.portMin, a.portMax)
	}
	a.now, a.grace = opts.Clock, opts.RepairGrace
	if a.now == nil {
		a.now = time.Now
	}
	if a.grace == 0 {
		a.grace = time.Minute
	}
	if a.rand == nil {
		a.rand = func(n uint64) uint64 { return rand.Uint64N(n) }
	}
	base := strings.TrimSuffix(opts.KeyPrefix, "/") + "/gantry.dev/allocations/"
	a.ipPrefix = base + "clusterips/"
	a.portPrefix = base + "nodeports/"
	return a, nil
}

// CIDR is the service CIDR the allocator hands addresses out of.
func (a *Allocator) CIDR() netip.Prefix { return a.cidr }

func owner(k apis.Key) string { return k.Namespace + "/" + k.Name }

func invalid(name string, errs ...*field.Error) error {
	return &store.InvalidError{Kind: "Service", Name: name, Errors: errs}
}

var (
	clusterIPPath = field.NewPath("spec", "clusterIP")
	portsPath     = field.NewPath("spec", "ports")
)

// Admit allocates on create, keeps or re-allocates on update and releases on delete.
func (a *Allocator) Admit(ctx context.Context, req store.AdmissionRequest) error {
	if req.Kind == nil || req.Kind.GVK != core.GroupVersion.WithKind("Service") || req.Subresource != "" {
		return nil
	}
	switch req.Operation {
	case store.OperationCreate:
		svc, ok := req.Object.(*core.Service)
		if !ok {
			return nil
		}
		return a.admitWrite(ctx, req.Key, svc, nil, req.DryRun)
	case store.OperationUpdate:
		svc, ok := req.Object.(*core.Service)
		old, ok2 := req.OldObject.(*core.Service)
		if !ok || !ok2 {
			return nil
		}
		return a.admitWrite(ctx, req.Key, svc, old, req.DryRun)
	case store.OperationDelete:
		old, ok := req.OldObject.(*core.Service)
		if !ok || req.DryRun {
			return nil
		}
		return a.releaseAll(ctx, req.Key, old)
	}
	return nil
}

// wantsIP: a Service that has (or gets) a cluster IP.
func wantsIP(s *core.Service) bool {
	return s.Spec.Type != core.ServiceTypeExternalName && !s.IsHeadless()
}

func wantsNodePorts(s *core.Service) bool {
	switch s.Spec.Type {
	case core.ServiceTypeNodePort:
		return true
	case core.ServiceTypeLoadBalancer:
		return s.Spec.AllocateLoadBalancerNodePorts == nil || *s.Spec.AllocateLoadBalancerNodePorts
	}
	return false
}

// admitWrite handles a create (old nil) or an update. What it reserved is
// released again when a later step of the same admission fails.
func (a *Allocator) admitWrite(ctx context.Context, key apis.Key, svc, old *core.Service, dryRun bool) (err error) {
	who := owner(key)
	var taken []string // reservation keys taken by this call, undone on failure
	defer func() {
		if err != nil {
			for _, k := range taken {
				_ = a.release(context.WithoutCancel(ctx), k, who)
			}
		}
	}()
	reserve := func(k string) (bool, error) {
		if dryRun {
			got, err := a.holder(ctx, k)
			return got == "" || got == who, err
		}
		ok, fresh, err := a.reserve(ctx, k, who)
		if ok && fresh {
			taken = append(taken, k)
		}
		return ok, err
	}

	// Cluster IP.
	oldIP := ""
	if old != nil && wantsIP(old) {
		oldIP = old.Spec.ClusterIP
	}
	switch {
	case !wantsIP(svc):
		// Headless stays None; ExternalName has none.
	case svc.Spec.ClusterIP == "" && oldIP != "":
		svc.Spec.ClusterIP = oldIP // the client left it empty: keep the allocated one
		if len(svc.Spec.ClusterIPs) == 0 {
			svc.Spec.ClusterIPs = []string{oldIP}
		}
	case svc.Spec.ClusterIP == "":
		if dryRun {
			break
		}
		ip, err := a.allocateIP(ctx, who, &taken)
		if err != nil {
			return err
		}
		svc.Spec.ClusterIP = ip.String()
		svc.Spec.ClusterIPs = []string{svc.Spec.ClusterIP}
	case svc.Spec.ClusterIP == oldIP:
		// unchanged
	case oldIP != "":
		// A change of an allocated IP: validation refuses it as immutable.
	default:
		ip, perr := netip.ParseAddr(svc.Spec.ClusterIP)
		if perr != nil {
			return invalid(key.Name, field.Invalid(clusterIPPath, svc.Spec.ClusterIP, "must be empty, 'None', or a valid IP address"))
		}
		if !a.inRange(ip) {
			return invalid(key.Name, field.Invalid(clusterIPPath, svc.Spec.ClusterIP,
				fmt.Sprintf("provided IP is not in the valid range %s (network and broadcast addresses excluded)", a.cidr)))
		}
		ok, err := reserve(a.ipPrefix + ip.String())
		if err != nil {
			return err
		}
		if !ok {
			return invalid(key.Name, field.Invalid(clusterIPPath, svc.Spec.ClusterIP, "provided IP is already allocated"))
		}
		if len(svc.Spec.ClusterIPs) == 0 {
			svc.Spec.ClusterIPs = []string{svc.Spec.ClusterIP}
		}
	}

	// Node ports.
	oldPorts := map[int32]bool{}
	if old != nil && wantsNodePorts(old) {
		for _, p := range old.Spec.Ports {
			if p.NodePort != 0 {
				oldPorts[p.NodePort] = true
			}
		}
	}
	newPorts := map[int32]bool{}
	if wantsNodePorts(svc) {
		for i := range svc.Spec.Ports {
			p := &svc.Spec.Ports[i]
			if p.NodePort == 0 && old != nil && wantsNodePorts(old) {
				p.NodePort = keptNodePort(old, p)
			}
			if p.NodePort != 0 {
				np := portsPath.Index(i).Child("nodePort")
				if p.NodePort < a.portMin || p.NodePort > a.portMax {
					return invalid(key.Name, field.Invalid(np, p.NodePort,
						fmt.Sprintf("provided port is not in the valid range %d-%d", a.portMin, a.portMax)))
				}
				if !oldPorts[p.NodePort] && !newPorts[p.NodePort] {
					ok, err := reserve(a.portKey(p.NodePort))
					if err != nil {
						return err
					}
					if !ok {
						return invalid(key.Name, field.Invalid(np, p.NodePort, "provided port is already allocated"))
					}
				}
				newPorts[p.NodePort] = true
				continue
			}
			if dryRun {
				continue
			}
			port, err := a.allocatePort(ctx, who, &taken, newPorts, oldPorts)
			if err != nil {
				return err
			}
			p.NodePort = port
			newPorts[port] = true
		}
	} else {
		for i := range svc.Spec.Ports {
			if old != nil && svc.Spec.Ports[i].NodePort != 0 && oldPorts[svc.Spec.Ports[i].NodePort] {
				svc.Spec.Ports[i].NodePort = 0 // the type no longer has node ports
			}
		}
	}
	if dryRun || old == nil {
		return nil
	}
	// Release what the update dropped.
	if oldIP != "" && !wantsIP(svc) {
		if err := a.release(ctx, a.ipPrefix+oldIP, who); err != nil {
			return err
		}
	}
	for p := range oldPorts {
		if !newPorts[p] {
			if err := a.release(ctx, a.portKey(p), who); err != nil {
				return err
			}
		}
	}
	return nil
}

// keptNodePort is the node port the old Service had for the same port.
func keptNodePort(old *core.Service, p *core.ServicePort) int32 {
	for _, op := range old.Spec.Ports {
		if op.Name == p.Name && op.Port == p.Port && op.Protocol == p.Protocol {
			return op.NodePort
		}
	}
	for _, op := range old.Spec.Ports {
		if op.Name == p.Name && op.Protocol == p.Protocol {
			return op.NodePort
		}
	}
	return 0
}

func (a *Allocator) releaseAll(ctx context.Context, key apis.Key, old *core.Service) error {
	who := owner(key)
	if wantsIP(old) && old.Spec.ClusterIP != "" {
		if err := a.release(ctx, a.ipPrefix+old.Spec.ClusterIP, who); err != nil {
			return err
		}
	}
	if wantsNodePorts(old) {
		for _, p := range old.Spec.Ports {
			if p.NodePort != 0 {
				if err := a.release(ctx, a.portKey(p.NodePort), who); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (a *Allocator) portKey(p int32) string {
	return a.portPrefix + strconv.Itoa(int(p))
}

func (a *Allocator) inRange(ip netip.Addr) bool {
	if !a.cidr.Contains(ip) {
		return false
	}
	off, ok := offset(a.first, ip)
	return ok && off < a.size
}

// offset is ip - base when ip >= base and the difference fits 64 bits.
func offset(base, ip netip.Addr) (uint64, bool) {
	b, i := base.As16(), ip.As16()
	bh, bl := binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
	ih, il := binary.BigEndian.Uint64(i[:8]), binary.BigEndian.Uint64(i[8:])
	if ih != bh || il < bl {
		return 0, false
	}
	return il - bl, true
}

// nth is first + n (within one /64, which the size cap guarantees).
func (a *Allocator) nth(n uint64) netip.Addr {
	b := a.first.As16()
	binary.BigEndian.PutUint64(b[8:], binary.BigEndian.Uint64(b[8:])+n)
	ip := netip.AddrFrom16(b)
	if a.first.Is4() {
		ip = ip.Unmap()
	}
	return ip
}

// allocateIP tries random addresses, then scans the reservations for a free one.
func (a *Allocator) allocateIP(ctx context.Context, who string, taken *[]string) (netip.Addr, error) {
	for range 16 {
		ip := a.nth(a.rand(a.size))
		ok, fresh, err := a.reserve(ctx, a.ipPrefix+ip.String(), who)
		if err != nil {
			return netip.Addr{}, err
		}
		if ok {
			if fresh {
				*taken = append(*taken, a.ipPrefix+ip.String())
			}
			return ip, nil
		}
	}
	n, err := a.scan(ctx, a.ipPrefix, a.size, func(n uint64) string { return a.nth(n).String() }, who, taken)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("%w: cluster IPs in %s: %w", ErrFull, a.cidr, err)
	}
	return a.nth(n), nil
}

// allocatePort skips the ports the Service already holds (its reservations
// are idempotent, so they would look free to it).
func (a *Allocator) allocatePort(ctx context.Context, who string, taken *[]string, mine ...map[int32]bool) (int32, error) {
	size := uint64(a.portMax - a.portMin + 1)
	held := func(p int32) bool {
		for _, m := range mine {
			if m[p] {
				return true
			}
		}
		return false
	}
	for range 16 {
		p := a.portMin + int32(a.rand(size))
		if held(p) {
			continue
		}
		ok, fresh, err := a.reserve(ctx, a.portKey(p), who)
		if err != nil {
			return 0, err
		}
		if ok {
			if fresh {
				*taken = append(*taken, a.portKey(p))
			}
			return p, nil
		}
	}
	var skip []string
	for _, m := range mine {
		for p := range m {
			skip = append(skip, strconv.Itoa(int(p)))
		}
	}
	n, err := a.scan(ctx, a.portPrefix, size, func(n uint64) string { return strconv.Itoa(int(a.portMin) + int(n)) }, who, taken, skip...)
	if err != nil {
		return 0, fmt.Errorf("%w: node ports %d-%d: %w", ErrFull, a.portMin, a.portMax, err)
	}
	return a.portMin + int32(n), nil
}

var errNoneFree = errors.New("every value is reserved")

// scan reads every reservation under prefix and reserves the first free value
// from a random start; a value taken meanwhile by another writer is skipped.
func (a *Allocator) scan(ctx context.Context, prefix string, size uint64, name func(uint64) string, who string, taken *[]string, skip ...string) (uint64, error) {
	used := map[string]bool{}
	for _, v := range skip {
		used[v] = true
	}
	after := ""
	for {
		page, err := a.kv.Range(ctx, prefix, store.RangeOptions{After: after, Limit: 10000})
		if err != nil {
			return 0, err
		}
		for _, kv := range page.KVs {
			used[strings.TrimPrefix(kv.Key, prefix)] = true
		}
		if !page.More || len(page.KVs) == 0 {
			break
		}
		after = page.KVs[len(page.KVs)-1].Key
	}
	if uint64(len(used)) >= size {
		return 0, errNoneFree
	}
	start := a.rand(size)
	for i := range size {
		n := (start + i) % size
		if used[name(n)] {
			continue
		}
		ok, fresh, err := a.reserve(ctx, prefix+name(n), who)
		if err != nil {
			return 0, err
		}
		if ok {
			if fresh {
				*taken = append(*taken, prefix+name(n))
			}
			return n, nil
		}
	}
	return 0, errNoneFree
}

// reserve creates the reservation key for who. ok: who holds it now; fresh:
// this call created it.
func (a *Allocator) reserve(ctx context.Context, key, who string) (ok, fresh bool, err error) {
	_, err = a.kv.Txn(ctx, store.Txn{
		If:   []store.Compare{{Key: key, ModRevision: 0}},
		Then: []store.Op{store.Put(key, encodeValue(who, a.now()))},
	})
	if err == nil {
		return true, true, nil
	}
	if !errors.Is(err, store.ErrConflict) {
		return false, false, fmt.Errorf("serviceip: reserve %s: %w", key, err)
	}
	got, err := a.holder(ctx, key)
	if err != nil {
		return false, false, err
	}
	return got == who, false, nil
}

// holder is the owner written in a reservation, "" when there is none.
func (a *Allocator) holder(ctx context.Context, key string) (string, error) {
	kv, err := a.get(ctx, key)
	if err != nil || kv == nil {
		return "", err
	}
	who, _ := decodeValue(kv.Value)
	return who, nil
}

// A reservation's value is the owner, a tab and when it was taken (RFC 3339).
func encodeValue(who string, at time.Time) []byte {
	return []byte(who + "\t" + at.UTC().Format(time.RFC3339Nano))
}

func decodeValue(v []byte) (who string, at time.Time) {
	who, ts, _ := strings.Cut(string(v), "\t")
	at, _ = time.Parse(time.RFC3339Nano, ts) // unreadable: the zero time, old enough to repair
	return who, at
}

func (a *Allocator) get(ctx context.Context, key string) (*store.KeyValue, error) {
	// Keys under a prefix are ordered, so the exact key comes first if it exists.
	page, err := a.kv.Range(ctx, key, store.RangeOptions{Limit: 1})
	if err != nil {
		return nil, fmt.Errorf("serviceip: read %s: %w", key, err)
	}
	if len(page.KVs) == 0 || page.KVs[0].Key != key {
		return nil, nil
	}
	return &page.KVs[0], nil
}

// release deletes the reservation if who holds it (a reservation another
// Service holds is never touched).
func (a *Allocator) release(ctx context.Context, key, who string) error {
	for range 10 {
		kv, err := a.get(ctx, key)
		if err != nil || kv == nil {
			return err
		}
		if got, _ := decodeValue(kv.Value); got != who {
			return err
		}
		_, err = a.kv.Txn(ctx, store.Txn{
			If:   []store.Compare{{Key: key, ModRevision: kv.ModRevision}},
			Then: []store.Op{store.Delete(key)},
		})
		if !errors.Is(err, store.ErrConflict) {
			if err != nil {
				return fmt.Errorf("serviceip: release %s: %w", key, err)
			}
			return nil
		}
	}
	return fmt.Errorf("serviceip: release %s: %w", key, store.ErrConflict)
}

// Reservation is one allocated cluster IP or node port and the Service ("namespace/name") holding it.
type Reservation struct {
	ClusterIP netip.Addr // valid for a cluster IP
	NodePort  int32      // non-zero for a node port
	Owner     string
	Since     time.Time // when it was taken
}

// Reservations lists every reservation, cluster IPs first.
func (a *Allocator) Reservations(ctx context.Context) ([]Reservation, error) {
	var out []Reservation
	for _, prefix := range []string{a.ipPrefix, a.portPrefix} {
		after := ""
		for {
			page, err := a.kv.Range(ctx, prefix, store.RangeOptions{After: after, Limit: 10000})
			if err != nil {
				return nil, fmt.Errorf("serviceip: list reservations: %w", err)
			}
			for _, kv := range page.KVs {
				r := Reservation{}
				r.Owner, r.Since = decodeValue(kv.Value)
				v := strings.TrimPrefix(kv.Key, prefix)
				if prefix == a.ipPrefix {
					r.ClusterIP, _ = netip.ParseAddr(v)
				} else {
					p, _ := strconv.Atoi(v)
					r.NodePort = int32(p)
				}
				out = append(out, r)
			}
			if !page.More || len(page.KVs) == 0 {
				break
			}
			after = page.KVs[len(page.KVs)-1].Key
		}
	}
	return out, nil
}

// Repair frees reservations whose owner Service does not exist or does not
// use them (left by creates that the store refused after admission, or by a
// crash between a reservation and the write). It returns how many it freed.
// Reservations younger than Options.RepairGrace are left alone, so Repair may
// run at any time (at start, and periodically) next to creates in flight.
func (a *Allocator) Repair(ctx context.Context, s store.Store) (int, error) {
	rs, err := a.Reservations(ctx)
	if err != nil {
		return 0, err
	}
	services := store.For[*core.Service](s)
	freed := 0
	for _, r := range rs {
		if a.now().Sub(r.Since) < a.grace {
			continue
		}
		ns, name, _ := strings.Cut(r.Owner, "/")
		svc, err := services.Get(ctx, apis.Key{Namespace: ns, Name: name}, store.GetOptions{})
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return freed, err
		}
		if err == nil && uses(svc, r) {
			continue
		}
		key := a.portKey(r.NodePort)
		if r.ClusterIP.IsValid() {
			key = a.ipPrefix + r.ClusterIP.String()
		}
		if err := a.release(ctx, key, r.Owner); err != nil {
			return freed, err
		}
		freed++
	}
	return freed, nil
}

func uses(svc *core.Service, r Reservation) bool {
	if r.ClusterIP.IsValid() {
		return wantsIP(svc) && svc.Spec.ClusterIP == r.ClusterIP.String()
	}
	if !wantsNodePorts(svc) {
		return false
	}
	for _, p := range svc.Spec.Ports {
		if p.NodePort == r.NodePort {
			return true
		}
	}
	return false
}
