package ebpf

import (
	"fmt"

	bpf "github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
)

// Offsets into struct bpf_sock_addr (include/uapi/linux/bpf.h).
const (
	ctxUserIP4  = 4
	ctxUserIP6  = 8
	ctxUserPort = 24
	ctxProtocol = 36
)

// Stack layout of the translating programs (offsets from the frame pointer).
// Every region is zeroed first so that key padding hashes the same as Go's.
const (
	stSvcKey  = -24  // svcKey: addr, port, proto, pad (<= 20 bytes)
	stBeKey   = -32  // backendKey: set, slot
	stRevKey  = -64  // revKey: cookie, addr, port, pad (<= 28 bytes)
	stRevVal  = -88  // revValue: addr, port, pad (<= 20 bytes)
	stAffKey  = -104 // affinityKey: netns cookie, service id, pad
	stAffVal  = -136 // affinityValue: addr[16], port, pad, ts
	stMemKey  = -160 // memberKey: service id, port, pad, addr[16]
	stackUsed = 160
)

// Offsets into the map values the programs read.
const (
	svcSetID   = 0
	svcCount   = 4
	svcID      = 8
	svcFlags   = 12
	svcTimeout = 16
	svcInline  = 32 // inlineMax backends, each laid out as a backend value
	affPort    = 16
	affTS      = 24
)

// flagAffinity marks a service with ClientIP affinity.
const flagAffinity = 1

// family describes where one address family keeps its address.
type family struct {
	name    string // "4" or "6"
	addrLen int16  // 4 or 16
	ctxIP   int16  // offset of user_ip4 / user_ip6 in the context
}

var (
	inet4 = family{name: "4", addrLen: 4, ctxIP: ctxUserIP4}
	inet6 = family{name: "6", addrLen: 16, ctxIP: ctxUserIP6}
)

// progMaps are the maps one family's programs use.
type progMaps struct {
	services, backends, reverse, affinity, members *bpf.Map
}

// copyWords copies n 4-byte words through R1. Socket-address context fields
// must be read and written 4 bytes at a time.
func copyWords(dst asm.Register, dstOff int16, src asm.Register, srcOff int16, n int16) asm.Instructions {
	var out asm.Instructions
	for i := range n {
		out = append(out,
			asm.LoadMem(asm.R1, src, srcOff+4*i, asm.Word),
			asm.StoreMem(dst, dstOff+4*i, asm.R1, asm.Word))
	}
	return out
}

// zeroStack zeroes the stack from the frame pointer + from up to the frame
// pointer (asm has no 8-byte store of an immediate, so it goes through R1).
func zeroStack(from int16) asm.Instructions {
	out := asm.Instructions{asm.Mov.Imm(asm.R1, 0)}
	for off := from; off < 0; off += 8 {
		out = append(out, asm.StoreMem(asm.RFP, off, asm.R1, asm.DWord))
	}
	return out
}

// stackPtr sets reg to the frame pointer plus off.
func stackPtr(reg asm.Register, off int16) asm.Instructions {
	return asm.Instructions{asm.Mov.Reg(reg, asm.RFP), asm.Add.Imm(reg, int32(off))}
}

// translateProgram is the program for connect (perSocket=false: a random
// backend for every connect) and for sendmsg (perSocket=true: the backend is
// chosen by the socket cookie, so that one unconnected UDP socket keeps talking
// to one backend). It returns 1 to let the call go on (translated or not: an
// address that is not a service is left alone) and 0 to fail it with EPERM when
// the service has no backend.
//
// A service of at most inlineMax slots carries its backends in its own entry;
// a larger one names a set of slots in the backend map. The lookup of the
// service and its backend runs at most twice: a connect that read a service
// entry just before the datapath replaced it may find the old backend slots
// already deleted, and then reads the new entry.
//
// Registers: R6 context, R7 service value, R8 backend (or affinity) value,
// R9 backend count.
func translateProgram(f family, m progMaps, perSocket bool) asm.Instructions {
	L := f.addrLen
	in := asm.Instructions{asm.Mov.Reg(asm.R6, asm.R1)}
	emit := func(x ...asm.Instruction) { in = append(in, x...) }
	emitAll := func(x asm.Instructions) { in = append(in, x...) }
	emitAll(zeroStack(-stackUsed))
	emitAll(copyWords(asm.RFP, stSvcKey, asm.R6, f.ctxIP, L/4))
	emit(
		asm.LoadMem(asm.R1, asm.R6, ctxUserPort, asm.Word),
		asm.StoreMem(asm.RFP, stSvcKey+L, asm.R1, asm.Half),
		asm.LoadMem(asm.R1, asm.R6, ctxProtocol, asm.Word),
		asm.StoreMem(asm.RFP, stSvcKey+L+2, asm.R1, asm.Byte),
	)
	for attempt := range 2 {
		p := fmt.Sprintf("a%d_", attempt)
		retry := "deny"
		if attempt == 0 {
			retry = "a1_start"
		}
		emit(asm.LoadMapPtr(asm.R1, m.services.FD()).WithSymbol(p + "start"))
		emitAll(stackPtr(asm.R2, stSvcKey))
		emit(
			asm.FnMapLookupElem.Call(),
			asm.JEq.Imm(asm.R0, 0, "pass"),
			asm.Mov.Reg(asm.R7, asm.R0),
			asm.LoadMem(asm.R9, asm.R7, svcCount, asm.Word),
			asm.JEq.Imm(asm.R9, 0, "deny"),
			asm.LoadMem(asm.R1, asm.R7, svcFlags, asm.Word),
			asm.JSet.Imm(asm.R1, flagAffinity, p+"aff"),
			asm.Ja.Label(p+"pick"),

			// ClientIP affinity. At connect time the source address is not
			// chosen yet, so the client is its network namespace (a pod).
			asm.Mov.Reg(asm.R1, asm.R6).WithSymbol(p+"aff"),
			asm.FnGetNetnsCookie.Call(),
			asm.StoreMem(asm.RFP, stAffKey, asm.R0, asm.DWord),
			asm.LoadMem(asm.R1, asm.R7, svcID, asm.Word),
			asm.StoreMem(asm.RFP, stAffKey+8, asm.R1, asm.Word),
			asm.LoadMapPtr(asm.R1, m.affinity.FD()),
		)
		emitAll(stackPtr(asm.R2, stAffKey))
		emit(
			asm.FnMapLookupElem.Call(),
			asm.JEq.Imm(asm.R0, 0, p+"pick"),
			asm.Mov.Reg(asm.R8, asm.R0),
			asm.FnKtimeGetNs.Call(),
			asm.LoadMem(asm.R1, asm.R8, affTS, asm.DWord),
			asm.Sub.Reg(asm.R0, asm.R1),
			asm.LoadMem(asm.R2, asm.R7, svcTimeout, asm.DWord),
			asm.JGE.Reg(asm.R0, asm.R2, p+"pick"),
			// The remembered backend must still be a member of the service.
			asm.LoadMem(asm.R1, asm.R7, svcID, asm.Word),
			asm.StoreMem(asm.RFP, stMemKey, asm.R1, asm.Word),
			asm.LoadMem(asm.R1, asm.R8, affPort, asm.Half),
			asm.StoreMem(asm.RFP, stMemKey+4, asm.R1, asm.Half),
		)
		emitAll(copyWords(asm.RFP, stMemKey+8, asm.R8, 0, 4))
		emit(asm.LoadMapPtr(asm.R1, m.members.FD()))
		emitAll(stackPtr(asm.R2, stMemKey))
		emit(
			asm.FnMapLookupElem.Call(),
			asm.JEq.Imm(asm.R0, 0, p+"pick"),
			asm.FnKtimeGetNs.Call(),
			asm.StoreMem(asm.R8, affTS, asm.R0, asm.DWord),
			asm.Ja.Label("rewrite_aff"),
		)

		// Pick a slot.
		if perSocket {
			emit(asm.Mov.Reg(asm.R1, asm.R6).WithSymbol(p+"pick"), asm.FnGetSocketCookie.Call())
		} else {
			emit(asm.FnGetPrandomU32.Call().WithSymbol(p + "pick"))
		}
		emit(
			asm.Mod.Reg(asm.R0, asm.R9),
			// Up to inlineMax backends live in the service entry itself.
			asm.JGT.Imm(asm.R9, inlineMax, p+"slots"),
			asm.JGT.Imm(asm.R0, inlineMax-1, "deny"), // never taken; bounds R0 for the verifier
			asm.Mul.Imm(asm.R0, int32(L+4)),
			asm.Mov.Reg(asm.R8, asm.R7),
			asm.Add.Reg(asm.R8, asm.R0),
			asm.Add.Imm(asm.R8, svcInline),
			asm.Ja.Label(p+"chosen"),

			asm.StoreMem(asm.RFP, stBeKey+4, asm.R0, asm.Word).WithSymbol(p+"slots"),
			asm.LoadMem(asm.R1, asm.R7, svcSetID, asm.Word),
			asm.StoreMem(asm.RFP, stBeKey, asm.R1, asm.Word),
			asm.LoadMapPtr(asm.R1, m.backends.FD()),
		)
		emitAll(stackPtr(asm.R2, stBeKey))
		emit(
			asm.FnMapLookupElem.Call(),
			asm.JEq.Imm(asm.R0, 0, retry),
			asm.Mov.Reg(asm.R8, asm.R0),
			asm.LoadMem(asm.R1, asm.R7, svcFlags, asm.Word).WithSymbol(p+"chosen"),
			asm.JSet.Imm(asm.R1, flagAffinity, p+"remember"),
			asm.Ja.Label("rewrite_backend"),
		)
		// Remember the choice for the client.
		remember := copyWords(asm.RFP, stAffVal, asm.R8, 0, L/4)
		remember[0] = remember[0].WithSymbol(p + "remember")
		emitAll(remember)
		emit(
			asm.LoadMem(asm.R1, asm.R8, L, asm.Half),
			asm.StoreMem(asm.RFP, stAffVal+affPort, asm.R1, asm.Half),
			asm.FnKtimeGetNs.Call(),
			asm.StoreMem(asm.RFP, stAffVal+affTS, asm.R0, asm.DWord),
			asm.LoadMapPtr(asm.R1, m.affinity.FD()),
		)
		emitAll(stackPtr(asm.R2, stAffKey))
		emitAll(stackPtr(asm.R3, stAffVal))
		emit(
			asm.Mov.Imm(asm.R4, 0),
			asm.FnMapUpdateElem.Call(),
			asm.Ja.Label("rewrite_backend"),
		)
	}
	emitAll(rewrite(f, m, "rewrite_backend", L))
	emitAll(rewrite(f, m, "rewrite_aff", affPort))
	emit(
		asm.Mov.Imm(asm.R0, 0).WithSymbol("deny"),
		asm.Return(),
		asm.Mov.Imm(asm.R0, 1).WithSymbol("pass"),
		asm.Return(),
	)
	return in
}

// rewrite records the reverse translation (socket cookie + backend -> the
// service address the application asked for) and writes the backend held at
// R8 (address at 0, port at portOff) into the context.
func rewrite(f family, m progMaps, label string, portOff int16) asm.Instructions {
	L := f.addrLen
	in := asm.Instructions{
		asm.Mov.Reg(asm.R1, asm.R6).WithSymbol(label),
		asm.FnGetSocketCookie.Call(),
		asm.StoreMem(asm.RFP, stRevKey, asm.R0, asm.DWord),
	}
	in = append(in, copyWords(asm.RFP, stRevKey+8, asm.R8, 0, L/4)...)
	in = append(in,
		asm.LoadMem(asm.R1, asm.R8, portOff, asm.Half),
		asm.StoreMem(asm.RFP, stRevKey+8+L, asm.R1, asm.Half),
	)
	in = append(in, copyWords(asm.RFP, stRevVal, asm.RFP, stSvcKey, L/4)...)
	in = append(in,
		asm.LoadMem(asm.R1, asm.RFP, stSvcKey+L, asm.Half),
		asm.StoreMem(asm.RFP, stRevVal+L, asm.R1, asm.Half),
		asm.LoadMapPtr(asm.R1, m.reverse.FD()),
	)
	in = append(in, stackPtr(asm.R2, stRevKey)...)
	in = append(in, stackPtr(asm.R3, stRevVal)...)
	in = append(in, asm.Mov.Imm(asm.R4, 0), asm.FnMapUpdateElem.Call())
	in = append(in, copyWords(asm.R6, f.ctxIP, asm.R8, 0, L/4)...)
	in = append(in,
		asm.LoadMem(asm.R1, asm.R8, portOff, asm.Half),
		asm.StoreMem(asm.R6, ctxUserPort, asm.R1, asm.Word), // user_port takes 4-byte stores only
		asm.Mov.Imm(asm.R0, 1),
		asm.Return(),
	)
	return in
}

// reverseProgram is the program for recvmsg and getpeername: when the socket
// talks to a backend it reached through a service, it shows the service
// address instead, so replies seem to come from the VIP.
func reverseProgram(f family, m progMaps) asm.Instructions {
	L := f.addrLen
	const key = -32
	in := asm.Instructions{asm.Mov.Reg(asm.R6, asm.R1)}
	in = append(in, zeroStack(key)...)
	in = append(in,
		asm.Mov.Reg(asm.R1, asm.R6),
		asm.FnGetSocketCookie.Call(),
		asm.StoreMem(asm.RFP, key, asm.R0, asm.DWord),
	)
	in = append(in, copyWords(asm.RFP, key+8, asm.R6, f.ctxIP, L/4)...)
	in = append(in,
		asm.LoadMem(asm.R1, asm.R6, ctxUserPort, asm.Word),
		asm.StoreMem(asm.RFP, key+8+L, asm.R1, asm.Half),
		asm.LoadMapPtr(asm.R1, m.reverse.FD()),
	)
	in = append(in, stackPtr(asm.R2, key)...)
	in = append(in,
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "out"),
		asm.Mov.Reg(asm.R7, asm.R0),
	)
	in = append(in, copyWords(asm.R6, f.ctxIP, asm.R7, 0, L/4)...)
	in = append(in,
		asm.LoadMem(asm.R1, asm.R7, L, asm.Half),
		asm.StoreMem(asm.R6, ctxUserPort, asm.R1, asm.Word),
		asm.Mov.Imm(asm.R0, 1).WithSymbol("out"),
		asm.Return(),
	)
	return in
}

// hook is one program and where it attaches.
type hook struct {
	name   string
	attach bpf.AttachType
	build  func(family, progMaps) asm.Instructions
	family family
}

func hooks() []hook {
	connect := func(f family, m progMaps) asm.Instructions { return translateProgram(f, m, false) }
	sendmsg := func(f family, m progMaps) asm.Instructions { return translateProgram(f, m, true) }
	return []hook{
		{"connect4", bpf.AttachCGroupInet4Connect, connect, inet4},
		{"sendmsg4", bpf.AttachCGroupUDP4Sendmsg, sendmsg, inet4},
		{"recvmsg4", bpf.AttachCGroupUDP4Recvmsg, reverseProgram, inet4},
		{"getpeername4", bpf.AttachCgroupInet4GetPeername, reverseProgram, inet4},
		{"connect6", bpf.AttachCGroupInet6Connect, connect, inet6},
		{"sendmsg6", bpf.AttachCGroupUDP6Sendmsg, sendmsg, inet6},
		{"recvmsg6", bpf.AttachCGroupUDP6Recvmsg, reverseProgram, inet6},
		{"getpeername6", bpf.AttachCgroupInet6GetPeername, reverseProgram, inet6},
	}
}
