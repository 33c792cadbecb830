package apis

import (
	"reflect"
	"sync"
	"time"
)

// SemanticEqual reports whether a and b hold the same API content: like
// reflect.DeepEqual, except that a nil and an empty slice or map are equal
// (JSON cannot tell them apart), times are compared as instants, and any
// type with an `Equal(T) bool` method (resource.Quantity: "1Ki" equals
// "1024") is compared with it. Update validation uses it so that a client's
// freshly built object is not "changed" by the way it spells emptiness.
func SemanticEqual(a, b any) bool {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	if !va.IsValid() || !vb.IsValid() {
		return va.IsValid() == vb.IsValid()
	}
	if va.Type() != vb.Type() {
		return false
	}
	return semanticEqual(va, vb)
}

var semanticTimeType = reflect.TypeFor[time.Time]()

// equalMethods caches, per type, its `Equal(T) bool` method (or the zero
// Value): looking methods up by name on every visited value is slow.
var equalMethods sync.Map // reflect.Type → reflect.Value

func equalMethod(t reflect.Type) reflect.Value {
	if v, ok := equalMethods.Load(t); ok {
		return v.(reflect.Value)
	}
	var fn reflect.Value
	if m, ok := t.MethodByName("Equal"); ok && m.Type.NumIn() == 2 && m.Type.In(1) == t &&
		m.Type.NumOut() == 1 && m.Type.Out(0).Kind() == reflect.Bool {
		fn = m.Func
	}
	equalMethods.Store(t, fn)
	return fn
}

func semanticEqual(a, b reflect.Value) bool {
	t := a.Type()
	if t == semanticTimeType {
		return a.Interface().(time.Time).Equal(b.Interface().(time.Time))
	}
	if eq := equalMethod(t); eq.IsValid() && a.CanInterface() {
		return eq.Call([]reflect.Value{a, b})[0].Bool()
	}
	switch t.Kind() {
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		return a.Pointer() == b.Pointer() || semanticEqual(a.Elem(), b.Elem())
	case reflect.Interface:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		if a.Elem().Type() != b.Elem().Type() {
			return false
		}
		return semanticEqual(a.Elem(), b.Elem())
	case reflect.Slice:
		if a.Len() != b.Len() {
			return false
		}
		for i := range a.Len() {
			if !semanticEqual(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Array:
		for i := range a.Len() {
			if !semanticEqual(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Map:
		if a.Len() != b.Len() {
			return false
		}
		iter := a.MapRange()
		for iter.Next() {
			bv := b.MapIndex(iter.Key())
			if !bv.IsValid() || !semanticEqual(iter.Value(), bv) {
				return false
			}
		}
		return true
	case reflect.Struct:
		for i := range a.NumField() {
			if !semanticEqual(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	case reflect.Func, reflect.Chan, reflect.UnsafePointer:
		return a.Pointer() == b.Pointer()
	default:
		// Scalars, read without Interface so unexported fields work too.
		switch t.Kind() {
		case reflect.Bool:
			return a.Bool() == b.Bool()
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			return a.Int() == b.Int()
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			return a.Uint() == b.Uint()
		case reflect.Float32, reflect.Float64:
			return a.Float() == b.Float()
		case reflect.Complex64, reflect.Complex128:
			return a.Complex() == b.Complex()
		case reflect.String:
			return a.String() == b.String()
		}
	}
	return false
}
