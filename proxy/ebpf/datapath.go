package ebpf

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync"

	bpf "github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/rlimit"
	"github.com/go-logr/logr"
	"golang.org/x/sys/unix"

	"github.com/gantry-sdk/gantry/proxy"
)

// Options tunes a Datapath. The zero value works.
type Options struct {
	// CgroupPath is the cgroup v2 directory the programs attach to; they apply
	// to every socket of the processes in it and below. Default: the cgroup v2
	// root (/sys/fs/cgroup/unified or /sys/fs/cgroup).
	CgroupPath string
	// MaxServices per address family. Default 65536.
	MaxServices uint32
	// MaxBackends is the number of backend slots per address family, with room
	// for the new and the old slots of the services one Apply replaces. Default 262144.
	MaxBackends uint32
	// MaxAffinity is the number of remembered ClientIP choices (LRU). Default 65536.
	MaxAffinity uint32
	// MaxReverse is the number of remembered translations per family (LRU),
	// used by getpeername and recvmsg. Default 262144.
	MaxReverse uint32
	// Log receives one line per attach and detach.
	Log logr.Logger
}

func (o *Options) defaults() {
	if o.MaxServices == 0 {
		o.MaxServices = 1 << 16
	}
	if o.MaxBackends == 0 {
		o.MaxBackends = 1 << 18
	}
	if o.MaxAffinity == 0 {
		o.MaxAffinity = 1 << 16
	}
	if o.MaxReverse == 0 {
		o.MaxReverse = 1 << 18
	}
}

// chunk bounds how many changes share one set of batch map operations, and
// so the transient slot headroom a large Apply needs.
const chunk = 8192

// svcState is what the datapath programmed for one frontend.
type svcState struct {
	id      uint32
	set     uint32
	count   uint32
	members []memberKey // only for services with affinity
}

// famState holds one address family's maps and backend-set allocator.
type famState[K comparable, B, V any] struct {
	services, backends, reverse *bpf.Map
	key                         func(proxy.Frontend) K
	backend                     func(netip.AddrPort) B
	value                       func(svcValue, []netip.AddrPort) V
	nextSet                     uint32
	setsInUse                   map[uint32]struct{}
	slots                       int // slots in use
	count                       int // services
	maxSlots                    int
}

func (f *famState[K, B, V]) allocSet() uint32 {
	for {
		f.nextSet++
		if f.nextSet == 0 {
			continue
		}
		if _, used := f.setsInUse[f.nextSet]; !used {
			f.setsInUse[f.nextSet] = struct{}{}
			return f.nextSet
		}
	}
}

// Datapath is the eBPF socket load balancer. Safe for concurrent use.
type Datapath struct {
	mu       sync.Mutex
	opts     Options
	table    *proxy.Table
	state    map[proxy.Frontend]svcState
	nextID   uint32
	v4       *famState[svcKey4, backend4, svcValue4]
	v6       *famState[svcKey6, backend6, svcValue6]
	affinity *bpf.Map
	members  *bpf.Map
	maps     []*bpf.Map
	progs    []*bpf.Program
	links    []link.Link
	closed   bool
}

var _ proxy.Datapath = (*Datapath)(nil)

// New creates the maps, loads the programs and attaches them to the cgroup.
// It fails with an error wrapping proxy.ErrUnsupported when Probe does.
func New(opts Options) (_ *Datapath, err error) {
	opts.defaults()
	if err := Probe(); err != nil {
		return nil, err
	}
	if opts.CgroupPath == "" {
		root, err := CgroupRoot()
		if err != nil {
			return nil, err
		}
		opts.CgroupPath = root
	}
	if err := rlimit.RemoveMemlock(); err != nil {
		return nil, fmt.Errorf("%w: ebpf: memlock: %w", proxy.ErrUnsupported, err)
	}
	d := &Datapath{opts: opts, table: proxy.NewTable(), state: make(map[proxy.Frontend]svcState)}
	defer func() {
		if err != nil {
			d.release()
		}
	}()
	newMap := func(name string, t bpf.MapType, key, value, max uint32) (*bpf.Map, error) {
		var flags uint32
		if t == bpf.LRUHash {
			// Per-CPU LRU lists: a connect's reverse-translation update takes
			// no lock shared with the other CPUs.
			flags = unix.BPF_F_NO_COMMON_LRU
		}
		m, err := bpf.NewMap(&bpf.MapSpec{Name: name, Type: t, KeySize: key, ValueSize: value, MaxEntries: max, Flags: flags})
		if err != nil {
			return nil, fmt.Errorf("ebpf: create map %s: %w", name, err)
		}
		d.maps = append(d.maps, m)
		return m, nil
	}
	type spec struct {
		dst        **bpf.Map
		name       string
		t          bpf.MapType
		key, value uint32
		max        uint32
	}
	var m4, m6 progMaps
	for _, s := range []spec{
		{&m4.services, "gantry_svc4", bpf.Hash, 8, 32 + inlineMax*8, opts.MaxServices},
		{&m4.backends, "gantry_be4", bpf.Hash, 8, 8, opts.MaxBackends},
		{&m4.reverse, "gantry_rev4", bpf.LRUHash, 16, 8, opts.MaxReverse},
		{&m6.services, "gantry_svc6", bpf.Hash, 20, 32 + inlineMax*20, opts.MaxServices},
		{&m6.backends, "gantry_be6", bpf.Hash, 8, 20, opts.MaxBackends},
		{&m6.reverse, "gantry_rev6", bpf.LRUHash, 32, 20, opts.MaxReverse},
		{&d.affinity, "gantry_aff", bpf.LRUHash, 16, 32, opts.MaxAffinity},
		{&d.members, "gantry_member", bpf.Hash, 24, 4, opts.MaxBackends},
	} {
		if *s.dst, err = newMap(s.name, s.t, s.key, s.value, s.max); err != nil {
			return nil, err
		}
	}
	m4.affinity, m4.members = d.affinity, d.members
	m6.affinity, m6.members = d.affinity, d.members
	d.v4 = &famState[svcKey4, backend4, svcValue4]{services: m4.services, backends: m4.backends, reverse: m4.reverse,
		key: mkSvcKey4, backend: mkBackend4, value: mkValue4, setsInUse: map[uint32]struct{}{}, maxSlots: int(opts.MaxBackends)}
	d.v6 = &famState[svcKey6, backend6, svcValue6]{services: m6.services, backends: m6.backends, reverse: m6.reverse,
		key: mkSvcKey6, backend: mkBackend6, value: mkValue6, setsInUse: map[uint32]struct{}{}, maxSlots: int(opts.MaxBackends)}

	for _, h := range hooks() {
		m := m4
		if h.family == inet6 {
			m = m6
		}
		prog, err := bpf.NewProgram(&bpf.ProgramSpec{
			Name:         "gantry_" + h.name,
			Type:         bpf.CGroupSockAddr,
			AttachType:   h.attach,
			Instructions: h.build(h.family, m),
			License:      "Apache-2.0",
		})
		if err != nil {
			return nil, fmt.Errorf("ebpf: load %s: %w", h.name, err)
		}
		d.progs = append(d.progs, prog)
		l, err := link.AttachCgroup(link.CgroupOptions{Path: opts.CgroupPath, Attach: h.attach, Program: prog})
		if err != nil {
			return nil, fmt.Errorf("ebpf: attach %s to %s: %w", h.name, opts.CgroupPath, err)
		}
		d.links = append(d.links, l)
	}
	opts.Log.V(1).Info("ebpf socket load balancer attached", "cgroup", opts.CgroupPath, "programs", len(d.progs))
	return d, nil
}

func (d *Datapath) release() {
	for _, l := range d.links {
		_ = l.Close()
	}
	for _, p := range d.progs {
		_ = p.Close()
	}
	for _, m := range d.maps {
		_ = m.Close()
	}
	d.links, d.progs, d.maps = nil, nil, nil
}

// Close detaches the programs and frees the maps. Connections made through a
// service keep their backend.
func (d *Datapath) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	var errs []error
	for _, l := range d.links {
		if err := l.Close(); err != nil {
			errs = append(errs, fmt.Errorf("ebpf: detach: %w", err))
		}
	}
	d.links = nil
	d.release()
	d.opts.Log.V(1).Info("ebpf socket load balancer detached", "cgroup", d.opts.CgroupPath)
	return errors.Join(errs...)
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
	return d.apply(ctx, changes, true)
}

// Apply programs the changes in order. All are validated first: one invalid
// change rejects the batch and nothing is applied.
func (d *Datapath) Apply(ctx context.Context, changes []proxy.ServiceChange) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.apply(ctx, changes, false)
}

func (d *Datapath) apply(ctx context.Context, changes []proxy.ServiceChange, validated bool) error {
	if d.closed {
		return proxy.ErrClosed
	}
	var errs []error
	for i, c := range changes {
		if validated {
			break
		}
		if err := proxy.ValidateChange(c); err != nil {
			errs = append(errs, fmt.Errorf("changes[%d]: %w", i, err))
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	v4 := make([]proxy.ServiceChange, 0, len(changes))
	var v6 []proxy.ServiceChange
	split := func(c proxy.ServiceChange) {
		if c.Service.Frontend.Addr.Is4() {
			v4 = append(v4, c)
		} else {
			v6 = append(v6, c)
		}
	}
	if validated {
		// From Table.Diff: one change per frontend, none a no-op.
		for _, c := range changes {
			split(c)
		}
	} else {
		// Only the last change to a frontend matters; drop no-ops.
		last := make(map[proxy.Frontend]int, len(changes))
		for i, c := range changes {
			last[c.Service.Frontend] = i
		}
		for i, c := range changes {
			if last[c.Service.Frontend] != i {
				continue
			}
			e, had := d.table.Get(c.Service.Frontend)
			if (c.Op == proxy.Delete && !had) || (c.Op == proxy.Upsert && had && e.Service.Equal(c.Service)) {
				continue
			}
			split(c)
		}
	}
	for len(v4) > 0 || len(v6) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		n4, n6 := min(len(v4), chunk), min(len(v6), chunk)
		if err := applyFamily(d, d.v4, v4[:n4]); err != nil {
			return err
		}
		if err := applyFamily(d, d.v6, v6[:n6]); err != nil {
			return err
		}
		v4, v6 = v4[n4:], v6[n6:]
	}
	return nil
}

// applyFamily programs changes of one family (each frontend at most once) in
// four batched steps that keep every service whole for a concurrent connect:
// write the new backend slots under fresh set ids, add affinity members, flip
// the service entries (one map update each), then delete what is no longer
// referenced.
func applyFamily[K comparable, B, V any](d *Datapath, f *famState[K, B, V], changes []proxy.ServiceChange) error {
	if len(changes) == 0 {
		return nil
	}
	var (
		slotKeys     = make([]backendKey, 0, len(changes))
		slotVals     = make([]B, 0, len(changes))
		svcKeys      = make([]K, 0, len(changes))
		svcVals      = make([]V, 0, len(changes))
		svcDels      []K
		oldSlots     []backendKey
		memberAdd    []memberKey
		memberDel    []memberKey
		newStates    = make([]svcState, len(changes))
		oldStates    = make([]svcState, len(changes))
		hadStates    = make([]bool, len(changes))
		newSets      []uint32
		addedSlots   int
		addedService int
		scratch      []netip.AddrPort
	)
	rev := d.table.Rev()
	for i, c := range changes {
		fe := c.Service.Frontend
		old, had := d.state[fe]
		oldStates[i], hadStates[i] = old, had
		if had {
			oldSlots = append(oldSlots, slotRange(old)...)
		}
		rev++
		if c.Op == proxy.Delete {
			svcDels = append(svcDels, f.key(fe))
			memberDel = append(memberDel, old.members...)
			continue
		}
		st := svcState{id: old.id}
		if !had {
			d.nextID++
			if d.nextID == 0 {
				d.nextID++
			}
			st.id = d.nextID
			addedService++
		}
		scratch = c.Service.AppendSlots(scratch[:0])
		slots := scratch
		st.count = uint32(len(slots))
		if len(slots) > inlineMax {
			st.set = f.allocSet()
			newSets = append(newSets, st.set)
			st.count = uint32(len(slots))
			for s, a := range slots {
				slotKeys = append(slotKeys, backendKey{SetID: st.set, Slot: uint32(s)})
				slotVals = append(slotVals, f.backend(a))
			}
			addedSlots += len(slots)
		}
		var flags uint32
		if c.Service.Affinity.ClientIP {
			flags |= flagAffinity
			for _, a := range slots {
				k := mkMemberKey(st.id, a)
				if !slices.Contains(st.members, k) {
					st.members = append(st.members, k)
				}
			}
		}
		for _, k := range st.members {
			if !slices.Contains(old.members, k) {
				memberAdd = append(memberAdd, k)
			}
		}
		for _, k := range old.members {
			if !slices.Contains(st.members, k) {
				memberDel = append(memberDel, k)
			}
		}
		newStates[i] = st
		svcKeys = append(svcKeys, f.key(fe))
		svcVals = append(svcVals, f.value(svcValue{SetID: st.set, Count: st.count, ID: st.id, Flags: flags,
			Timeout: uint64(c.Service.EffectiveTimeout().Nanoseconds()), Rev: uint64(rev)}, slots))
	}
	undoSets := func() {
		for _, s := range newSets {
			delete(f.setsInUse, s)
		}
	}
	if f.slots+addedSlots > f.maxSlots {
		undoSets()
		return fmt.Errorf("%w: ebpf: %d backend slots needed, %d free (Options.MaxBackends)", proxy.ErrFull, addedSlots, f.maxSlots-f.slots)
	}
	if f.count+addedService > int(d.opts.MaxServices) {
		undoSets()
		return fmt.Errorf("%w: ebpf: %d services, room for %d more (Options.MaxServices)", proxy.ErrFull, addedService, int(d.opts.MaxServices)-f.count)
	}
	// 1. New backend slots, invisible until a service entry names their set.
	if err := batchUpdate(f.backends, slotKeys, slotVals); err != nil {
		batchDelete(f.backends, slotKeys)
		undoSets()
		return fmt.Errorf("ebpf: write backend slots: %w", err)
	}
	// 2. Affinity membership: add before the flip, remove before it too, so a
	// remembered backend that left is never used once the new entry is visible.
	ones := make([]uint32, len(memberAdd))
	for i := range ones {
		ones[i] = 1
	}
	if err := batchUpdate(d.members, memberAdd, ones); err != nil {
		batchDelete(f.backends, slotKeys)
		undoSets()
		return fmt.Errorf("ebpf: write affinity members: %w", err)
	}
	batchDelete(d.members, memberDel)
	// 3. The flip: one map update per service switches it whole.
	if n, err := f.services.BatchUpdate(svcKeys, svcVals, nil); err != nil && len(svcKeys) > 0 {
		upserts := changesUpserted(changes, newStates)
		// Entries [0,n) are flipped; retry the rest one by one so that the
		// Table stays exact about which ones made it.
		for i := n; i < len(svcKeys); i++ {
			if err2 := f.services.Update(svcKeys[i], svcVals[i], bpf.UpdateAny); err2 != nil {
				for j := range i {
					old, had := d.state[upserts[j].change.Service.Frontend]
					commit(d, f, upserts[j].change, old, had, upserts[j].state)
				}
				for j := i; j < len(upserts); j++ {
					st := upserts[j].state
					if st.set != 0 {
						delete(f.setsInUse, st.set)
						batchDelete(f.backends, slotRange(st))
					}
				}
				return fmt.Errorf("ebpf: write service %s: %w", upserts[i].change.Service.Frontend, err2)
			}
		}
	}
	batchDelete(f.services, svcDels)
	// 4. Old slots are no longer named by any entry.
	batchDelete(f.backends, oldSlots)
	for i, c := range changes {
		commit(d, f, c, oldStates[i], hadStates[i], newStates[i])
	}
	return nil
}

type upsert struct {
	change proxy.ServiceChange
	state  svcState
}

func changesUpserted(changes []proxy.ServiceChange, states []svcState) []upsert {
	var out []upsert
	for i, c := range changes {
		if c.Op == proxy.Upsert {
			out = append(out, upsert{c, states[i]})
		}
	}
	return out
}

func slotRange(s svcState) []backendKey {
	if s.set == 0 {
		return nil
	}
	out := make([]backendKey, s.count)
	for i := range out {
		out[i] = backendKey{SetID: s.set, Slot: uint32(i)}
	}
	return out
}

// commit records one programmed change in the state and the Table.
func commit[K comparable, B, V any](d *Datapath, f *famState[K, B, V], c proxy.ServiceChange, old svcState, had bool, st svcState) {
	fe := c.Service.Frontend
	if had {
		f.release(old)
	}
	if c.Op == proxy.Delete {
		delete(d.state, fe)
		f.count--
	} else {
		d.state[fe] = st
		if st.set != 0 {
			f.slots += int(st.count)
		}
		if !had {
			f.count++
		}
	}
	d.table.Apply(c)
}

func (f *famState[K, B, V]) release(s svcState) {
	if s.set != 0 {
		delete(f.setsInUse, s.set)
		f.slots -= int(s.count)
	}
}

func batchUpdate[K, V any](m *bpf.Map, keys []K, values []V) error {
	if len(keys) == 0 {
		return nil
	}
	_, err := m.BatchUpdate(keys, values, nil)
	return err
}

// batchDelete removes keys, ignoring ones already gone.
func batchDelete[K any](m *bpf.Map, keys []K) {
	for len(keys) > 0 {
		n, err := m.BatchDelete(keys, nil)
		if err == nil {
			return
		}
		// BatchDelete stops at the first missing key: skip it and go on.
		keys = keys[min(n+1, len(keys)):]
	}
}
