package store

import (
	"encoding"
	"encoding/json"
	"reflect"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gantry-sdk/gantry/apis"
)

// decodedForm reports whether decoding v's encoding/json output gives back
// exactly v (reflect.DeepEqual), so that a writer may keep the object it
// encoded as the decoded value instead of decoding the bytes it just wrote.
// It is conservative: anything it cannot vouch for (an interface value, a
// set unexported field, a custom marshaler of a type that cannot be
// compared with ==, an empty but non-nil slice or map that omitempty
// drops, a string that is not valid UTF-8, a time that is not whole
// seconds in the local zone) answers false, and the caller decodes.
func decodedForm(v reflect.Value) bool {
	c := formCheckFor(v.Type())
	return c == nil || c(v)
}

// formCheck checks one value; a nil formCheck means every value of the
// type is in decoded form (numbers, bools).
type formCheck func(v reflect.Value) bool

var (
	formChecks sync.Map // reflect.Type -> formCheck (a nil one included)
	formMu     sync.Mutex

	jsonMarshalerType   = reflect.TypeFor[json.Marshaler]()
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	textMarshalerType   = reflect.TypeFor[encoding.TextMarshaler]()
	isZeroerType        = reflect.TypeFor[interface{ IsZero() bool }]()
	byteType            = reflect.TypeFor[byte]()
	apisTimeType        = reflect.TypeFor[apis.Time]()
	apisMicroTimeType   = reflect.TypeFor[apis.MicroTime]()
)

func formCheckFor(t reflect.Type) formCheck {
	if c, ok := formChecks.Load(t); ok {
		return c.(formCheck)
	}
	formMu.Lock()
	defer formMu.Unlock()
	b := formBuilder{building: map[reflect.Type]*formCheck{}}
	c := b.build(t)
	// Published only when complete, so no check ever runs half built.
	for bt, p := range b.building {
		formChecks.Store(bt, *p)
	}
	return c
}

type formBuilder struct {
	building map[reflect.Type]*formCheck
}

func (b *formBuilder) build(t reflect.Type) formCheck {
	if c, ok := formChecks.Load(t); ok {
		return c.(formCheck)
	}
	if p, ok := b.building[t]; ok { // a recursive type
		return func(v reflect.Value) bool { return *p == nil || (*p)(v) }
	}
	p := new(formCheck)
	b.building[t] = p
	*p = b.make(t)
	return *p
}

func never(reflect.Value) bool { return false }

func (b *formBuilder) make(t reflect.Type) formCheck {
	switch {
	case t == apisTimeType:
		return func(v reflect.Value) bool { return timeInDecodedForm(timeOf(v), time.Second) }
	case t == apisMicroTimeType:
		return func(v reflect.Value) bool { return timeInDecodedForm(timeOf(v), time.Microsecond) }
	case t.Kind() != reflect.Pointer && t.Implements(jsonMarshalerType):
		if !t.Comparable() || !reflect.PointerTo(t).Implements(jsonUnmarshalerType) {
			return never // RawJSON, for one: null decodes as the bytes "null"
		}
		return marshalerRoundTrips
	case t.Kind() != reflect.Pointer && (t.Implements(textMarshalerType) ||
		reflect.PointerTo(t).Implements(jsonMarshalerType) || reflect.PointerTo(t).Implements(textMarshalerType)):
		return never
	}
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return nil
	case reflect.String:
		return func(v reflect.Value) bool { return utf8.ValidString(v.String()) }
	case reflect.Pointer:
		ec := b.build(t.Elem())
		if ec == nil {
			return nil
		}
		return func(v reflect.Value) bool { return v.IsNil() || ec(v.Elem()) }
	case reflect.Interface:
		return func(v reflect.Value) bool { return v.IsNil() }
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			if t.Elem() == byteType && t.Kind() == reflect.Slice {
				return nil // base64 both ways
			}
			return never
		}
		ec := b.build(t.Elem())
		if ec == nil {
			return nil
		}
		return func(v reflect.Value) bool {
			for i := range v.Len() {
				if !ec(v.Index(i)) {
					return false
				}
			}
			return true
		}
	case reflect.Map:
		kt := t.Key()
		if kt.Kind() != reflect.String || kt.Implements(textMarshalerType) || reflect.PointerTo(kt).Implements(textMarshalerType) {
			return never
		}
		ec := b.build(t.Elem())
		return func(v reflect.Value) bool {
			it := v.MapRange()
			for it.Next() {
				if !utf8.ValidString(it.Key().String()) || (ec != nil && !ec(it.Value())) {
					return false
				}
			}
			return true
		}
	case reflect.Struct:
		return b.structCheck(t)
	}
	return never // chan, func, complex, unsafe pointer: not JSON
}

// fieldCheck is what one struct field needs checked.
type fieldCheck struct {
	index int
	// mustBeZero: not encoded (unexported, or tagged "-"): decodes as zero.
	mustBeZero bool
	// omittedIfEmpty: omitempty on a slice or map, which drops an empty
	// non-nil one that then decodes as nil.
	omittedIfEmpty bool
	// omittedIfIsZero: omitzero on a type with an IsZero method, which may
	// call values zero that are not.
	omittedIfIsZero bool
	check           formCheck
}

func (b *formBuilder) structCheck(t reflect.Type) formCheck {
	var fields []fieldCheck
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		_, opts, _ := strings.Cut(tag, ",")
		f := fieldCheck{index: i, mustBeZero: tag == "-" || !sf.IsExported()}
		if !f.mustBeZero {
			for o := range strings.SplitSeq(opts, ",") {
				switch o {
				case "omitempty":
					k := sf.Type.Kind()
					f.omittedIfEmpty = f.omittedIfEmpty || k == reflect.Slice || k == reflect.Map
				case "omitzero":
					f.omittedIfIsZero = sf.Type.Implements(isZeroerType) && sf.Type != apisTimeType && sf.Type != apisMicroTimeType
				}
			}
			f.check = b.build(sf.Type)
		}
		if f.mustBeZero || f.omittedIfEmpty || f.omittedIfIsZero || f.check != nil {
			fields = append(fields, f)
		}
	}
	if len(fields) == 0 {
		return nil
	}
	return func(v reflect.Value) bool {
		for _, f := range fields {
			fv := v.Field(f.index)
			switch {
			case f.mustBeZero:
				if !fv.IsZero() {
					return false
				}
				continue
			case f.omittedIfEmpty && fv.Len() == 0:
				if !fv.IsNil() {
					return false
				}
				continue
			case f.omittedIfIsZero && fv.CanInterface() && fv.Interface().(interface{ IsZero() bool }).IsZero():
				if !fv.IsZero() {
					return false
				}
				continue
			}
			if f.check != nil && !f.check(fv) {
				return false
			}
		}
		return true
	}
}

// timeOf reads an apis.Time or apis.MicroTime (both a struct holding one
// time.Time) without boxing it when it is addressable.
func timeOf(v reflect.Value) time.Time {
	if v.CanAddr() {
		return *(*time.Time)(v.Addr().UnsafePointer())
	}
	return v.Field(0).Interface().(time.Time)
}

// timeInDecodedForm: how apis.Time (and MicroTime, to the microsecond)
// decode: the zero time is the zero value; others are local, without a
// monotonic reading, and whole units.
func timeInDecodedForm(t time.Time, unit time.Duration) bool {
	if t.IsZero() {
		return t == time.Time{}
	}
	return t.Location() == time.Local && t == t.Round(0) && t.Nanosecond()%int(unit) == 0
}

// marshalerRoundTrips checks a value of a comparable type with its own
// MarshalJSON (Quantity, IntOrString, Duration) by running its own round
// trip and comparing with ==.
func marshalerRoundTrips(v reflect.Value) bool {
	if !v.CanInterface() {
		return false
	}
	data, err := v.Interface().(json.Marshaler).MarshalJSON()
	if err != nil {
		return false
	}
	back := reflect.New(v.Type())
	if err := back.Interface().(json.Unmarshaler).UnmarshalJSON(data); err != nil {
		return false
	}
	return back.Elem().Interface() == v.Interface()
}
