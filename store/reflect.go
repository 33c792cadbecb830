package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/gantry-sdk/gantry/apis"
)

var (
	objectMetaType = reflect.TypeFor[apis.ObjectMeta]()
	typeMetaType   = reflect.TypeFor[apis.TypeMeta]()
)

// structOf returns the struct an object points to.
func structOf(obj apis.Object) (reflect.Value, bool) {
	v := reflect.ValueOf(obj)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return reflect.Value{}, false
	}
	return v.Elem(), true
}

// fieldPath follows exported field names from obj's struct; ok is false when
// one is missing (a kind without that field), never a panic.
func fieldPath(obj apis.Object, names ...string) (reflect.Value, bool) {
	v, ok := structOf(obj)
	if !ok {
		return reflect.Value{}, false
	}
	for _, n := range names {
		for v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return reflect.Value{}, false
			}
			v = v.Elem()
		}
		if v.Kind() != reflect.Struct {
			return reflect.Value{}, false
		}
		f, ok := v.Type().FieldByName(n)
		if !ok || !f.IsExported() {
			return reflect.Value{}, false
		}
		v = v.FieldByIndex(f.Index)
	}
	return v, true
}

// copyField sets dst's top-level field name to src's (both of one kind).
func copyField(dst, src apis.Object, name string) error {
	d, ok1 := structOf(dst)
	s, ok2 := structOf(src)
	if !ok1 || !ok2 || d.Type() != s.Type() {
		return fmt.Errorf("store: cannot copy %s from %T to %T", name, src, dst)
	}
	f, ok := d.Type().FieldByName(name)
	if !ok || len(f.Index) != 1 {
		return fmt.Errorf("store: %v has no field %s", d.Type(), name)
	}
	d.Field(f.Index[0]).Set(s.Field(f.Index[0]))
	return nil
}

// specOnly returns a shallow copy of obj's struct without its TypeMeta,
// ObjectMeta and Status: what is left is what the generation counts changes of.
func specOnly(k *apis.KindInfo, obj apis.Object) (reflect.Value, error) {
	v, ok := structOf(obj)
	if !ok {
		return reflect.Value{}, fmt.Errorf("store: %T is not a pointer to a struct", obj)
	}
	cp := reflect.New(v.Type()).Elem()
	cp.Set(v) // shallow: only fields of the copy are cleared below
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if (f.Anonymous && (ft == objectMetaType || ft == typeMetaType)) || (f.Name == "Status" && k.HasStatus()) {
			cp.Field(i).SetZero()
		}
	}
	return cp, nil
}

// specChanged reports whether obj differs from old outside metadata and
// status, as stored: equal values are unchanged, and values that differ only
// in ways the encoding does not show (a nil and an empty slice) are too.
func specChanged(k *apis.KindInfo, obj, old apis.Object) (bool, error) {
	a, err := specOnly(k, obj)
	if err != nil {
		return false, err
	}
	b, err := specOnly(k, old)
	if err != nil {
		return false, err
	}
	if reflect.DeepEqual(a.Interface(), b.Interface()) {
		return false, nil
	}
	ja, err := json.Marshal(a.Addr().Interface())
	if err != nil {
		return false, err
	}
	jb, err := json.Marshal(b.Addr().Interface())
	if err != nil {
		return false, err
	}
	return !bytes.Equal(ja, jb), nil
}
