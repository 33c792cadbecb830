package store

import (
	"context"
	"fmt"
	"iter"
	"strconv"

	"github.com/gantry-sdk/gantry/apis"
)

// Watch yields the changes to objects of kind gvk that match opts.
func (s *ObjectStore) Watch(ctx context.Context, gvk apis.GroupVersionKind, opts WatchOptions) iter.Seq2[WatchEvent, error] {
	return func(yield func(WatchEvent, error) bool) {
		k, err := s.scheme.Lookup(gvk)
		if err != nil {
			yield(WatchEvent{}, fmt.Errorf("store: watch: %w", err))
			return
		}
		prefix := s.listPrefix(k, scope(k, opts.Namespace, opts.Fields))
		sel := selection{kind: k, labels: opts.Labels, fields: opts.Fields}
		var from int64
		if opts.Revision > 0 {
			from = opts.Revision + 1
		}
		for ev, err := range s.kv.Watch(ctx, prefix, KVWatchOptions{FromRevision: from, ProgressNotify: opts.Bookmarks}) {
			if err != nil {
				yield(WatchEvent{}, fmt.Errorf("store: watch %s from revision %d: %w", k.GroupResource(), opts.Revision, err))
				return
			}
			we, ok, err := s.translate(k, sel, ev, opts.Bookmarks)
			if err != nil {
				yield(WatchEvent{}, err)
				return
			}
			if ok && !yield(we, nil) {
				return
			}
		}
	}
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
