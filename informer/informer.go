package informer

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/fields"
	"github.com/gantry-sdk/gantry/apis/labels"
	"github.com/gantry-sdk/gantry/store"
)

// Sentinel errors.
var (
	// ErrUnknownIndex: ByIndex named an index the informer does not have.
	ErrUnknownIndex = errors.New("informer: unknown index")
	// ErrIndexExists: AddIndex with a name already taken.
	ErrIndexExists = errors.New("informer: index already exists")
	// ErrAlreadyRunning: Run on an informer that runs.
	ErrAlreadyRunning = errors.New("informer: already running")
)

// NamespaceIndex is the built-in index of objects by namespace.
const NamespaceIndex = "namespace"

// Index is a secondary index of the cache: Func returns the values an object
// is found under (a node name, an owner uid, a label value).
type Index[T apis.Object] struct {
	Name string
	Func func(obj T) []string
}

// Options tune an Informer. The zero value works: every object of the kind.
type Options[T apis.Object] struct {
	// Namespace, Labels and Fields restrict the objects cached.
	Namespace string
	Labels    labels.Selector
	Fields    fields.Selector
	// Indexes are added to the built-in namespace index.
	Indexes []Index[T]
	// Transform runs on every object before it is cached, to drop fields the
	// consumers do not read and save memory. It may modify obj in place and
	// must keep its metadata (name, namespace, resourceVersion).
	Transform func(obj T) T
	Logger    logr.Logger
	// CheckMutations is a debugging aid for tests: the informer keeps a deep
	// copy of every object it caches and compares it with the cached object
	// whenever that object leaves the cache and in CheckMutations, which
	// then reports any object a consumer modified. It costs a copy per
	// cached object and a comparison per change; off, it costs nothing.
	CheckMutations bool
	// RetryBackoff is the first wait before relisting after a failed list or
	// a broken watch; it doubles to 30 s while failures persist. 0 means 100 ms.
	RetryBackoff time.Duration
}

// Informer keeps a cache of the objects of kind T in a store: it lists them
// at a revision R, then watches from R, so no change is missed; when the
// watch breaks or its revision is compacted away it lists again and
// reconciles the cache with the list, telling handlers only of real changes
// (so each sees every final state, none twice). Reads are served from memory.
//
// Cached objects are shared by every reader and handler, and over a store
// that is a store.SharedLister (an ObjectStore) with the store's own decoded
// objects, which is what makes the cache cheap: never modify one (copy it
// first with apis.DeepCopy). With a Transform the cache holds copies.
type Informer[T apis.Object] struct {
	typed store.Typed[T]
	opts  Options[T]
	log   logr.Logger

	// dispatch serialises cache changes with handler calls and handler
	// registration, so that each handler sees one ordered history.
	dispatch sync.Mutex
	handlers []*registration[T]

	mu sync.RWMutex
	// items holds the cache by namespace, then name ("" for cluster-scoped
	// kinds): the outer map is the built-in namespace index, at no cost per
	// object, and a list, which comes in key order, fills one inner map per
	// namespace.
	items   map[string]map[string]T
	count   int
	indexes map[string]*index[T] // the added indexes; not the namespace one
	guard   *mutationGuard[T]    // nil unless Options.CheckMutations
	rev     int64
	revCh   chan struct{} // closed and replaced whenever rev advances
	synced  chan struct{}
	running bool
}

type registration[T apis.Object] struct{ h Handler[T] }

// index maps values to the keys of the objects found under them.
type index[T apis.Object] struct {
	fn     func(T) []string
	values map[string]map[apis.Key]struct{}
}

// New returns an informer of the objects of kind T in s. Call Run to fill it.
func New[T apis.Object](s store.Store, opts Options[T]) *Informer[T] {
	log := opts.Logger
	if log.GetSink() == nil {
		log = logr.Discard()
	}
	if opts.RetryBackoff <= 0 {
		opts.RetryBackoff = 100 * time.Millisecond
	}
	inf := &Informer[T]{
		typed:   store.For[T](s),
		opts:    opts,
		items:   map[string]map[string]T{},
		indexes: map[string]*index[T]{},
		revCh:   make(chan struct{}),
		synced:  make(chan struct{}),
	}
	if k := inf.typed.Kind(); k != nil {
		log = log.WithValues("kind", k.GVK.Kind)
	}
	inf.log = log
	if opts.CheckMutations {
		inf.guard = &mutationGuard[T]{copies: map[apis.Key]T{}}
	}
	for _, ix := range opts.Indexes {
		// A duplicate name in Options is a programming error: keep the first
		// (the built-in namespace index comes first of all).
		if _, ok := inf.indexes[ix.Name]; !ok && ix.Name != NamespaceIndex {
			inf.indexes[ix.Name] = &index[T]{fn: ix.Func, values: map[string]map[apis.Key]struct{}{}}
		}
	}
	return inf
}

// AddIndex adds a secondary index, built at once over the cached objects.
func (inf *Informer[T]) AddIndex(ix Index[T]) error {
	inf.dispatch.Lock()
	defer inf.dispatch.Unlock()
	inf.mu.Lock()
	defer inf.mu.Unlock()
	if _, ok := inf.indexes[ix.Name]; ok || ix.Name == NamespaceIndex {
		return fmt.Errorf("%w: %q", ErrIndexExists, ix.Name)
	}
	x := &index[T]{fn: ix.Func, values: map[string]map[apis.Key]struct{}{}}
	for ns, byName := range inf.items {
		for name, obj := range byName {
			x.add(apis.Key{Namespace: ns, Name: name}, obj)
		}
	}
	inf.indexes[ix.Name] = x
	return nil
}

// Run fills the cache and keeps it current until ctx ends. It retries
// failures with backoff and returns nil when ctx ends; an informer runs once.
func (inf *Informer[T]) Run(ctx context.Context) error {
	inf.mu.Lock()
	if inf.running {
		inf.mu.Unlock()
		return ErrAlreadyRunning
	}
	inf.running = true
	inf.mu.Unlock()

	backoff := inf.opts.RetryBackoff
	needList := true
	for ctx.Err() == nil {
		var err error
		if needList {
			err = inf.list(ctx)
		}
		if err == nil {
			needList = false
			backoff = inf.opts.RetryBackoff
			err = inf.watch(ctx)
			if err == nil {
				continue // the watch ended cleanly: resume from the revision reached
			}
		}
		if ctx.Err() != nil {
			break
		}
		// Relist after any error: a compacted revision needs it, and after
		// other failures it is the safe way back to a known state.
		needList = true
		inf.log.Info("Relisting", "reason", err.Error(), "compacted", errors.Is(err, store.ErrCompacted), "after", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
		backoff = min(2*backoff, 30*time.Second)
	}
	return nil
}

func (inf *Informer[T]) list(ctx context.Context) error {
	opts := store.ListOptions{Namespace: inf.opts.Namespace, Labels: inf.opts.Labels, Fields: inf.opts.Fields}
	// The cache is read-only (see Informer), so it may hold the store's own
	// decoded objects rather than copies: no copy per object, and no memory
	// of its own for them. Not with a Transform, which may modify objects.
	if sl, ok := inf.typed.Store().(store.SharedLister); ok && inf.opts.Transform == nil && inf.typed.Kind() != nil {
		l, err := sl.ListShared(ctx, inf.typed.Kind().GVK, opts)
		if err != nil {
			return fmt.Errorf("informer: list: %w", err)
		}
		items := make([]T, len(l.Items))
		for i, o := range l.Items {
			obj, ok := o.(T)
			if !ok {
				return fmt.Errorf("informer: list of %s got a %T from the store", inf.typed.Kind().GVK.Kind, o)
			}
			items[i] = obj
		}
		inf.replace(items, l.Revision)
		return nil
	}
	l, err := inf.typed.List(ctx, opts)
	if err != nil {
		return fmt.Errorf("informer: list: %w", err)
	}
	inf.replace(l.Items, l.Revision)
	return nil
}

func (inf *Informer[T]) watch(ctx context.Context) error {
	inf.mu.RLock()
	from := inf.rev
	inf.mu.RUnlock()
	for ev, err := range inf.typed.Watch(ctx, store.WatchOptions{
		Namespace: inf.opts.Namespace, Labels: inf.opts.Labels, Fields: inf.opts.Fields,
		Revision: from, Bookmarks: true,
	}) {
		if err != nil {
			return fmt.Errorf("informer: watch from revision %d: %w", from, err)
		}
		inf.apply(ev)
	}
	return nil
}

// replace makes the cache equal to a full list at rev, telling handlers of
// the differences only.
func (inf *Informer[T]) replace(items []T, rev int64) {
	inf.dispatch.Lock()
	defer inf.dispatch.Unlock()
	if inf.opts.Transform != nil {
		for i, obj := range items {
			items[i] = inf.opts.Transform(obj)
		}
	}

	inf.mu.Lock()
	var changes []change[T]
	fresh := inf.count == 0
	if fresh {
		inf.fill(items)
	} else {
		changes = inf.diff(items)
	}
	inf.mu.Unlock()

	if len(inf.handlers) > 0 {
		if fresh {
			// Into an empty cache every listed object is an add.
			for _, obj := range items {
				for _, r := range inf.handlers {
					r.h.OnAdd(obj)
				}
			}
		}
		for _, c := range changes {
			for _, r := range inf.handlers {
				switch {
				case c.has && c.had:
					r.h.OnUpdate(c.old, c.obj)
				case c.has:
					r.h.OnAdd(c.obj)
				default:
					r.h.OnDelete(c.old)
				}
			}
		}
	}
	// Advance only once the handlers have been told: a caller of
	// WaitForRevision then sees the cache and every handler at rev.
	inf.mu.Lock()
	inf.advance(rev)
	inf.mu.Unlock()
	select {
	case <-inf.synced:
	default:
		close(inf.synced)
	}
}

// change is one difference a relist found, for the handlers.
type change[T apis.Object] struct {
	old, obj T
	had, has bool
}

// namespaceRun returns the end of the run of items from i on that share
// items[i]'s namespace. A store lists in key order, so a namespace's objects
// come together and one map lookup and one pre-sized map serve the run.
func namespaceRun[T apis.Object](items []T, i int) (ns string, end int) {
	ns = items[i].Meta().Namespace
	end = i + 1
	for end < len(items) && items[end].Meta().Namespace == ns {
		end++
	}
	return ns, end
}

// fill caches a list into the empty cache; inf.mu is held.
func (inf *Informer[T]) fill(items []T) {
	for i := 0; i < len(items); {
		ns, end := namespaceRun(items, i)
		byName := inf.items[ns]
		if byName == nil {
			byName = make(map[string]T, end-i)
			inf.items[ns] = byName
		}
		before := len(byName)
		for _, obj := range items[i:end] {
			byName[obj.Meta().Name] = obj
		}
		inf.count += len(byName) - before
		if len(inf.indexes) > 0 || inf.guard != nil {
			for _, obj := range items[i:end] {
				k := apis.Key{Namespace: ns, Name: obj.Meta().Name}
				for _, x := range inf.indexes {
					x.add(k, obj)
				}
				inf.guard.record(k, obj)
			}
		}
		i = end
	}
}

// diff makes the non-empty cache equal to a list and returns the
// differences (none unless there are handlers); inf.mu is held. It builds
// the new maps and keeps an unchanged object (same resourceVersion) as it
// was cached.
func (inf *Informer[T]) diff(items []T) []change[T] {
	var changes []change[T]
	tell := len(inf.handlers) > 0
	next := make(map[string]map[string]T, len(inf.items))
	count := 0
	for i := 0; i < len(items); {
		ns, end := namespaceRun(items, i)
		byName := next[ns]
		if byName == nil {
			byName = make(map[string]T, end-i)
			next[ns] = byName
		}
		prev := inf.items[ns]
		before := len(byName)
		for _, obj := range items[i:end] {
			name := obj.Meta().Name
			old, had := prev[name]
			if had && old.Meta().ResourceVersion == obj.Meta().ResourceVersion {
				byName[name] = old // unchanged since we last saw it
				continue
			}
			byName[name] = obj
			k := apis.Key{Namespace: ns, Name: name}
			inf.reindex(k, old, had, obj)
			if had {
				inf.guard.drop(k, old)
			}
			inf.guard.record(k, obj)
			if tell {
				changes = append(changes, change[T]{old: old, obj: obj, had: had, has: true})
			}
		}
		count += len(byName) - before
		i = end
	}
	for ns, prev := range inf.items {
		byName := next[ns]
		for name, old := range prev {
			if _, ok := byName[name]; ok {
				continue
			}
			k := apis.Key{Namespace: ns, Name: name}
			for _, x := range inf.indexes {
				x.remove(k, old)
			}
			inf.guard.drop(k, old)
			if tell {
				changes = append(changes, change[T]{old: old, had: true})
			}
		}
	}
	inf.items, inf.count = next, count
	return changes
}

// apply caches one watch event and tells the handlers.
func (inf *Informer[T]) apply(ev store.TypedEvent[T]) {
	inf.dispatch.Lock()
	defer inf.dispatch.Unlock()
	inf.mu.Lock()
	if ev.Type == store.WatchBookmark {
		inf.advance(ev.Revision)
		inf.mu.Unlock()
		return
	}
	obj := inf.transform(ev.Object)
	k := apis.KeyOf(obj)
	old, had := inf.items[k.Namespace][k.Name]
	if ev.Type == store.WatchDeleted {
		if had {
			inf.remove(k, old)
		}
	} else {
		inf.store(k, old, had, obj)
	}
	inf.mu.Unlock()
	defer func() { // after the handlers, as in replace
		inf.mu.Lock()
		inf.advance(ev.Revision)
		inf.mu.Unlock()
	}()

	for _, r := range inf.handlers {
		switch {
		case ev.Type == store.WatchDeleted:
			if had {
				// The watch's object is the last state, which the cache may
				// have seen as is; prefer the event's (it is the newest).
				r.h.OnDelete(obj)
			}
		case had:
			r.h.OnUpdate(old, obj)
		default:
			r.h.OnAdd(obj)
		}
	}
}

func (inf *Informer[T]) transform(obj T) T {
	if inf.opts.Transform != nil {
		return inf.opts.Transform(obj)
	}
	return obj
}

// store caches obj under k, replacing old; inf.mu is held.
func (inf *Informer[T]) store(k apis.Key, old T, had bool, obj T) {
	inf.reindex(k, old, had, obj)
	byName := inf.items[k.Namespace]
	if byName == nil {
		byName = map[string]T{}
		inf.items[k.Namespace] = byName
	}
	byName[k.Name] = obj
	if had {
		inf.guard.drop(k, old)
	} else {
		inf.count++
	}
	inf.guard.record(k, obj)
}

// reindex moves k from old's to obj's entries in the added indexes.
func (inf *Informer[T]) reindex(k apis.Key, old T, had bool, obj T) {
	for _, x := range inf.indexes {
		if had {
			x.remove(k, old)
		}
		x.add(k, obj)
	}
}

// remove drops k; inf.mu is held.
func (inf *Informer[T]) remove(k apis.Key, old T) {
	for _, x := range inf.indexes {
		x.remove(k, old)
	}
	byName := inf.items[k.Namespace]
	delete(byName, k.Name)
	if len(byName) == 0 {
		delete(inf.items, k.Namespace)
	}
	inf.count--
	inf.guard.drop(k, old)
}

// advance records that the cache reflects rev; inf.mu is held.
func (inf *Informer[T]) advance(rev int64) {
	if rev <= inf.rev {
		return
	}
	inf.rev = rev
	close(inf.revCh)
	inf.revCh = make(chan struct{})
}

func (x *index[T]) add(k apis.Key, obj T) {
	for _, v := range x.fn(obj) {
		x.addValue(k, v)
	}
}

func (x *index[T]) addValue(k apis.Key, v string) {
	set := x.values[v]
	if set == nil {
		set = map[apis.Key]struct{}{}
		x.values[v] = set
	}
	set[k] = struct{}{}
}

func (x *index[T]) remove(k apis.Key, obj T) {
	for _, v := range x.fn(obj) {
		x.removeValue(k, v)
	}
}

func (x *index[T]) removeValue(k apis.Key, v string) {
	if set := x.values[v]; set != nil {
		delete(set, k)
		if len(set) == 0 {
			delete(x.values, v)
		}
	}
}

// AddHandler registers h: it is called with an add for every object already
// cached, then with every change, in order. Handlers are called one at a
// time by the informer's goroutine: keep them quick (enqueue a key). remove
// unregisters h; after it returns, h is not called again.
func (inf *Informer[T]) AddHandler(h Handler[T]) (remove func()) {
	inf.dispatch.Lock()
	defer inf.dispatch.Unlock()
	r := &registration[T]{h: h}
	current := inf.List()
	for _, obj := range current {
		h.OnAdd(obj)
	}
	inf.handlers = append(slices.Clip(inf.handlers), r)
	return func() {
		inf.dispatch.Lock()
		defer inf.dispatch.Unlock()
		inf.handlers = slices.DeleteFunc(slices.Clone(inf.handlers), func(x *registration[T]) bool { return x == r })
	}
}

// Synced reports whether the first list has been cached.
func (inf *Informer[T]) Synced() bool {
	select {
	case <-inf.synced:
		return true
	default:
		return false
	}
}

// WaitForSync blocks until the first list has been cached, or ctx ends.
func (inf *Informer[T]) WaitForSync(ctx context.Context) error {
	select {
	case <-inf.synced:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("informer: wait for sync: %w", ctx.Err())
	}
}

// Revision is the store revision the cache reflects.
func (inf *Informer[T]) Revision() int64 {
	inf.mu.RLock()
	defer inf.mu.RUnlock()
	return inf.rev
}

// WaitForRevision blocks until the cache reflects revision rev (the revision
// of a write, read from its resourceVersion) and every handler has been told
// of the changes up to it, for read-your-writes, or until
// ctx ends. Revisions of other kinds are reached through the store's
// periodic bookmarks.
func (inf *Informer[T]) WaitForRevision(ctx context.Context, rev int64) error {
	for {
		inf.mu.RLock()
		cur, ch := inf.rev, inf.revCh
		inf.mu.RUnlock()
		if cur >= rev {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("informer: wait for revision %d (at %d): %w", rev, cur, ctx.Err())
		}
	}
}

// WaitForObject waits until the cache reflects obj's resourceVersion: the
// read-your-writes barrier after writing obj.
func (inf *Informer[T]) WaitForObject(ctx context.Context, obj apis.Object) error {
	rev, err := strconv.ParseInt(obj.Meta().ResourceVersion, 10, 64)
	if err != nil {
		return fmt.Errorf("informer: wait for object %s: resourceVersion %q: %w", apis.KeyOf(obj), obj.Meta().ResourceVersion, err)
	}
	return inf.WaitForRevision(ctx, rev)
}

// Get returns the cached object with key.
func (inf *Informer[T]) Get(key apis.Key) (T, bool) {
	inf.mu.RLock()
	defer inf.mu.RUnlock()
	obj, ok := inf.items[key.Namespace][key.Name]
	return obj, ok
}

// Len is the number of cached objects.
func (inf *Informer[T]) Len() int {
	inf.mu.RLock()
	defer inf.mu.RUnlock()
	return inf.count
}

// List returns every cached object, in no particular order.
func (inf *Informer[T]) List() []T {
	inf.mu.RLock()
	defer inf.mu.RUnlock()
	out := make([]T, 0, inf.count)
	for _, byName := range inf.items {
		for _, obj := range byName {
			out = append(out, obj)
		}
	}
	return out
}

// ListNamespace returns the cached objects in namespace ns.
func (inf *Informer[T]) ListNamespace(ns string) []T {
	inf.mu.RLock()
	defer inf.mu.RUnlock()
	return slices.Collect(maps.Values(inf.items[ns]))
}

// ByIndex returns the cached objects found under value in the named index.
func (inf *Informer[T]) ByIndex(name, value string) ([]T, error) {
	if name == NamespaceIndex {
		return inf.ListNamespace(value), nil
	}
	inf.mu.RLock()
	defer inf.mu.RUnlock()
	x, ok := inf.indexes[name]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownIndex, name)
	}
	set := x.values[value]
	out := make([]T, 0, len(set))
	for k := range set {
		out = append(out, inf.items[k.Namespace][k.Name])
	}
	return out, nil
}

// RegisterMetrics registers the informer's cache-size gauge,
// informer_cached_objects{group,kind}, into reg; it is computed at scrape
// time.
func (inf *Informer[T]) RegisterMetrics(reg prometheus.Registerer) error {
	var group, kind string
	if k := inf.typed.Kind(); k != nil {
		group, kind = k.GVK.Group, k.GVK.Kind
	}
	g := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name:        "informer_cached_objects",
		Help:        "Number of objects in the informer's cache",
		ConstLabels: prometheus.Labels{"group": group, "kind": kind},
	}, func() float64 { return float64(inf.Len()) })
	if err := reg.Register(g); err != nil {
		return fmt.Errorf("informer: register metrics for %s: %w", kind, err)
	}
	return nil
}
