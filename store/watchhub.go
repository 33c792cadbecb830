package store

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/fields"
	"github.com/gantry-sdk/gantry/apis/labels"
)

// Watches of one kind and key prefix share one KV watch, a hub, that decodes
// each event once and hands it only to the watchers it can concern: a
// watcher whose field selector requires an indexed field to equal a value
// (pods by spec.nodeName, anything by metadata.name) is found through a map
// from that value, looked up with both the new and the previous object's
// value so that a move out of the selection still reaches it as a DELETED.
// Without the hub, every write woke every watcher, each decoding and
// matching the event: N node agents cost N times per pod write (the
// kube-apiserver's watch cache indexes its triggers for the same reason).
//
// A watch always starts on a private KV watch, which gives it today's
// semantics exactly (start at any revision, ErrCompacted, bookmarks), and
// moves to the hub at the first event the hub has not dispatched yet. A
// watcher whose buffer fills (a slow consumer), or whose hub ends, goes back
// to a private KV watch from the event it missed: nothing is lost, and no
// watcher ever blocks the hub or the others.

// indexedWatchFields are the fields, beyond metadata.name (indexed for
// every kind), on whose equality a watch is indexed, per resource.
var indexedWatchFields = map[apis.GroupResource][]string{
	{Resource: "pods"}: {"spec.nodeName"},
}

// DefaultWatchBuffer is how many events a watcher on a shared watch may
// have pending before it falls back to a private KV watch.
const DefaultWatchBuffer = 1024

// watchPos is the position of a KV event: its revision, and its index among
// the events of a prefix at that revision (a Txn writes several keys at one).
type watchPos struct {
	rev int64
	n   int
}

func (p watchPos) less(q watchPos) bool { return p.rev < q.rev || (p.rev == q.rev && p.n < q.n) }

// watchHubs are an ObjectStore's shared watches; the zero value works.
type watchHubs struct {
	mu sync.Mutex
	m  map[hubKey]*watchHub
	// private makes every watch take the private path only (tests compare both).
	private bool
	// buffer is each watcher's capacity of pending events; 0 means DefaultWatchBuffer.
	buffer int
	// fallbacks counts the watchers sent back to a private KV watch.
	fallbacks atomic.Int64
}

type hubKey struct {
	gvk    apis.GroupVersionKind
	prefix string
}

// watchHub is one shared KV watch and the watchers it dispatches to.
type watchHub struct {
	s      *ObjectStore
	k      *apis.KindInfo
	key    hubKey
	fields []string // indexed fields, most selective first
	buffer int
	cancel context.CancelFunc
	done   chan struct{}
	refs   int // watches using the hub (on it or on their way to it), under watchHubs.mu

	mu    sync.Mutex
	ready bool     // next is known
	dead  bool     // the KV watch ended: no watcher may join
	next  watchPos // where the next event will be: every event before it was dispatched
	all   map[*hubWatcher]struct{}
	plain map[*hubWatcher]struct{}                       // watchers without an indexed equality
	index map[string]map[string]map[*hubWatcher]struct{} // field -> value -> watchers
}

// hubWatcher is one watch's registration with a hub.
type hubWatcher struct {
	sel          selection
	bookmarks    bool
	field, value string        // the index bucket; field "" for plain
	from         watchPos      // events before it were delivered privately
	gone         chan struct{} // closed when the hub drops the watcher
	resume       watchPos      // where to go on privately, set before gone is closed

	// The pending events: a queue that grows with the backlog rather than
	// a channel's buffer allocated up front for every watcher.
	qmu   sync.Mutex
	queue []hubItem
	wake  chan struct{} // holds a token while queue may be non-empty
}

// push queues it unless limit events are pending already.
func (w *hubWatcher) push(it hubItem, limit int) bool {
	w.qmu.Lock()
	if len(w.queue) >= limit {
		w.qmu.Unlock()
		return false
	}
	w.queue = append(w.queue, it)
	w.qmu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	return true
}

// take returns the pending events, handing the queue spare (emptied) to fill next.
func (w *hubWatcher) take(spare []hubItem) []hubItem {
	if cap(spare) > 4*DefaultWatchBuffer {
		spare = nil // after a burst, do not keep its memory
	}
	w.qmu.Lock()
	items := w.queue
	w.queue = spare[:0]
	w.qmu.Unlock()
	return items
}

// hubItem is an event for one watcher; obj is shared and copied by the watcher.
type hubItem struct {
	typ WatchEventType
	obj apis.Object
	rv  int64 // the copy's resourceVersion
	rev int64
}

// acquire returns the live hub of k's objects under prefix, starting one if
// needed; release it when done.
func (hs *watchHubs) acquire(s *ObjectStore, k *apis.KindInfo, prefix string) *watchHub {
	key := hubKey{gvk: k.GVK, prefix: prefix}
	hs.mu.Lock()
	defer hs.mu.Unlock()
	if h := hs.m[key]; h != nil && !h.isDead() {
		h.refs++
		return h
	}
	if hs.m == nil {
		hs.m = map[hubKey]*watchHub{}
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &watchHub{
		s: s, k: k, key: key, buffer: hs.buffer, cancel: cancel, done: make(chan struct{}), refs: 1,
		fields: append(append([]string(nil), indexedWatchFields[k.GroupResource()]...), "metadata.name"),
		all:    map[*hubWatcher]struct{}{},
		plain:  map[*hubWatcher]struct{}{},
		index:  map[string]map[string]map[*hubWatcher]struct{}{},
	}
	if h.buffer <= 0 {
		h.buffer = DefaultWatchBuffer
	}
	hs.m[key] = h
	go h.run(ctx)
	return h
}

// release gives up a reference to h; the last one stops it.
func (hs *watchHubs) release(h *watchHub) {
	hs.mu.Lock()
	h.refs--
	last := h.refs == 0
	if last && hs.m[h.key] == h {
		delete(hs.m, h.key)
	}
	hs.mu.Unlock()
	if last {
		h.cancel()
		<-h.done
	}
}

// forget removes a dead hub from the registry, so that the next watch starts a new one.
func (hs *watchHubs) forget(h *watchHub) {
	hs.mu.Lock()
	if hs.m[h.key] == h {
		delete(hs.m, h.key)
	}
	hs.mu.Unlock()
}

func (h *watchHub) isDead() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.dead
}

// run is the hub's KV watch, from the revision current when it starts.
func (h *watchHub) run(ctx context.Context) {
	defer close(h.done)
	defer h.die()
	// A range nothing can be in (keys never hold NUL) reads the current revision cheaply.
	page, err := h.s.kv.Range(ctx, h.key.prefix+"\x00", RangeOptions{Limit: 1})
	if err != nil {
		return
	}
	h.mu.Lock()
	h.next, h.ready = watchPos{rev: page.Revision + 1}, true
	h.mu.Unlock()
	for ev, err := range h.s.kv.Watch(ctx, h.key.prefix, KVWatchOptions{FromRevision: page.Revision + 1, ProgressNotify: true}) {
		if err != nil {
			return // the watchers go on privately, and meet the error themselves if it lasts
		}
		h.dispatch(ev)
	}
}

// die ends the hub: its watchers go on privately from where it stopped.
func (h *watchHub) die() {
	h.mu.Lock()
	h.dead = true
	for w := range h.all {
		h.drop(w, h.next)
	}
	h.mu.Unlock()
	h.s.hubs.forget(h)
}

// join registers w with the hub if the hub has not dispatched the event at
// p yet: the hub then delivers it and every later one.
func (h *watchHub) join(w *hubWatcher, p watchPos) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.ready || h.dead || p.less(h.next) {
		return false
	}
	w.from = p
	w.gone = make(chan struct{})
	w.wake = make(chan struct{}, 1)
	w.queue = nil
	h.all[w] = struct{}{}
	if w.field == "" {
		h.plain[w] = struct{}{}
		return true
	}
	byValue := h.index[w.field]
	if byValue == nil {
		byValue = map[string]map[*hubWatcher]struct{}{}
		h.index[w.field] = byValue
	}
	bucket := byValue[w.value]
	if bucket == nil {
		bucket = map[*hubWatcher]struct{}{}
		byValue[w.value] = bucket
	}
	bucket[w] = struct{}{}
	return true
}

// leave unregisters w, if it still is registered.
func (h *watchHub) leave(w *hubWatcher) {
	h.mu.Lock()
	h.remove(w)
	h.mu.Unlock()
}

func (h *watchHub) remove(w *hubWatcher) bool {
	if _, ok := h.all[w]; !ok {
		return false
	}
	delete(h.all, w)
	if w.field == "" {
		delete(h.plain, w)
		return true
	}
	byValue := h.index[w.field]
	delete(byValue[w.value], w)
	if len(byValue[w.value]) == 0 {
		delete(byValue, w.value)
	}
	return true
}

// drop unregisters w and tells it to go on privately from p. Under h.mu.
func (h *watchHub) drop(w *hubWatcher, p watchPos) {
	if h.remove(w) {
		h.s.hubs.fallbacks.Add(1)
		if p.less(w.from) {
			p = w.from // it read the events before from privately
		}
		w.resume = p
		close(w.gone)
	}
}

// indexOf returns the index bucket of a watch with sel.
func (h *watchHub) indexOf(sel selection) (field, value string) {
	if sel.fields == nil || sel.fields.Empty() {
		return "", ""
	}
	for _, f := range h.fields {
		if v, ok := sel.fields.RequiresExactMatch(f); ok {
			return f, v
		}
	}
	return "", ""
}

// decoded is an object of an event with its selectable fields, computed once
// for every watcher.
type decoded struct {
	obj    apis.Object
	fields map[string]string
}

func (d decoded) matches(sel selection) bool {
	if sel.labels != nil && !sel.labels.Empty() && !sel.labels.Matches(labels.Set(d.obj.Meta().Labels)) {
		return false
	}
	if sel.fields != nil && !sel.fields.Empty() && !sel.fields.Matches(fields.Set(d.fields)) {
		return false
	}
	return true
}

// dispatch hands one KV event to the watchers it concerns.
func (h *watchHub) dispatch(ev Event) {
	if ev.Type == EventProgress {
		h.mu.Lock()
		for w := range h.all {
			if w.bookmarks {
				// A bookmark is only a checkpoint: a full watcher does without.
				w.push(hubItem{typ: WatchBookmark, rev: ev.Revision}, h.buffer)
			}
		}
		h.mu.Unlock()
		return
	}
	var cur, old decoded
	var err error
	switch ev.Type {
	case EventPut:
		if cur.obj, err = h.s.template(h.k, &ev.KV); err == nil && ev.Prev != nil {
			old.obj, err = h.s.template(h.k, ev.Prev)
		}
	case EventDelete:
		if ev.Prev != nil {
			old.obj, err = h.s.template(h.k, ev.Prev)
			h.s.forget(ev.Prev.Key, ev.Revision)
		}
	}
	if cur.obj != nil {
		cur.fields = h.k.Fields(cur.obj)
	}
	if old.obj != nil {
		old.fields = h.k.Fields(old.obj)
	}

	h.mu.Lock()
	defer h.mu.Unlock()
	p := watchPos{rev: ev.Revision}
	if ev.Revision == h.next.rev {
		p.n = h.next.n
	}
	h.next = watchPos{rev: p.rev, n: p.n + 1}
	if err != nil || (ev.Type != EventPut && ev.Type != EventDelete) {
		// Every watcher goes on privately from this event and reports the
		// error as a private watch does.
		for w := range h.all {
			h.drop(w, p)
		}
		return
	}
	deliver := func(w *hubWatcher) {
		if p.less(w.from) {
			return // delivered privately
		}
		it, ok := classify(w.sel, ev, cur, old)
		if !ok {
			return
		}
		if !w.push(it, h.buffer) {
			h.drop(w, p) // too slow: it reads on from the KV's history at its own pace
		}
	}
	for w := range h.plain {
		deliver(w)
	}
	for f, byValue := range h.index {
		var nv, ov string
		var hasNew, hasOld bool
		if cur.obj != nil {
			nv, hasNew = cur.fields[f], true
		}
		if old.obj != nil {
			ov, hasOld = old.fields[f], true
		}
		if hasNew {
			for w := range byValue[nv] {
				deliver(w)
			}
		}
		if hasOld && (!hasNew || ov != nv) {
			for w := range byValue[ov] {
				deliver(w)
			}
		}
	}
}

// classify is translate for one watcher, on objects already decoded.
func classify(sel selection, ev Event, cur, old decoded) (hubItem, bool) {
	switch ev.Type {
	case EventDelete:
		if old.obj == nil || !old.matches(sel) {
			return hubItem{}, false
		}
		return hubItem{typ: WatchDeleted, obj: old.obj, rv: ev.Revision, rev: ev.Revision}, true
	case EventPut:
		now := cur.matches(sel)
		before := old.obj != nil && (sel.empty() || old.matches(sel))
		it := hubItem{obj: cur.obj, rv: ev.KV.ModRevision, rev: ev.Revision}
		switch {
		case now && before:
			it.typ = WatchModified
		case now:
			it.typ = WatchAdded
		case before:
			it.typ = WatchDeleted
		default:
			return hubItem{}, false
		}
		return it, true
	}
	return hubItem{}, false
}
