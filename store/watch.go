package store

import (
	"context"
	"fmt"
	"iter"
	"strconv"

	"github.com/gantry-sdk/gantry/apis"
)

// Watch yields the changes to objects of kind gvk that match opts. Watches
// of one kind and scope share one KV watch once they have caught up with it
// (see watchhub.go); until then, and whenever they fall behind, each reads
// the KV's history on its own.
func (s *ObjectStore) Watch(ctx context.Context, gvk apis.GroupVersionKind, opts WatchOptions) iter.Seq2[WatchEvent, error] {
	return func(yield func(WatchEvent, error) bool) {
		k, err := s.scheme.Lookup(gvk)
		if err != nil {
			yield(WatchEvent{}, fmt.Errorf("store: watch: %w", err))
			return
		}
		w := &watcher{
			s: s, k: k, opts: opts,
			prefix: s.listPrefix(k, scope(k, opts.Namespace, opts.Fields)),
			sel:    selection{kind: k, labels: opts.Labels, fields: opts.Fields},
			last:   opts.Revision,
			yield:  yield,
		}
		if s.hubs.private {
			w.private(ctx, watchPos{rev: watchStart(opts)})
			return
		}
		w.shared(ctx)
	}
}

// watchStart is the first revision a watch with opts delivers; 0 means after the current one.
func watchStart(opts WatchOptions) int64 {
	if opts.Revision > 0 {
		return opts.Revision + 1
	}
	return 0
}

// watcher is one Watch call's state.
type watcher struct {
	s      *ObjectStore
	k      *apis.KindInfo
	opts   WatchOptions
	prefix string
	sel    selection
	last   int64 // the revision of the last event yielded
	yield  func(WatchEvent, error) bool
	hub    *watchHub
	reg    *hubWatcher
}

// shared alternates between a private KV watch and the hub until ctx ends,
// the consumer stops, or an error is yielded.
func (w *watcher) shared(ctx context.Context) {
	w.hub = w.s.hubs.acquire(w.s, w.k, w.prefix)
	defer func() { w.s.hubs.release(w.hub) }()
	w.reg = &hubWatcher{sel: w.sel, bookmarks: w.opts.Bookmarks}
	w.reg.field, w.reg.value = w.hub.indexOf(w.sel)
	resume := watchPos{rev: watchStart(w.opts)}
	for {
		if !w.private(ctx, resume) {
			return
		}
		var ok bool
		if resume, ok = w.onHub(ctx); !ok {
			return
		}
	}
}

// private yields from a KV watch of its own, starting at the event at p
// (p.n events of revision p.rev were delivered already), until the hub takes
// over (true) or the watch ends (false). Without a hub it runs to the end.
func (w *watcher) private(ctx context.Context, p watchPos) bool {
	var at watchPos
	for ev, err := range w.s.kv.Watch(ctx, w.prefix, KVWatchOptions{FromRevision: p.rev, ProgressNotify: w.opts.Bookmarks}) {
		if err != nil {
			w.yield(WatchEvent{}, fmt.Errorf("store: watch %s from revision %d: %w", w.k.GroupResource(), w.opts.Revision, err))
			return false
		}
		if ev.Type != EventProgress {
			if ev.Revision == at.rev {
				at.n++
			} else {
				at = watchPos{rev: ev.Revision}
			}
			if at.less(p) {
				continue // delivered before this KV watch started
			}
			if w.hub != nil && w.join(at) {
				return true
			}
		}
		we, ok, err := w.s.translate(w.k, w.sel, ev, w.opts.Bookmarks)
		if err != nil {
			w.yield(WatchEvent{}, err)
			return false
		}
		if ok && !w.emit(we) {
			return false
		}
	}
	return false
}

// join moves the watch onto the hub at the event at p, if the hub has not
// passed it; a hub that ended is replaced by a new one.
func (w *watcher) join(p watchPos) bool {
	if w.hub.join(w.reg, p) {
		return true
	}
	if w.hub.isDead() {
		w.s.hubs.release(w.hub)
		w.hub = w.s.hubs.acquire(w.s, w.k, w.prefix)
	}
	return false
}

// onHub yields the hub's events until the hub drops the watch, returning
// where to go on privately, or until the watch ends (false).
func (w *watcher) onHub(ctx context.Context) (watchPos, bool) {
	reg := w.reg
	var batch []hubItem
	emitAll := func() bool {
		batch = reg.take(batch)
		defer clear(batch) // the queue it becomes holds no stale objects
		for _, it := range batch {
			if !w.emitItem(ctx, it) {
				return false
			}
		}
		return true
	}
	for {
		select {
		case <-reg.wake:
			if !emitAll() {
				w.hub.leave(reg)
				return watchPos{}, false
			}
		case <-reg.gone:
			// The hub queues nothing more: what is pending comes first.
			if !emitAll() {
				return watchPos{}, false
			}
			return reg.resume, true
		case <-ctx.Done():
			w.hub.leave(reg)
			return watchPos{}, false
		}
	}
}

func (w *watcher) emitItem(ctx context.Context, it hubItem) bool {
	if ctx.Err() != nil {
		return false
	}
	if it.typ == WatchBookmark {
		if it.rev < w.last {
			return true // the hub is behind what this watch delivered privately
		}
		return w.emit(WatchEvent{Type: WatchBookmark, Revision: it.rev})
	}
	return w.emit(WatchEvent{Type: it.typ, Object: ownCopy(it.obj, it.rv), Revision: it.rev})
}

func (w *watcher) emit(we WatchEvent) bool {
	w.last = we.Revision
	return w.yield(we, nil)
}

// translate turns a KV event into the object event a watcher with sel sees,
// if any: an update that leaves the selection is a DELETED, one that enters
// it an ADDED.
func (s *ObjectStore) translate(k *apis.KindInfo, sel selection, ev Event, bookmarks bool) (WatchEvent, bool, error) {
	switch ev.Type {
	case EventProgress:
		return WatchEvent{Type: WatchBookmark, Revision: ev.Revision}, bookmarks, nil
	case EventDelete:
		if ev.Prev == nil {
			return WatchEvent{}, false, nil // deleted before we knew it: nothing to report
		}
		old, err := s.template(k, ev.Prev)
		s.forget(ev.Prev.Key, ev.Revision) // after template, which may have cached it
		if err != nil || !sel.matches(old) {
			return WatchEvent{}, false, err
		}
		return WatchEvent{Type: WatchDeleted, Object: ownCopy(old, ev.Revision), Revision: ev.Revision}, true, nil
	case EventPut:
		cur, err := s.template(k, &ev.KV)
		if err != nil {
			return WatchEvent{}, false, err
		}
		now := sel.matches(cur)
		before := false
		if ev.Prev != nil {
			if sel.empty() {
				before = true
			} else {
				old, err := s.template(k, ev.Prev)
				if err != nil {
					return WatchEvent{}, false, err
				}
				before = sel.matches(old)
			}
		}
		switch {
		case now && before:
			return WatchEvent{Type: WatchModified, Object: ownCopy(cur, ev.KV.ModRevision), Revision: ev.Revision}, true, nil
		case now:
			return WatchEvent{Type: WatchAdded, Object: ownCopy(cur, ev.KV.ModRevision), Revision: ev.Revision}, true, nil
		case before:
			return WatchEvent{Type: WatchDeleted, Object: ownCopy(cur, ev.KV.ModRevision), Revision: ev.Revision}, true, nil
		}
		return WatchEvent{}, false, nil
	}
	return WatchEvent{}, false, fmt.Errorf("store: watch %s: unknown KV event type %d", k.GroupResource(), ev.Type)
}

// template returns the object stored in kv, decoded once for every watcher
// of the store: watchers of one kind see the same events, and decoding is
// most of what an event costs. The result is shared: read it, or hand out
// ownCopy of it, never modify it.
func (s *ObjectStore) template(k *apis.KindInfo, kv *KeyValue) (apis.Object, error) {
	ck := templateKey{key: kv.Key, modRevision: kv.ModRevision}
	s.tplMu.Lock()
	t, ok := s.tplCache[ck]
	s.tplMu.Unlock()
	if ok {
		return t, nil
	}
	t, err := s.shared(k, kv.Key, kv.Value, kv.ModRevision)
	if err != nil {
		return nil, err
	}
	s.tplMu.Lock()
	// Bounded by count and bytes: recent events are what concurrent watchers
	// share; anything older is decoded again if asked for.
	if len(s.tplCache) >= maxTemplates || s.tplBytes+len(kv.Value) > maxTemplateBytes {
		clear(s.tplCache)
		s.tplBytes = 0
	}
	s.tplCache[ck] = t
	s.tplBytes += len(kv.Value)
	s.tplMu.Unlock()
	return t, nil
}

type templateKey struct {
	key         string
	modRevision int64
}

const (
	maxTemplates     = 1024
	maxTemplateBytes = 16 << 20
)

// ownCopy returns a caller-owned copy of a template with resourceVersion rv.
func ownCopy(t apis.Object, rv int64) apis.Object {
	o := apis.DeepCopy(t)
	o.Meta().ResourceVersion = strconv.FormatInt(rv, 10)
	return o
}
