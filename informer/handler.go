package informer

import "github.com/gantry-sdk/gantry/apis"

// Handler receives an informer's changes, in order, one call at a time per
// handler. Objects are the cached ones: they are shared, so do not modify
// them. On delete, obj is the last state the informer knew (never a
// tombstone). Handlers run on the informer's goroutine, so keep them quick
// (enqueue a key): a slow handler delays the informer. A handler must not
// call the informer's AddHandler or AddIndex.
type Handler[T apis.Object] interface {
	OnAdd(obj T)
	OnUpdate(old, obj T)
	OnDelete(obj T)
}

// HandlerFuncs adapts functions to a Handler; nil functions are skipped.
type HandlerFuncs[T apis.Object] struct {
	Add    func(obj T)
	Update func(old, obj T)
	Delete func(obj T)
}

// OnAdd calls Add.
func (h HandlerFuncs[T]) OnAdd(obj T) {
	if h.Add != nil {
		h.Add(obj)
	}
}

// OnUpdate calls Update.
func (h HandlerFuncs[T]) OnUpdate(old, obj T) {
	if h.Update != nil {
		h.Update(old, obj)
	}
}

// OnDelete calls Delete.
func (h HandlerFuncs[T]) OnDelete(obj T) {
	if h.Delete != nil {
		h.Delete(obj)
	}
}
