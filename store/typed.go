package store

import (
	"context"
	"fmt"
	"iter"

	"github.com/gantry-sdk/gantry/apis"
)

// Typed is a view of a Store for one kind, the Go type T (*core.Pod): the same
// operations with T in and out. Build it with For; it is a small value, cheap
// to copy and safe for concurrent use.
type Typed[T apis.Object] struct {
	s    Store
	kind *apis.KindInfo
	err  error // set when T is not a registered kind; every call returns it
}

// TypedList is a page of a typed List.
type TypedList[T apis.Object] struct {
	Items          []T
	Revision       int64
	Continue       string
	RemainingCount int64
}

// TypedEvent is one change seen by a typed Watch. Object is the zero T for
// bookmarks.
type TypedEvent[T apis.Object] struct {
	Type     WatchEventType
	Object   T
	Revision int64
}

// For returns the typed view of s for the kind of T. If T is not registered
// in s's scheme, every call of the view fails with an error wrapping
// apis.ErrUnknownKind.
func For[T apis.Object](s Store) Typed[T] {
	if s == nil {
		return Typed[T]{err: fmt.Errorf("store: typed view over a nil Store")}
	}
	k, err := apis.KindFor[T](s.Scheme())
	if err != nil {
		err = fmt.Errorf("store: typed view: %w", err)
	}
	return Typed[T]{s: s, kind: k, err: err}
}

// Kind returns the kind of T, or nil when T is not registered.
func (t Typed[T]) Kind() *apis.KindInfo { return t.kind }

// Store returns the untyped store behind the view.
func (t Typed[T]) Store() Store { return t.s }

func (t Typed[T]) cast(obj apis.Object, err error) (T, error) {
	var zero T
	if err != nil {
		return zero, err
	}
	out, ok := obj.(T)
	if !ok {
		return zero, fmt.Errorf("store: typed view of %s got a %T from the store", t.kind.GVK.Kind, obj)
	}
	return out, nil
}

// Get returns one object.
func (t Typed[T]) Get(ctx context.Context, key apis.Key, opts GetOptions) (T, error) {
	if t.err != nil {
		var zero T
		return zero, t.err
	}
	return t.cast(t.s.Get(ctx, t.kind.GVK, key, opts))
}

// List returns the objects that match opts, at one revision.
func (t Typed[T]) List(ctx context.Context, opts ListOptions) (*TypedList[T], error) {
	if t.err != nil {
		return nil, t.err
	}
	l, err := t.s.List(ctx, t.kind.GVK, opts)
	if err != nil {
		return nil, err
	}
	out := &TypedList[T]{Items: make([]T, 0, len(l.Items)), Revision: l.Revision, Continue: l.Continue, RemainingCount: l.RemainingCount}
	for _, o := range l.Items {
		item, err := t.cast(o, nil)
		if err != nil {
			return nil, err
		}
		out.Items = append(out.Items, item)
	}
	return out, nil
}

// Create stores a new object.
func (t Typed[T]) Create(ctx context.Context, obj T, opts WriteOptions) (T, error) {
	if t.err != nil {
		var zero T
		return zero, t.err
	}
	return t.cast(t.s.Create(ctx, obj, opts))
}

// Update replaces an object's metadata and spec.
func (t Typed[T]) Update(ctx context.Context, obj T, opts WriteOptions) (T, error) {
	if t.err != nil {
		var zero T
		return zero, t.err
	}
	return t.cast(t.s.Update(ctx, obj, opts))
}

// UpdateStatus replaces an object's status.
func (t Typed[T]) UpdateStatus(ctx context.Context, obj T, opts WriteOptions) (T, error) {
	if t.err != nil {
		var zero T
		return zero, t.err
	}
	return t.cast(t.s.UpdateStatus(ctx, obj, opts))
}

// Delete removes or marks an object and returns it as deleted or as marked.
func (t Typed[T]) Delete(ctx context.Context, key apis.Key, opts DeleteOptions) (T, error) {
	if t.err != nil {
		var zero T
		return zero, t.err
	}
	return t.cast(t.s.Delete(ctx, t.kind.GVK, key, opts))
}

// Watch yields the changes to objects that match opts.
func (t Typed[T]) Watch(ctx context.Context, opts WatchOptions) iter.Seq2[TypedEvent[T], error] {
	return func(yield func(TypedEvent[T], error) bool) {
		if t.err != nil {
			yield(TypedEvent[T]{}, t.err)
			return
		}
		for ev, err := range t.s.Watch(ctx, t.kind.GVK, opts) {
			if err != nil {
				yield(TypedEvent[T]{}, err)
				return
			}
			te := TypedEvent[T]{Type: ev.Type, Revision: ev.Revision}
			if ev.Object != nil {
				if te.Object, err = t.cast(ev.Object, nil); err != nil {
					yield(TypedEvent[T]{}, err)
					return
				}
			}
			if !yield(te, nil) {
				return
			}
		}
	}
}
