package apis

import (
	"maps"
	"reflect"
	"sync"
	"time"
	"unsafe"
)

// DeepCopy returns a copy of v that shares no mutable memory with it: every
// pointer, slice and map reachable from v is copied, as generated DeepCopy
// methods do, for any Go type and without generated code. v may be any
// Object (a *core.Pod, or the Object interface itself) or any nested type.
//
// Strings, functions, channels, unsafe pointers and time.Time (whose
// *time.Location is shared by design) are kept, not copied. A nil slice or
// map stays nil and an empty one stays empty. v must be a tree: a pointer
// cycle would recurse forever, and two pointers to one value become two
// values. Unexported fields are copied like exported ones.
//
// The first copy of a type builds a copy plan by reflection; later copies
// reuse it, and types with nothing to copy deeply cost a plain assignment.
func DeepCopy[T any](v T) T {
	p := planFor(reflect.TypeFor[T]())
	if p.fix == nil {
		return v
	}
	if p.copyPointer != nil {
		// The common case, a *Kind: copying through the pointer's value
		// rather than its address keeps v off the heap.
		np := p.copyPointer(*(*unsafe.Pointer)(unsafe.Pointer(&v)))
		return *(*T)(unsafe.Pointer(&np))
	}
	out := v
	p.fix(unsafe.Pointer(&out))
	return out
}

// copyPlan says how to turn a shallow copy of a value of one type into a
// deep one. fix rewrites the value at the address in place, replacing every
// reference it holds with a copy; nil means the type holds no references
// that need copying (scalars, strings, structs of those).
type copyPlan struct {
	fix func(p unsafe.Pointer)
	// copyPointer, for pointer types, returns a deep copy of what old
	// points to (nil for nil).
	copyPointer func(old unsafe.Pointer) unsafe.Pointer
}

// copyPlans caches one plan per type. It is a cache of values derived from
// types alone, like encoding/json's, so sharing it between Schemes is safe.
var copyPlans struct {
	m       sync.Map // reflect.Type → *copyPlan
	buildMu sync.Mutex
}

func planFor(t reflect.Type) *copyPlan {
	if p, ok := copyPlans.m.Load(t); ok {
		return p.(*copyPlan)
	}
	copyPlans.buildMu.Lock()
	defer copyPlans.buildMu.Unlock()
	if p, ok := copyPlans.m.Load(t); ok {
		return p.(*copyPlan)
	}
	b := planBuilder{building: map[reflect.Type]*copyPlan{}, open: map[reflect.Type]bool{}}
	p := b.plan(t)
	for typ, bp := range b.building {
		copyPlans.m.Store(typ, bp)
	}
	return p
}

type planBuilder struct {
	// building holds the plans of this build, including unfinished ones: a
	// recursive type (type Node struct{ Kids []Node }) refers to its own plan,
	// whose fix is then called through the plan pointer.
	building map[reflect.Type]*copyPlan
	open     map[reflect.Type]bool // the types whose plans are being built, on the stack
}

var timeType = reflect.TypeFor[time.Time]()

func (b *planBuilder) plan(t reflect.Type) *copyPlan {
	if p, ok := copyPlans.m.Load(t); ok {
		return p.(*copyPlan)
	}
	if p, ok := b.building[t]; ok {
		return p
	}
	p := &copyPlan{}
	b.building[t] = p
	b.open[t] = true
	defer delete(b.open, t)
	switch t.Kind() {
	case reflect.Pointer:
		p.fix = b.pointerFix(t, p)
	case reflect.Slice:
		p.fix = b.sliceFix(t)
	case reflect.Map:
		p.fix = b.mapFix(t)
	case reflect.Interface:
		p.fix = interfaceFix(t)
	case reflect.Struct:
		if t == timeType {
			break
		}
		p.fix = b.structFix(t)
	case reflect.Array:
		p.fix = b.arrayFix(t)
	default:
		// Scalars and strings are values; funcs, channels and unsafe pointers
		// are handles that a copy shares.
	}
	return p
}

// deep reports whether values of ep's type need fixing. A plan still being
// built is assumed to (only types reached through a reference recurse).
func deep(ep *copyPlan, building bool) bool { return building || ep.fix != nil }

func (b *planBuilder) inProgress(t reflect.Type) bool { return b.open[t] }

func (b *planBuilder) structFix(t reflect.Type) func(unsafe.Pointer) {
	type fieldFix struct {
		offset uintptr
		plan   *copyPlan
	}
	var fixes []fieldFix
	for i := range t.NumField() {
		f := t.Field(i)
		building := b.inProgress(f.Type)
		fp := b.plan(f.Type)
		if deep(fp, building) {
			fixes = append(fixes, fieldFix{f.Offset, fp})
		}
	}
	switch len(fixes) {
	case 0:
		return nil
	case 1:
		off, fp := fixes[0].offset, fixes[0].plan
		return func(p unsafe.Pointer) {
			if fix := fp.fix; fix != nil { // nil only if a recursive type ended up shallow
				fix(unsafe.Add(p, off))
			}
		}
	}
	return func(p unsafe.Pointer) {
		for _, f := range fixes {
			if fix := f.plan.fix; fix != nil {
				fix(unsafe.Add(p, f.offset))
			}
		}
	}
}

func (b *planBuilder) arrayFix(t reflect.Type) func(unsafe.Pointer) {
	building := b.inProgress(t.Elem())
	ep := b.plan(t.Elem())
	if !deep(ep, building) || t.Len() == 0 {
		return nil
	}
	n, size := t.Len(), t.Elem().Size()
	return func(p unsafe.Pointer) {
		if fix := ep.fix; fix != nil {
			for i := range n {
				fix(unsafe.Add(p, uintptr(i)*size))
			}
		}
	}
}

func (b *planBuilder) pointerFix(t reflect.Type, p *copyPlan) func(unsafe.Pointer) {
	elem := t.Elem()
	if pointerFree(elem) {
		// *int32, *bool, *int64 and friends: a raw copy needs no write barriers.
		size := elem.Size()
		p.copyPointer = func(old unsafe.Pointer) unsafe.Pointer {
			if old == nil {
				return nil
			}
			np := reflect.New(elem).UnsafePointer()
			if size > 0 {
				copy(unsafe.Slice((*byte)(np), size), unsafe.Slice((*byte)(old), size))
			}
			return np
		}
	} else {
		ep := b.plan(elem)
		p.copyPointer = func(old unsafe.Pointer) unsafe.Pointer {
			if old == nil {
				return nil
			}
			nv := reflect.New(elem)
			nv.Elem().Set(reflect.NewAt(elem, old).Elem()) // a typed copy, with write barriers
			np := nv.UnsafePointer()
			if fix := ep.fix; fix != nil {
				fix(np)
			}
			return np
		}
	}
	cp := p.copyPointer
	return func(p unsafe.Pointer) {
		if old := *(*unsafe.Pointer)(p); old != nil {
			*(*unsafe.Pointer)(p) = cp(old)
		}
	}
}

func (b *planBuilder) sliceFix(t reflect.Type) func(unsafe.Pointer) {
	elem := t.Elem()
	// Fast paths for the slices objects are full of.
	switch elem.Kind() {
	case reflect.String:
		if elem == reflect.TypeFor[string]() {
			return func(p unsafe.Pointer) { cloneSlice((*[]string)(p)) }
		}
	case reflect.Uint8:
		if elem == reflect.TypeFor[byte]() {
			return func(p unsafe.Pointer) { cloneSlice((*[]byte)(p)) }
		}
	}
	building := b.inProgress(elem)
	ep := b.plan(elem)
	size := elem.Size()
	return func(p unsafe.Pointer) {
		old := reflect.NewAt(t, p).Elem()
		if old.IsNil() {
			return
		}
		n := old.Len()
		ns := reflect.MakeSlice(t, n, n)
		reflect.Copy(ns, old)
		base := ns.UnsafePointer()
		if fix := ep.fix; deep(ep, building) && fix != nil {
			for i := range n {
				fix(unsafe.Add(base, uintptr(i)*size))
			}
		}
		old.Set(ns)
	}
}

// pointerFree reports whether values of t hold no pointers at all (strings do).
func pointerFree(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return true
	case reflect.Array:
		return t.Len() == 0 || pointerFree(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if !pointerFree(t.Field(i).Type) {
				return false
			}
		}
		return true
	}
	return false
}

// cloneSlice replaces *s with a copy; nil stays nil, empty stays empty.
func cloneSlice[E any](s *[]E) {
	if *s == nil {
		return
	}
	*s = append(make([]E, 0, len(*s)), *s...)
}

func (b *planBuilder) mapFix(t reflect.Type) func(unsafe.Pointer) {
	if t == reflect.TypeFor[map[string]string]() {
		return func(p unsafe.Pointer) {
			m := (*map[string]string)(p)
			if *m != nil {
				*m = maps.Clone(*m)
			}
		}
	}
	elem := t.Elem()
	ep := b.plan(elem)
	building := b.inProgress(elem)
	return func(p unsafe.Pointer) {
		old := reflect.NewAt(t, p).Elem()
		if old.IsNil() {
			return
		}
		nm := reflect.MakeMapWithSize(t, old.Len())
		if !deep(ep, building) || ep.fix == nil {
			for it := old.MapRange(); it.Next(); {
				nm.SetMapIndex(it.Key(), it.Value())
			}
		} else {
			v := reflect.New(elem).Elem()
			vp := v.Addr().UnsafePointer()
			for it := old.MapRange(); it.Next(); {
				v.Set(it.Value())
				ep.fix(vp)
				nm.SetMapIndex(it.Key(), v) // stores a copy of v
			}
		}
		old.Set(nm)
	}
}

func interfaceFix(t reflect.Type) func(unsafe.Pointer) {
	return func(p unsafe.Pointer) {
		iv := reflect.NewAt(t, p).Elem()
		if iv.IsNil() {
			return
		}
		dyn := iv.Elem()
		dp := planFor(dyn.Type())
		if dp.fix == nil {
			return // an interface holds its own copy of a value without references
		}
		nv := reflect.New(dyn.Type()).Elem()
		nv.Set(dyn)
		dp.fix(nv.Addr().UnsafePointer())
		iv.Set(nv)
	}
}
