package proxy

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"time"
)

// Sentinel errors. Errors returned by this package and by datapaths wrap one
// of these with context; test with errors.Is.
var (
	// ErrInvalid: a change failed validation; field.AsList(err) lists why.
	ErrInvalid = errors.New("proxy: invalid service")
	// ErrUnsupported: the datapath cannot run on this machine (missing kernel
	// feature, capability or tool). The wrapped error says which.
	ErrUnsupported = errors.New("proxy: datapath unsupported")
	// ErrFull: a datapath table is at capacity.
	ErrFull = errors.New("proxy: datapath full")
	// ErrClosed: the datapath was closed.
	ErrClosed = errors.New("proxy: datapath closed")
)

// Datapath is the port through which the proxy controller programs service
// load balancing. Implementations: proxy/ebpf (socket-level translation on
// cgroup hooks) and proxy/nftables (DNAT in the kernel's netfilter).
//
// Apply is incremental: each change upserts or deletes one service, keyed by
// its Frontend; services not named are left as they are. Changes are applied
// in order; a failing batch returns an error and the datapath keeps every change
// that was applied before the failing one (the implementations' Table method
// says which), so retrying the batch, or a Sync, completes it. Sync is the full resync: afterwards the datapath holds
// exactly the given services (it computes the difference with what it holds and
// applies only that). Neither ever exposes a half-written service to traffic.
type Datapath interface {
	Apply(ctx context.Context, changes []ServiceChange) error
	Sync(ctx context.Context, services []Service) error
	Close() error
}

// Protocol is the transport protocol of a frontend.
type Protocol uint8

// Protocols, numbered as IP protocol numbers so that datapaths can use them as is.
const (
	TCP Protocol = 6
	UDP Protocol = 17
)

func (p Protocol) String() string {
	switch p {
	case TCP:
		return "TCP"
	case UDP:
		return "UDP"
	}
	return "Protocol(" + strconv.Itoa(int(p)) + ")"
}

// Kind says how a frontend is reached.
type Kind uint8

const (
	// ClusterIP: a virtual IP, reachable from sockets on this node (and, for the
	// nftables datapath, from packets routed through it).
	ClusterIP Kind = iota
	// NodePort: a node address and a port in NodePortMin..NodePortMax, reachable
	// from local sockets and from other hosts and network namespaces.
	NodePort
)

func (k Kind) String() string {
	if k == NodePort {
		return "NodePort"
	}
	return "ClusterIP"
}

// The node-port range, as Kubernetes defaults it.
const (
	NodePortMin = 30000
	NodePortMax = 32767
)

// MaxAffinityTimeout is the longest ClientIP affinity timeout (Kubernetes: one day).
const MaxAffinityTimeout = 24 * time.Hour

// DefaultAffinityTimeout is used when Affinity.ClientIP is set without a timeout
// (Kubernetes: 10800 s).
const DefaultAffinityTimeout = 3 * time.Hour

// Frontend is the address a client connects to: a ClusterIP VIP or a node
// address with a node port. It is the identity of a Service in a datapath.
// A NodePort Service that listens on several node addresses is one Service per
// address (the controller expands it).
type Frontend struct {
	Kind     Kind
	Addr     netip.Addr // IPv4 or IPv6, no zone
	Port     uint16
	Protocol Protocol
}

func (f Frontend) String() string {
	return f.Protocol.String() + "/" + netip.AddrPortFrom(f.Addr, f.Port).String()
}

// AddrPort is the frontend's address and port.
func (f Frontend) AddrPort() netip.AddrPort { return netip.AddrPortFrom(f.Addr, f.Port) }

// Backend is one endpoint of a service, with the EndpointSlice conditions.
type Backend struct {
	Addr netip.AddrPort
	// Ready: the endpoint passes readiness and is not terminating.
	Ready bool
	// Serving: the endpoint passes readiness, terminating or not.
	Serving bool
	// Terminating: the endpoint is shutting down.
	Terminating bool
	// Weight is the share of new connections relative to the other selected
	// backends, 1..MaxWeight; 0 means 1.
	Weight uint8
}

// MaxWeight bounds Backend.Weight; a backend of weight w takes w slots.
const MaxWeight = 16

// Affinity is the session affinity of a service.
type Affinity struct {
	// ClientIP: connections from one client go to the backend its first
	// connection went to, until Timeout passes without a new connection.
	ClientIP bool
	// Timeout: 0 means DefaultAffinityTimeout.
	Timeout time.Duration
}

// Service is one frontend and the backends it balances over. A Table keeps its
// own copy of Backends, so a caller may reuse its slice after Apply returns.
type Service struct {
	Frontend Frontend
	Backends []Backend
	Affinity Affinity
	// Name is for logs and errors only ("namespace/name:port").
	Name string
}

// EffectiveTimeout is the affinity timeout a datapath programs (0 without affinity).
func (s Service) EffectiveTimeout() time.Duration {
	if !s.Affinity.ClientIP {
		return 0
	}
	if s.Affinity.Timeout == 0 {
		return DefaultAffinityTimeout
	}
	return s.Affinity.Timeout
}

// Selected returns the backends that receive new connections, as Kubernetes
// picks them: the ready ones; if none is ready, the serving terminating ones (so
// that a rolling update does not drop traffic); else none, and the datapath fails
// new connections locally.
func (s Service) Selected() []Backend {
	var out []Backend
	for _, b := range s.Backends {
		if b.Ready {
			out = append(out, b)
		}
	}
	if len(out) > 0 {
		return out
	}
	for _, b := range s.Backends {
		if b.Serving && b.Terminating {
			out = append(out, b)
		}
	}
	return out
}

// Slots expands the selected backends by weight into the list a datapath
// chooses from uniformly: a backend of weight w appears w times. The order is
// the order of Backends, so equal services give equal slots.
func (s Service) Slots() []netip.AddrPort { return s.AppendSlots(nil) }

// AppendSlots appends the slots to dst (see Slots), so that a datapath
// programming many services can reuse one buffer.
func (s Service) AppendSlots(dst []netip.AddrPort) []netip.AddrPort {
	ready := false
	for _, b := range s.Backends {
		if b.Ready {
			ready = true
			break
		}
	}
	for _, b := range s.Backends {
		if !(b.Ready || (!ready && b.Serving && b.Terminating)) {
			continue
		}
		for range max(int(b.Weight), 1) {
			dst = append(dst, b.Addr)
		}
	}
	return dst
}

// Equal reports whether two services program the same datapath state.
func (s Service) Equal(o Service) bool {
	return s.Frontend == o.Frontend && s.Affinity == o.Affinity && s.Name == o.Name &&
		slices.Equal(s.Backends, o.Backends)
}

// Op is what a ServiceChange does.
type Op uint8

const (
	// Upsert adds the service or replaces the one with the same Frontend.
	Upsert Op = iota
	// Delete removes the service with the Frontend; deleting an absent one is a no-op.
	Delete
)

func (o Op) String() string {
	if o == Delete {
		return "Delete"
	}
	return "Upsert"
}

// ServiceChange is one step of an incremental update.
type ServiceChange struct {
	Op      Op
	Service Service // for Delete only Service.Frontend is read
}

func (c ServiceChange) String() string {
	return fmt.Sprintf("%s %s", c.Op, c.Service.Frontend)
}
