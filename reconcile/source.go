package reconcile

import (
	"context"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/informer"
)

// Source feeds keys to a controller.
type Source interface {
	// Start begins delivering keys to enqueue and returns once it is set up.
	// It stops delivering when ctx ends.
	Start(ctx context.Context, enqueue func(apis.Key)) error
	// WaitForSync blocks until the source has delivered its initial state,
	// so that workers do not act on a partial view.
	WaitForSync(ctx context.Context) error
}

// EventSource is what For, Owns and Watches need from an informer (an
// *informer.Informer[T] is one): handler registration, with the current
// objects replayed as adds, and an initial-sync barrier.
type EventSource[T apis.Object] interface {
	AddHandler(h informer.Handler[T]) (remove func())
	WaitForSync(ctx context.Context) error
}

// For maps each object of the controller's primary kind to its own key.
func For[T apis.Object](src EventSource[T]) Source {
	return Watches(src, func(obj T) []apis.Key { return []apis.Key{apis.KeyOf(obj)} })
}

// Owns maps each child object to the key of its controlling owner: the owner
// reference with controller=true whose kind and API group are owner's (the
// version is ignored, as owners may be read at any version). The owner key
// takes the child's namespace, as owners and children share one.
func Owns[T apis.Object](src EventSource[T], owner apis.GroupVersionKind) Source {
	return Watches(src, func(obj T) []apis.Key {
		for _, ref := range obj.Meta().OwnerReferences {
			if ref.Controller == nil || !*ref.Controller || ref.Kind != owner.Kind {
				continue
			}
			if apis.ParseGroupVersion(ref.APIVersion).Group != owner.Group {
				continue
			}
			return []apis.Key{{Namespace: obj.Meta().Namespace, Name: ref.Name}}
		}
		return nil
	})
}

// Watches maps each object to the keys that mapFn returns. On an update both
// the old and the new object are mapped, so a key the object stops mapping
// to is reconciled too.
func Watches[T apis.Object](src EventSource[T], mapFn func(obj T) []apis.Key) Source {
	return &eventSource[T]{src: src, mapFn: mapFn}
}

type eventSource[T apis.Object] struct {
	src   EventSource[T]
	mapFn func(T) []apis.Key
}

func (s *eventSource[T]) Start(ctx context.Context, enqueue func(apis.Key)) error {
	each := func(obj T) {
		for _, k := range s.mapFn(obj) {
			enqueue(k)
		}
	}
	remove := s.src.AddHandler(informer.HandlerFuncs[T]{
		Add: each,
		Update: func(old, obj T) {
			each(old)
			each(obj)
		},
		Delete: each,
	})
	context.AfterFunc(ctx, remove)
	return nil
}

func (s *eventSource[T]) WaitForSync(ctx context.Context) error { return s.src.WaitForSync(ctx) }

// Channel delivers the keys received from ch (from a timer, a webhook or an
// external system). It is synced from the start.
func Channel(ch <-chan apis.Key) Source { return channelSource(ch) }

type channelSource <-chan apis.Key

func (ch channelSource) Start(ctx context.Context, enqueue func(apis.Key)) error {
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case k, ok := <-ch:
				if !ok {
					return
				}
				enqueue(k)
			}
		}
	}()
	return nil
}

func (channelSource) WaitForSync(context.Context) error { return nil }
