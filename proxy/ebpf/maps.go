package ebpf

import (
	"net/netip"

	"github.com/gantry-sdk/gantry/proxy"
)

// Map keys and values, laid out as the programs read them. Addresses and ports
// are in network byte order; every padding byte is an explicit zero field so
// that Go and the programs hash the same bytes.

type svcKey4 struct {
	Addr  [4]byte
	Port  [2]byte
	Proto uint8
	Pad   uint8
}

type svcKey6 struct {
	Addr  [16]byte
	Port  [2]byte
	Proto uint8
	Pad   uint8
}

// svcValue is a service entry. A connect reads SetID and Count in one lookup,
// so replacing the entry switches a service from one backend set to another
// atomically.
type svcValue struct {
	SetID   uint32 // backend slots are (SetID, 0..Count-1); 0: inline backends
	Count   uint32 // 0: no backend, connects fail with EPERM
	ID      uint32 // stable for the frontend's life: keys affinity and membership
	Flags   uint32
	Timeout uint64 // affinity timeout, ns
	Rev     uint64 // proxy.Table revision of the change that wrote the entry
}

// inlineMax is how many backends a service entry carries itself: a service
// with at most this many slots needs no backend-map entries, so programming it
// is one map update and replacing it is trivially atomic.
const inlineMax = 4

type svcValue4 struct {
	svcValue
	Inline [inlineMax]backend4
}

type svcValue6 struct {
	svcValue
	Inline [inlineMax]backend6
}

func mkValue4(h svcValue, slots []netip.AddrPort) svcValue4 {
	v := svcValue4{svcValue: h}
	if len(slots) <= inlineMax {
		for i, a := range slots {
			v.Inline[i] = mkBackend4(a)
		}
	}
	return v
}

func mkValue6(h svcValue, slots []netip.AddrPort) svcValue6 {
	v := svcValue6{svcValue: h}
	if len(slots) <= inlineMax {
		for i, a := range slots {
			v.Inline[i] = mkBackend6(a)
		}
	}
	return v
}

type backendKey struct {
	SetID uint32
	Slot  uint32
}

type backend4 struct {
	Addr [4]byte
	Port [2]byte
	Pad  uint16
}

type backend6 struct {
	Addr [16]byte
	Port [2]byte
	Pad  uint16
}

type revKey4 struct {
	Cookie uint64
	Addr   [4]byte
	Port   [2]byte
	Pad    uint16
}

type revKey6 struct {
	Cookie uint64
	Addr   [16]byte
	Port   [2]byte
	Pad    uint16
	Pad2   uint32
}

type revValue4 = backend4
type revValue6 = backend6

type affinityKey struct {
	NetnsCookie uint64
	ServiceID   uint32
	Pad         uint32
}

type affinityValue struct {
	Addr [16]byte
	Port [2]byte
	Pad  uint16
	Pad2 uint32
	TS   uint64 // ktime ns of the last connect that used it
}

type memberKey struct {
	ServiceID uint32
	Port      [2]byte
	Pad       uint16
	Addr      [16]byte
}

func port(p uint16) [2]byte { return [2]byte{byte(p >> 8), byte(p)} }

func mkSvcKey4(f proxy.Frontend) svcKey4 {
	return svcKey4{Addr: f.Addr.As4(), Port: port(f.Port), Proto: uint8(f.Protocol)}
}

func mkSvcKey6(f proxy.Frontend) svcKey6 {
	return svcKey6{Addr: f.Addr.As16(), Port: port(f.Port), Proto: uint8(f.Protocol)}
}

func mkBackend4(a netip.AddrPort) backend4 {
	return backend4{Addr: a.Addr().As4(), Port: port(a.Port())}
}

func mkBackend6(a netip.AddrPort) backend6 {
	return backend6{Addr: a.Addr().As16(), Port: port(a.Port())}
}

func mkMemberKey(id uint32, a netip.AddrPort) memberKey {
	k := memberKey{ServiceID: id, Port: port(a.Port())}
	if a.Addr().Is4() {
		a4 := a.Addr().As4()
		copy(k.Addr[:], a4[:])
	} else {
		k.Addr = a.Addr().As16()
	}
	return k
}
