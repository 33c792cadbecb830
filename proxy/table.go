package proxy

import (
	"cmp"
	"errors"
	"fmt"
	"iter"
	"maps"
	"net/netip"
	"slices"
	"strconv"

	"github.com/gantry-sdk/gantry/apis/field"
)

// Validate checks a service as a datapath needs it: a frontend address and
// port, a known protocol, a node port in range, backends of the frontend's
// family without duplicates, an affinity timeout within bounds. The error wraps
// ErrInvalid and carries a field.ErrorList naming each bad field.
func Validate(s Service) error {
	if validFast(s) {
		return nil
	}
	var errs field.ErrorList
	fp := field.NewPath("frontend")
	f := s.Frontend
	switch {
	case !f.Addr.IsValid():
		errs = append(errs, field.Required(fp.Child("addr"), "an IPv4 or IPv6 address"))
	case f.Addr.Zone() != "":
		errs = append(errs, field.Invalid(fp.Child("addr"), f.Addr.String(), "must not have a zone"))
	case f.Addr.Is4In6():
		errs = append(errs, field.Invalid(fp.Child("addr"), f.Addr.String(), "IPv4-mapped IPv6 addresses are not supported; use the IPv4 form"))
	case f.Addr.IsUnspecified():
		errs = append(errs, field.Invalid(fp.Child("addr"), f.Addr.String(), "must be a specific address"))
	}
	if f.Port == 0 {
		errs = append(errs, field.Required(fp.Child("port"), "1-65535"))
	}
	if f.Protocol != TCP && f.Protocol != UDP {
		errs = append(errs, field.NotSupported(fp.Child("protocol"), f.Protocol.String(), []string{"TCP", "UDP"}))
	}
	switch f.Kind {
	case ClusterIP:
	case NodePort:
		if f.Port != 0 && !nodePortOK(f.Port) {
			errs = append(errs, field.Invalid(fp.Child("port"), int(f.Port),
				"a node port must be in "+strconv.Itoa(NodePortMin)+"-"+strconv.Itoa(NodePortMax)))
		}
	default:
		errs = append(errs, field.NotSupported(fp.Child("kind"), f.Kind.String(), []string{"ClusterIP", "NodePort"}))
	}
	bp := field.NewPath("backends")
	seen := make(map[netip.AddrPort]int, len(s.Backends))
	for i, b := range s.Backends {
		p := bp.Index(i)
		a := b.Addr.Addr()
		switch {
		case !a.IsValid():
			errs = append(errs, field.Required(p.Child("addr"), "an IP address and port"))
		case !specific(a):
			errs = append(errs, field.Invalid(p.Child("addr"), b.Addr.String(), "must be a specific IPv4 or IPv6 address without zone"))
		case f.Addr.IsValid() && a.Is4() != f.Addr.Is4():
			errs = append(errs, field.Invalid(p.Child("addr"), b.Addr.String(), "must be of the frontend's address family"))
		}
		if b.Addr.Port() == 0 {
			errs = append(errs, field.Required(p.Child("port"), "1-65535"))
		}
		if b.Weight > MaxWeight {
			errs = append(errs, field.Invalid(p.Child("weight"), int(b.Weight), "must be at most "+strconv.Itoa(MaxWeight)))
		}
		if j, dup := seen[b.Addr]; dup {
			errs = append(errs, field.Duplicate(p.Child("addr"), b.Addr.String()+" (also backends["+strconv.Itoa(j)+"])"))
		} else {
			seen[b.Addr] = i
		}
	}
	if t := s.Affinity.Timeout; t < 0 || t > MaxAffinityTimeout {
		errs = append(errs, field.Invalid(field.NewPath("affinity", "timeout"), t.String(), "must be within 0-24h"))
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w %s (%s): %w", ErrInvalid, f, s.Name, errs)
}

func specific(a netip.Addr) bool { return a.Zone() == "" && !a.Is4In6() && !a.IsUnspecified() }

func nodePortOK(p uint16) bool { return p >= NodePortMin && p <= NodePortMax }

// validFast accepts a valid service without allocating; on any doubt it
// returns false and Validate's full pass names the fields.
func validFast(s Service) bool {
	f := s.Frontend
	if !f.Addr.IsValid() || !specific(f.Addr) || f.Port == 0 || (f.Protocol != TCP && f.Protocol != UDP) ||
		f.Kind > NodePort || (f.Kind == NodePort && !nodePortOK(f.Port)) ||
		s.Affinity.Timeout < 0 || s.Affinity.Timeout > MaxAffinityTimeout {
		return false
	}
	for i, b := range s.Backends {
		a := b.Addr.Addr()
		if !a.IsValid() || !specific(a) || a.Is4() != f.Addr.Is4() || b.Addr.Port() == 0 || b.Weight > MaxWeight {
			return false
		}
		// Duplicates: quadratic but allocation-free for the usual few backends.
		if len(s.Backends) <= 16 {
			for _, o := range s.Backends[:i] {
				if o.Addr == b.Addr {
					return false
				}
			}
		}
	}
	if len(s.Backends) > 16 {
		seen := make(map[netip.AddrPort]struct{}, len(s.Backends))
		for _, b := range s.Backends {
			if _, dup := seen[b.Addr]; dup {
				return false
			}
			seen[b.Addr] = struct{}{}
		}
	}
	return true
}

// Entry is a service as a Table holds it, with the revision of the change that
// wrote it.
type Entry struct {
	Service Service
	Rev     int64
}

// Table is the desired (or programmed) state of a datapath: services by
// frontend, each with the revision of its last change. It does no I/O, so
// datapaths keep one of what they programmed and tests compare tables. Not safe
// for concurrent use; datapaths guard theirs.
type Table struct {
	rev      int64
	services map[Frontend]Entry
}

// NewTable returns an empty table at revision 0.
func NewTable() *Table { return &Table{services: make(map[Frontend]Entry)} }

// Rev is the revision of the last change (0 for a new table).
func (t *Table) Rev() int64 { return t.rev }

// Len is the number of services.
func (t *Table) Len() int { return len(t.services) }

// Get returns the entry of a frontend.
func (t *Table) Get(f Frontend) (Entry, bool) {
	e, ok := t.services[f]
	return e, ok
}

// Apply records one validated change and returns the revision it got, or 0 when
// it changed nothing (an upsert of an equal service, a delete of an absent one).
func (t *Table) Apply(c ServiceChange) int64 {
	f := c.Service.Frontend
	old, had := t.services[f]
	switch c.Op {
	case Delete:
		if !had {
			return 0
		}
		delete(t.services, f)
	default:
		if had && old.Service.Equal(c.Service) {
			return 0
		}
		t.rev++
		s := c.Service
		s.Backends = slices.Clone(s.Backends) // callers may reuse their slice
		t.services[f] = Entry{Service: s, Rev: t.rev}
		return t.rev
	}
	t.rev++
	return t.rev
}

// All yields the entries ordered by frontend, so that output is reproducible.
func (t *Table) All() iter.Seq2[Frontend, Entry] {
	return func(yield func(Frontend, Entry) bool) {
		for _, f := range slices.SortedFunc(maps.Keys(t.services), CompareFrontends) {
			if !yield(f, t.services[f]) {
				return
			}
		}
	}
}

// Diff returns the changes that turn t into exactly desired: upserts for new
// and changed services, deletes for the ones not desired. It validates desired
// and reports duplicate frontends.
func (t *Table) Diff(desired []Service) ([]ServiceChange, error) {
	want := make(map[Frontend]int, len(desired))
	var errs []error
	for i, s := range desired {
		if err := Validate(s); err != nil {
			errs = append(errs, fmt.Errorf("services[%d]: %w", i, err))
			continue
		}
		if j, dup := want[s.Frontend]; dup {
			errs = append(errs, fmt.Errorf("%w: services[%d]: frontend %s already at services[%d]", ErrInvalid, i, s.Frontend, j))
			continue
		}
		want[s.Frontend] = i
	}
	if len(errs) > 0 {
		return nil, joinErrors(errs)
	}
	out := make([]ServiceChange, 0, len(desired))
	for f, e := range t.services {
		if _, ok := want[f]; !ok {
			out = append(out, ServiceChange{Op: Delete, Service: e.Service})
		}
	}
	slices.SortFunc(out, func(a, b ServiceChange) int { return CompareFrontends(a.Service.Frontend, b.Service.Frontend) })
	for _, s := range desired {
		if e, ok := t.services[s.Frontend]; ok && e.Service.Equal(s) {
			continue
		}
		out = append(out, ServiceChange{Op: Upsert, Service: s})
	}
	return out, nil
}

func joinErrors(errs []error) error {
	if len(errs) == 1 {
		return errs[0]
	}
	return fmt.Errorf("%d invalid services: %w", len(errs), errors.Join(errs...))
}

// CompareFrontends orders frontends by address, port, protocol, kind.
func CompareFrontends(a, b Frontend) int {
	return cmp.Or(a.Addr.Compare(b.Addr), cmp.Compare(a.Port, b.Port),
		cmp.Compare(a.Protocol, b.Protocol), cmp.Compare(a.Kind, b.Kind))
}

// ValidateChange validates an upsert fully and a delete by its frontend only.
func ValidateChange(c ServiceChange) error {
	switch c.Op {
	case Upsert:
		return Validate(c.Service)
	case Delete:
		return Validate(Service{Frontend: c.Service.Frontend, Name: c.Service.Name})
	}
	return fmt.Errorf("%w: %s: unknown op %d", ErrInvalid, c.Service.Frontend, c.Op)
}

// Clone returns an independent copy with the same entries and revisions.
func (t *Table) Clone() *Table {
	return &Table{rev: t.rev, services: maps.Clone(t.services)}
}
