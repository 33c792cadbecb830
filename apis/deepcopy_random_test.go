package apis

import (
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// randomValue builds a random value of type t: nil, empty and filled
// slices, maps and pointers, interfaces holding nested data, and unexported
// fields set too, so DeepCopy meets every shape the type allows.
func randomValue(r *rand.Rand, t reflect.Type, depth int) reflect.Value {
	v := reflect.New(t).Elem()
	fillRandom(r, v, depth)
	return v
}

func fillRandom(r *rand.Rand, v reflect.Value, depth int) {
	if depth > 6 {
		return // leave deep values zero: recursive types stay finite
	}
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(r.IntN(2) == 1)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(r.IntN(200) - 100))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		v.SetUint(uint64(r.IntN(200)))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(r.Float64())
	case reflect.String:
		v.SetString([]string{"", "a", "web", "kube-system", "x y"}[r.IntN(5)])
	case reflect.Pointer:
		if r.IntN(4) == 0 {
			return
		}
		p := reflect.New(v.Type().Elem())
		fillRandom(r, p.Elem(), depth+1)
		v.Set(p)
	case reflect.Slice:
		switch r.IntN(4) {
		case 0:
			return
		case 1:
			v.Set(reflect.MakeSlice(v.Type(), 0, r.IntN(3)))
			return
		}
		if v.Type() == reflect.TypeFor[RawJSON]() {
			v.SetBytes([]byte(`{"k":[1,2]}`))
			return
		}
		n := 1 + r.IntN(3)
		s := reflect.MakeSlice(v.Type(), n, n+r.IntN(2))
		for i := range n {
			fillRandom(r, s.Index(i), depth+1)
		}
		v.Set(s)
	case reflect.Map:
		switch r.IntN(4) {
		case 0:
			return
		case 1:
			v.Set(reflect.MakeMap(v.Type()))
			return
		}
		m := reflect.MakeMap(v.Type())
		for range 1 + r.IntN(3) {
			k := randomValue(r, v.Type().Key(), depth+1)
			m.SetMapIndex(k, randomValue(r, v.Type().Elem(), depth+1))
		}
		v.Set(m)
	case reflect.Array:
		for i := range v.Len() {
			fillRandom(r, v.Index(i), depth+1)
		}
	case reflect.Interface:
		if v.NumMethod() > 0 || r.IntN(3) == 0 {
			return
		}
		var dyn any
		switch r.IntN(4) {
		case 0:
			dyn = r.IntN(10)
		case 1:
			dyn = []any{"a", map[string]any{"b": []int{1}}}
		case 2:
			dyn = map[string]any{"x": &[]string{"y"}}
		default:
			dyn = &Condition{Type: "Ready"}
		}
		v.Set(reflect.ValueOf(dyn))
	case reflect.Struct:
		switch v.Type() {
		case reflect.TypeFor[time.Time]():
			v.Set(reflect.ValueOf(time.Unix(int64(r.IntN(1<<31)), 0).UTC()))
			return
		}
		for i := range v.NumField() {
			f := v.Field(i)
			if !f.CanSet() { // unexported: set it through its address
				f = reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem()
			}
			fillRandom(r, f, depth+1)
		}
	}
}

// CheckRandomDeepCopies copies n random values of type t and fails t if a
// copy differs from its original or shares memory with it. It is exported to
// the package's external tests, which run it over every built-in kind.
func CheckRandomDeepCopies(tb testing.TB, typ reflect.Type, n int, seed uint64) {
	tb.Helper()
	r := rand.New(rand.NewPCG(seed, 1))
	copyOf := reflect.ValueOf(deepCopyValue)
	for i := range n {
		in := randomValue(r, typ, 0)
		out := copyOf.Call([]reflect.Value{in.Addr()})[0].Elem().Elem()
		require.True(tb, reflect.DeepEqual(in.Interface(), out.Interface()), "%v #%d: copy differs", typ, i)
		if p := sharedMemory(in, out, "v"); p != "" {
			tb.Fatalf("%v #%d: copy shares %s with the original", typ, i, p)
		}
		// The generic entry point, through an interface holding a pointer.
		ptr := DeepCopy[any](in.Addr().Interface())
		viaAny := reflect.ValueOf(ptr).Elem()
		require.NotEqual(tb, in.Addr().Pointer(), reflect.ValueOf(ptr).Pointer())
		require.True(tb, reflect.DeepEqual(in.Interface(), viaAny.Interface()), "%v #%d: DeepCopy[any] differs", typ, i)
		if p := sharedMemory(in, viaAny, "v"); p != "" {
			tb.Fatalf("%v #%d: DeepCopy[any] shares %s with the original", typ, i, p)
		}
	}
}

// deepCopyValue copies the value p points to, whatever its type, through
// the same plans DeepCopy uses.
func deepCopyValue(p any) any {
	v := reflect.ValueOf(p)
	out := reflect.New(v.Type().Elem())
	out.Elem().Set(v.Elem())
	if plan := planFor(v.Type().Elem()); plan.fix != nil {
		plan.fix(out.UnsafePointer())
	}
	return out.Interface()
}

func TestDeepCopyRandomValues(t *testing.T) {
	for _, typ := range []reflect.Type{
		reflect.TypeFor[benchPod](),
		reflect.TypeFor[dcTreeNode](),
		reflect.TypeFor[dcWithUnexported](),
		reflect.TypeFor[ObjectMeta](),
		reflect.TypeFor[map[string][]*int](),
		reflect.TypeFor[[]map[string]any](),
		reflect.TypeFor[[3]*LabelSelector](),
		reflect.TypeFor[*ManagedFieldsEntry](),
	} {
		t.Run(typ.String(), func(t *testing.T) {
			CheckRandomDeepCopies(t, typ, 100, 1)
		})
	}
}
