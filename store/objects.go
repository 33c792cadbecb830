package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/apis/field"
	"github.com/gantry-sdk/gantry/apis/fields"
	"github.com/gantry-sdk/gantry/apis/labels"
)

// DefaultMaxObjectSize is the largest encoded object the store accepts unless
// Options.MaxObjectSize says otherwise: etcd's default request limit, 1.5 MiB.
const DefaultMaxObjectSize = 3 << 19

// maxAttempts bounds the internal retry loops of unconditional writes, which
// only repeat when another writer got in between a read and its compare.
const maxAttempts = 1000

// immortalNamespaces cannot be deleted (Kubernetes' NamespaceLifecycle admission).
var immortalNamespaces = []string{core.NamespaceDefault, core.NamespaceSystem, core.NamespacePublic}

// namespaceGVK is the kind whose objects namespaced objects must live in.
var namespaceGVK = apis.GroupVersionKind{Version: "v1", Kind: "Namespace"}

// GracePeriodFunc decides how many seconds a deletion of obj waits before the
// object may go: 0 deletes now (or, with finalizers, marks it); more marks the
// object with a deletionTimestamp that far in the future and a
// deletionGracePeriodSeconds, for an agent (the kubelet) to finish the job.
// requested is DeleteOptions.GracePeriodSeconds.
type GracePeriodFunc func(k *apis.KindInfo, obj apis.Object, requested *int64) int64

// Options tune an ObjectStore. The zero value works.
type Options struct {
	// Codec encodes stored values; nil means JSONCodec.
	Codec Codec
	// Clock returns the time for creationTimestamp and deletionTimestamp; nil means time.Now.
	Clock func() time.Time
	// NewUID returns a fresh uid; nil means a random (version 4) UUID.
	NewUID func() string
	// MaxObjectSize is the largest encoded object accepted, in bytes; 0 means DefaultMaxObjectSize.
	MaxObjectSize int
	// KeyPrefix is put before every key ("/registry"); empty by default.
	KeyPrefix string
	// Mutating admission runs, in order, after defaulting and before validation,
	// and may change the object. Validating admission runs after validation.
	Mutating   []Admitter
	Validating []Admitter
	// GracePeriod decides graceful deletion; nil means DefaultGracePeriod.
	GracePeriod GracePeriodFunc
}

// ObjectStore implements Store over any KV. Create one with New.
type ObjectStore struct {
	kv         KV
	scheme     *apis.Scheme
	codec      Codec
	now        func() time.Time
	newUID     func() string
	maxSize    int
	keyPrefix  string
	mutating   []Admitter
	validating []Admitter
	grace      GracePeriodFunc
	nsMu       sync.Mutex
	nsCache    map[string]nsState // namespace key -> its state at a mod revision
	lblMu      sync.RWMutex
	lblCache   map[string]labelsEntry // object key -> its labels at a mod revision
	tplMu      sync.Mutex
	tplCache   map[templateKey]apis.Object // decoded watch values, shared read-only
	tplBytes   int
}

var _ Store = (*ObjectStore)(nil)

// New returns an object store over kv for the kinds in scheme. When the
// scheme has the v1 Namespace kind, New creates the initial namespaces
// (default, kube-system, kube-public, kube-node-lease) that do not exist yet.
func New(kv KV, scheme *apis.Scheme, opts Options) (*ObjectStore, error) {
	if kv == nil || scheme == nil {
		return nil, errors.New("store: New needs a KV and a Scheme")
	}
	s := &ObjectStore{
		kv:         kv,
		scheme:     scheme,
		codec:      opts.Codec,
		now:        opts.Clock,
		newUID:     opts.NewUID,
		maxSize:    opts.MaxObjectSize,
		keyPrefix:  opts.KeyPrefix,
		mutating:   slices.Clone(opts.Mutating),
		validating: slices.Clone(opts.Validating),
		grace:      opts.GracePeriod,
		nsCache:    map[string]nsState{},
		lblCache:   map[string]labelsEntry{},
		tplCache:   map[templateKey]apis.Object{},
	}
	if s.codec == nil {
		s.codec = JSONCodec{}
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.newUID == nil {
		s.newUID = uuid.NewString
	}
	if s.maxSize <= 0 {
		s.maxSize = DefaultMaxObjectSize
	}
	if s.grace == nil {
		s.grace = DefaultGracePeriod
	}
	if nsKind, err := scheme.Lookup(namespaceGVK); err == nil {
		ctx := context.Background()
		for _, name := range core.InitialNamespaces() {
			ns := nsKind.New()
			ns.Meta().Name = name
			if _, err := s.Create(ctx, ns, WriteOptions{}); err != nil && !errors.Is(err, ErrAlreadyExists) {
				return nil, fmt.Errorf("store: create initial namespace %q: %w", name, err)
			}
		}
	}
	return s, nil
}

// Scheme returns the kinds the store knows.
func (s *ObjectStore) Scheme() *apis.Scheme { return s.scheme }

// KV returns the backend the store writes to.
func (s *ObjectStore) KV() KV { return s.kv }

// Compact discards history before rev (see KV.Compact): lists, continues and
// watches from older revisions then fail with ErrCompacted.
func (s *ObjectStore) Compact(ctx context.Context, rev int64) error {
	if err := s.kv.Compact(ctx, rev); err != nil {
		return fmt.Errorf("store: compact at %d: %w", rev, err)
	}
	return nil
}

// ---- errors with context ----

func notFound(k *apis.KindInfo, key apis.Key) error {
	return fmt.Errorf("%w: %s %q", ErrNotFound, k.GroupResource(), key)
}

func conflictf(k *apis.KindInfo, key apis.Key, format string, args ...any) error {
	return fmt.Errorf("%w: %s %q: %s", ErrConflict, k.GroupResource(), key, fmt.Sprintf(format, args...))
}

func invalid(k *apis.KindInfo, name string, errs ...*field.Error) error {
	return &InvalidError{Kind: k.GVK.Kind, Name: name, Errors: dedupe(errs)}
}

// dedupe drops repeated field errors, which arise when the store's own
// metadata checks and a kind's Validate report the same problem.
func dedupe(l field.ErrorList) field.ErrorList {
	if len(l) < 2 {
		return l
	}
	seen := make(map[string]bool, len(l))
	out := l[:0:0]
	for _, e := range l {
		if s := e.Error(); !seen[s] {
			seen[s] = true
			out = append(out, e)
		}
	}
	return out
}

// ---- encoding ----

// encode renders obj for storage: TypeMeta set to the kind, resourceVersion
// cleared (the KV's mod revision is the resourceVersion), size checked.
func (s *ObjectStore) encode(k *apis.KindInfo, obj apis.Object) ([]byte, error) {
	obj.Type().SetGroupVersionKind(k.GVK)
	m := obj.Meta()
	rv := m.ResourceVersion
	m.ResourceVersion = ""
	data, err := s.codec.Encode(obj)
	m.ResourceVersion = rv
	if err != nil {
		return nil, fmt.Errorf("store: encode %s %q: %w", k.GroupResource(), m.Key(), err)
	}
	if len(data) > s.maxSize {
		return nil, fmt.Errorf("%w: %s %q encodes to %d bytes, over the limit of %d bytes",
			ErrTooLarge, k.GroupResource(), m.Key(), len(data), s.maxSize)
	}
	return data, nil
}

// decode returns a new object of kind k from stored bytes, with resourceVersion rev.
func (s *ObjectStore) decode(k *apis.KindInfo, key string, data []byte, rev int64) (apis.Object, error) {
	obj := k.New()
	if err := s.codec.Decode(data, obj); err != nil {
		return nil, fmt.Errorf("store: decode %s at key %q: %w", k.GVK.Kind, key, err)
	}
	obj.Type().SetGroupVersionKind(k.GVK)
	if rev > 0 {
		obj.Meta().ResourceVersion = strconv.FormatInt(rev, 10)
	} else {
		obj.Meta().ResourceVersion = ""
	}
	return obj, nil
}

// clone returns a deep copy of obj, so that the caller's object is never
// retained or changed.
func (s *ObjectStore) clone(k *apis.KindInfo, obj apis.Object) (apis.Object, error) {
	if v := reflect.ValueOf(obj); v.Kind() != reflect.Pointer || v.IsNil() {
		return nil, fmt.Errorf("store: %s: got %T, want a non-nil pointer", k.GVK.Kind, obj)
	}
	out := apis.DeepCopy(obj)
	out.Type().SetGroupVersionKind(k.GVK)
	return out, nil
}

// readKV returns the current (rev 0) or past KV entry of one object.
func (s *ObjectStore) readKV(ctx context.Context, k *apis.KindInfo, key apis.Key, rev int64) (*KeyValue, error) {
	kvKey := s.objectKey(k, key)
	// The exact key sorts first among the keys it prefixes.
	page, err := s.kv.Range(ctx, kvKey, RangeOptions{Revision: rev, Limit: 1})
	if err != nil {
		return nil, fmt.Errorf("store: get %s %q: %w", k.GroupResource(), key, err)
	}
	if len(page.KVs) == 0 || page.KVs[0].Key != kvKey {
		return nil, notFound(k, key)
	}
	return &page.KVs[0], nil
}

// read returns the current (rev 0) or past state of one object and its KV entry.
func (s *ObjectStore) read(ctx context.Context, k *apis.KindInfo, key apis.Key, rev int64) (apis.Object, *KeyValue, error) {
	kv, err := s.readKV(ctx, k, key, rev)
	if err != nil {
		return nil, nil, err
	}
	obj, err := s.decode(k, kv.Key, kv.Value, kv.ModRevision)
	if err != nil {
		return nil, nil, err
	}
	return obj, kv, nil
}

func parseResourceVersion(k *apis.KindInfo, name, rv string) (int64, error) {
	n, err := strconv.ParseInt(rv, 10, 64)
	if err != nil || n <= 0 {
		return 0, invalid(k, name, field.Invalid(field.NewPath("metadata", "resourceVersion"), rv, "must be a positive decimal revision"))
	}
	return n, nil
}

// ---- reads ----

// Get returns one object.
func (s *ObjectStore) Get(ctx context.Context, gvk apis.GroupVersionKind, key apis.Key, opts GetOptions) (apis.Object, error) {
	k, err := s.scheme.Lookup(gvk)
	if err != nil {
		return nil, fmt.Errorf("store: get: %w", err)
	}
	obj, _, err := s.read(ctx, k, key, opts.Revision)
	return obj, err
}

// selection is a List's or Watch's selectors.
type selection struct {
	kind   *apis.KindInfo
	labels labels.Selector
	fields fields.Selector
}

func (sel selection) empty() bool {
	return (sel.labels == nil || sel.labels.Empty()) && (sel.fields == nil || sel.fields.Empty())
}

func (sel selection) matches(obj apis.Object) bool {
	if sel.labels != nil && !sel.labels.Empty() && !sel.labels.Matches(labels.Set(obj.Meta().Labels)) {
		return false
	}
	if sel.fields != nil && !sel.fields.Empty() && !sel.fields.Matches(fields.Set(sel.kind.Fields(obj))) {
		return false
	}
	return true
}

// labelsProbe is the part of a JSON-encoded object a label selector needs.
type labelsProbe struct {
	Metadata struct {
		Labels map[string]string `json:"labels"`
	} `json:"metadata"`
}

// mayMatchLabels reports whether a stored value can match sel's labels,
// decoding only its labels when the codec is JSON, and remembering them per
// key and mod revision (a value at a revision never changes): a selective
// List then fully decodes only the objects it returns. Values it cannot
// probe may match.
func (s *ObjectStore) mayMatchLabels(sel selection, kv *KeyValue) bool {
	if sel.labels == nil || sel.labels.Empty() {
		return true
	}
	if _, ok := s.codec.(JSONCodec); !ok {
		return true
	}
	s.lblMu.RLock()
	e, ok := s.lblCache[kv.Key]
	s.lblMu.RUnlock()
	if !ok || e.modRevision != kv.ModRevision {
		var p labelsProbe
		if err := json.Unmarshal(kv.Value, &p); err != nil {
			return true // the full decode reports the error
		}
		e = labelsEntry{modRevision: kv.ModRevision, labels: p.Metadata.Labels}
		s.lblMu.Lock()
		if len(s.lblCache) >= maxLabelsCache {
			clear(s.lblCache) // bounded: start over rather than grow with the store
		}
		s.lblCache[kv.Key] = e
		s.lblMu.Unlock()
	}
	return sel.labels.Matches(labels.Set(e.labels))
}

type labelsEntry struct {
	modRevision int64
	labels      map[string]string // never modified once cached
}

const maxLabelsCache = 1 << 16

// scope returns the namespace a List or Watch reads: opts' namespace, or the
// one a field selector pins, so that the range is as narrow as possible.
func scope(k *apis.KindInfo, ns string, fs fields.Selector) string {
	if !k.Namespaced() {
		return ""
	}
	if ns == "" && fs != nil {
		if v, ok := fs.RequiresExactMatch("metadata.namespace"); ok && v != "" {
			return v
		}
	}
	return ns
}

// List returns the objects of kind gvk that match opts, at one revision.
func (s *ObjectStore) List(ctx context.Context, gvk apis.GroupVersionKind, opts ListOptions) (*ObjectList, error) {
	k, err := s.scheme.Lookup(gvk)
	if err != nil {
		return nil, fmt.Errorf("store: list: %w", err)
	}
	if opts.Limit < 0 {
		return nil, fmt.Errorf("%w: list %s: limit %d is negative", ErrInvalid, k.GroupResource(), opts.Limit)
	}
	prefix := s.listPrefix(k, scope(k, opts.Namespace, opts.Fields))
	rev, after := opts.Revision, ""
	if opts.Continue != "" {
		if opts.Revision != 0 {
			return nil, fmt.Errorf("%w: list %s: a revision cannot be given with a continue token", ErrInvalid, k.GroupResource())
		}
		ct, err := decodeContinue(opts.Continue, prefix)
		if err != nil {
			return nil, fmt.Errorf("store: list %s: %w", k.GroupResource(), err)
		}
		rev, after = ct.Revision, ct.After
	}
	sel := selection{kind: k, labels: opts.Labels, fields: opts.Fields}
	filtered := !sel.empty()
	out := &ObjectList{}
	for {
		ro := RangeOptions{Revision: rev, After: after}
		if opts.Limit > 0 {
			ro.Limit = opts.Limit - int64(len(out.Items))
			if filtered {
				// Selectors drop items: read ahead so that a page takes few ranges.
				ro.Limit = max(ro.Limit, 256)
			}
		}
		page, err := s.kv.Range(ctx, prefix, ro)
		if err != nil {
			return nil, fmt.Errorf("store: list %s at revision %d: %w", k.GroupResource(), rev, err)
		}
		rev = page.Revision
		out.Revision = rev
		for i := range page.KVs {
			kv := &page.KVs[i]
			if filtered && !s.mayMatchLabels(sel, kv) {
				continue
			}
			obj, err := s.decode(k, kv.Key, kv.Value, kv.ModRevision)
			if err != nil {
				return nil, err
			}
			if filtered && !sel.matches(obj) {
				continue
			}
			out.Items = append(out.Items, obj)
			if opts.Limit > 0 && int64(len(out.Items)) == opts.Limit {
				if i < len(page.KVs)-1 || page.More {
					out.Continue = encodeContinue(rev, kv.Key)
					out.RemainingCount = page.Count - int64(i+1)
				}
				return out, nil
			}
		}
		if !page.More || len(page.KVs) == 0 {
			return out, nil
		}
		after = page.KVs[len(page.KVs)-1].Key
	}
}

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
	t, err := s.decode(k, kv.Key, kv.Value, kv.ModRevision)
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

// ---- writes ----

const generatedSuffixLen = 5

// generatedSuffixChars are Kubernetes' characters for generated names: no
// vowels (no words) and no look-alikes (0, 1, 3).
const generatedSuffixChars = "bcdfghjklmnpqrstvwxz2456789"

func generateName(base string) string {
	const maxBase = 63 - generatedSuffixLen
	if len(base) > maxBase {
		base = base[:maxBase]
	}
	b := make([]byte, generatedSuffixLen)
	for i := range b {
		b[i] = generatedSuffixChars[rand.IntN(len(generatedSuffixChars))]
	}
	return base + string(b)
}

// validateMeta checks the metadata rules every kind shares.
func validateMeta(k *apis.KindInfo, m *apis.ObjectMeta, generated bool) field.ErrorList {
	var errs field.ErrorList
	p := field.NewPath("metadata")
	switch {
	case m.Name == "":
		errs = append(errs, field.Required(p.Child("name"), "name or generateName is required"))
	default:
		at, val := p.Child("name"), m.Name
		if generated {
			at, val = p.Child("generateName"), m.GenerateName
		}
		check := apis.IsDNS1123Subdomain
		if k.GVK == namespaceGVK {
			check = apis.IsDNS1123Label // namespaces are a segment of their objects' names
		}
		for _, msg := range check(m.Name) {
			errs = append(errs, field.Invalid(at, val, msg))
		}
	}
	switch {
	case k.Namespaced() && m.Namespace == "":
		errs = append(errs, field.Required(p.Child("namespace"), ""))
	case k.Namespaced():
		for _, msg := range apis.IsDNS1123Label(m.Namespace) {
			errs = append(errs, field.Invalid(p.Child("namespace"), m.Namespace, msg))
		}
	case m.Namespace != "":
		errs = append(errs, field.Forbidden(p.Child("namespace"), "not allowed on this type"))
	}
	for _, key := range sortedKeys(m.Labels) {
		for _, msg := range apis.IsQualifiedName(key) {
			errs = append(errs, field.Invalid(p.Child("labels"), key, msg))
		}
		for _, msg := range apis.IsValidLabelValue(m.Labels[key]) {
			errs = append(errs, field.Invalid(p.Child("labels").Key(key), m.Labels[key], msg))
		}
	}
	for _, key := range sortedKeys(m.Annotations) {
		for _, msg := range apis.IsQualifiedName(key) {
			errs = append(errs, field.Invalid(p.Child("annotations"), key, msg))
		}
	}
	for i, f := range m.Finalizers {
		for _, msg := range apis.IsQualifiedName(f) {
			errs = append(errs, field.Invalid(p.Child("finalizers").Index(i), f, msg))
		}
	}
	return errs
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Create stores a new object.
func (s *ObjectStore) Create(ctx context.Context, in apis.Object, opts WriteOptions) (apis.Object, error) {
	k, err := s.scheme.KindOf(in)
	if err != nil {
		return nil, fmt.Errorf("store: create: %w", err)
	}
	for attempt := 0; ; attempt++ {
		obj, err := s.clone(k, in)
		if err != nil {
			return nil, err
		}
		m := obj.Meta()
		generated := m.Name == "" && m.GenerateName != ""
		if generated {
			m.Name = generateName(m.GenerateName)
		}
		out, err := s.create(ctx, k, obj, generated, opts)
		// A generated name that is taken is retried with a new one.
		if generated && errors.Is(err, ErrAlreadyExists) && attempt < 8 {
			continue
		}
		return out, err
	}
}

func (s *ObjectStore) create(ctx context.Context, k *apis.KindInfo, obj apis.Object, generated bool, opts WriteOptions) (apis.Object, error) {
	m := obj.Meta()
	key := m.Key()
	if !k.Namespaced() && m.Namespace != "" {
		return nil, invalid(k, m.Name, field.Forbidden(field.NewPath("metadata", "namespace"), "not allowed on this type"))
	}
	if m.ResourceVersion != "" {
		return nil, invalid(k, m.Name, field.Invalid(field.NewPath("metadata", "resourceVersion"), m.ResourceVersion, "must not be set on objects to be created"))
	}
	k.Default(obj)
	req := AdmissionRequest{Operation: OperationCreate, Kind: k, Key: key, Object: obj, DryRun: opts.DryRun}
	if err := admit(ctx, s.mutating, req); err != nil {
		return nil, err
	}
	// Fields only the store sets, reset after admission as Kubernetes does.
	m.Namespace, m.Name = key.Namespace, key.Name
	m.UID = s.newUID()
	m.CreationTimestamp = apis.NewTime(s.now())
	m.Generation = 1
	m.DeletionTimestamp = nil
	m.DeletionGracePeriodSeconds = nil
	m.ResourceVersion = ""
	errs := append(validateMeta(k, m, generated), k.Validate(obj)...)
	if len(errs) > 0 {
		return nil, invalid(k, m.Name, errs...)
	}
	if err := admit(ctx, s.validating, req); err != nil {
		return nil, err
	}
	data, err := s.encode(k, obj)
	if err != nil {
		return nil, err
	}
	kvKey := s.objectKey(k, key)
	for attempt := 0; attempt < maxAttempts; attempt++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		txn := Txn{If: []Compare{{Key: kvKey}}, Then: []Op{Put(kvKey, data)}}
		if k.Namespaced() {
			// The compare on the namespace's revision makes a concurrent
			// namespace delete (or mark) fail this create instead of racing it.
			nsCmp, err := s.checkNamespace(ctx, k, key)
			if err != nil {
				return nil, err
			}
			txn.If = append(txn.If, nsCmp)
		}
		if opts.DryRun {
			if _, _, err := s.read(ctx, k, key, 0); err == nil {
				return nil, fmt.Errorf("%w: %s %q", ErrAlreadyExists, k.GroupResource(), key)
			} else if !errors.Is(err, ErrNotFound) {
				return nil, err
			}
			return s.decode(k, kvKey, data, 0)
		}
		rev, err := s.kv.Txn(ctx, txn)
		if errors.Is(err, ErrConflict) {
			if _, _, rerr := s.read(ctx, k, key, 0); rerr == nil {
				return nil, fmt.Errorf("%w: %s %q", ErrAlreadyExists, k.GroupResource(), key)
			} else if !errors.Is(rerr, ErrNotFound) {
				return nil, rerr
			}
			continue // the namespace changed under us: look at it again
		}
		if err != nil {
			return nil, fmt.Errorf("store: create %s %q: %w", k.GroupResource(), key, err)
		}
		return s.decode(k, kvKey, data, rev)
	}
	return nil, conflictf(k, key, "gave up after %d attempts", maxAttempts)
}

// checkNamespace returns the compare that pins key's namespace in its current,
// live state, or an error if the namespace is missing or being deleted.
func (s *ObjectStore) checkNamespace(ctx context.Context, k *apis.KindInfo, key apis.Key) (Compare, error) {
	nsKind, err := s.scheme.Lookup(namespaceGVK)
	if err != nil {
		return Compare{}, fmt.Errorf("store: create %s %q: namespaced kinds need the v1 Namespace kind in the scheme: %w", k.GroupResource(), key, err)
	}
	nsKV, err := s.readKV(ctx, nsKind, apis.Key{Name: key.Namespace}, 0)
	if err != nil {
		return Compare{}, fmt.Errorf("store: create %s %q: %w", k.GroupResource(), key, err)
	}
	terminating, err := s.namespaceTerminating(nsKind, nsKV)
	if err != nil {
		return Compare{}, err
	}
	if terminating {
		return Compare{}, invalid(k, key.Name, field.Forbidden(field.NewPath("metadata", "namespace"),
			fmt.Sprintf("unable to create new content in namespace %s because it is being terminated", key.Namespace)))
	}
	return Compare{Key: nsKV.Key, ModRevision: nsKV.ModRevision}, nil
}

// namespaceTerminating reports whether a namespace, as stored in kv, has a
// deletionTimestamp. The answer is cached per mod revision: every namespaced
// create asks, and decoding the namespace each time would dominate its cost.
func (s *ObjectStore) namespaceTerminating(nsKind *apis.KindInfo, kv *KeyValue) (bool, error) {
	s.nsMu.Lock()
	c, ok := s.nsCache[kv.Key]
	s.nsMu.Unlock()
	if ok && c.modRevision == kv.ModRevision {
		return c.terminating, nil
	}
	ns, err := s.decode(nsKind, kv.Key, kv.Value, kv.ModRevision)
	if err != nil {
		return false, err
	}
	st := nsState{modRevision: kv.ModRevision, terminating: ns.Meta().DeletionTimestamp != nil}
	s.nsMu.Lock()
	if len(s.nsCache) >= maxNamespaceCache {
		clear(s.nsCache) // namespaces churn: start over rather than grow without bound
	}
	s.nsCache[kv.Key] = st
	s.nsMu.Unlock()
	return st.terminating, nil
}

const maxNamespaceCache = 4096

type nsState struct {
	modRevision int64
	terminating bool
}

// Update replaces an object's metadata and spec; its status is kept.
func (s *ObjectStore) Update(ctx context.Context, in apis.Object, opts WriteOptions) (apis.Object, error) {
	return s.update(ctx, in, opts, false)
}

// UpdateStatus replaces an object's status; everything else is kept.
func (s *ObjectStore) UpdateStatus(ctx context.Context, in apis.Object, opts WriteOptions) (apis.Object, error) {
	return s.update(ctx, in, opts, true)
}

func (s *ObjectStore) update(ctx context.Context, in apis.Object, opts WriteOptions, status bool) (apis.Object, error) {
	k, err := s.scheme.KindOf(in)
	if err != nil {
		return nil, fmt.Errorf("store: update: %w", err)
	}
	if status && !k.HasStatus() {
		return nil, fmt.Errorf("%w: %s has no status subresource", ErrNotFound, k.GroupResource())
	}
	first, err := s.clone(k, in)
	if err != nil {
		return nil, err
	}
	fm := first.Meta()
	key := fm.Key()
	if fm.Name == "" {
		return nil, invalid(k, "", field.Required(field.NewPath("metadata", "name"), ""))
	}
	if !k.Namespaced() && fm.Namespace != "" {
		return nil, invalid(k, fm.Name, field.Forbidden(field.NewPath("metadata", "namespace"), "not allowed on this type"))
	}
	var wantRV int64
	if fm.ResourceVersion != "" {
		if wantRV, err = parseResourceVersion(k, fm.Name, fm.ResourceVersion); err != nil {
			return nil, err
		}
	}
	kvKey := s.objectKey(k, key)
	for attempt := 0; attempt < maxAttempts; attempt++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		obj := first
		if attempt > 0 {
			if obj, err = s.clone(k, in); err != nil {
				return nil, err
			}
		}
		cur, curKV, err := s.read(ctx, k, key, 0)
		if err != nil {
			return nil, err
		}
		if wantRV != 0 && wantRV != curKV.ModRevision {
			return nil, conflictf(k, key, "the object has been modified: resourceVersion %d is not the stored %d; read it again and retry", wantRV, curKV.ModRevision)
		}
		if status {
			obj, err = s.statusMerge(k, obj, cur)
			if err != nil {
				return nil, err
			}
		}
		next, err := s.prepareUpdate(ctx, k, obj, cur, status, opts)
		if err != nil {
			return nil, err
		}
		data, err := s.encode(k, next)
		if err != nil {
			return nil, err
		}
		if bytes.Equal(data, curKV.Value) {
			return cur, nil // nothing changed: no write, no new revision
		}
		nm := next.Meta()
		// Removing the last finalizer of a marked object (whose grace period is
		// over) deletes it.
		deleteNow := nm.DeletionTimestamp != nil && len(nm.Finalizers) == 0 && len(specFinalizers(k, next)) == 0 &&
			(nm.DeletionGracePeriodSeconds == nil || *nm.DeletionGracePeriodSeconds == 0)
		if opts.DryRun {
			return s.decode(k, kvKey, data, curKV.ModRevision)
		}
		op := Put(kvKey, data)
		if deleteNow {
			op = Delete(kvKey)
		}
		rev, err := s.kv.Txn(ctx, Txn{If: []Compare{{Key: kvKey, ModRevision: curKV.ModRevision}}, Then: []Op{op}})
		if errors.Is(err, ErrConflict) {
			if wantRV != 0 {
				return nil, conflictf(k, key, "the object has been modified since resourceVersion %d; read it again and retry", wantRV)
			}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("store: update %s %q: %w", k.GroupResource(), key, err)
		}
		return s.decode(k, kvKey, data, rev)
	}
	return nil, conflictf(k, key, "gave up after %d attempts", maxAttempts)
}

// statusMerge returns cur with obj's status: a status write changes nothing
// else (Kubernetes' status strategy resets metadata and spec likewise).
func (s *ObjectStore) statusMerge(k *apis.KindInfo, obj, cur apis.Object) (apis.Object, error) {
	next, err := s.clone(k, cur)
	if err != nil {
		return nil, err
	}
	if err := copyField(next, obj, "Status"); err != nil {
		return nil, fmt.Errorf("store: update status of %s: %w", k.GroupResource(), err)
	}
	// The precondition travels with the request, not the stored object.
	next.Meta().ResourceVersion = obj.Meta().ResourceVersion
	return next, nil
}

// keepStoreFields copies from cur what only the store may change.
func keepStoreFields(k *apis.KindInfo, obj, cur apis.Object, keepStatus bool) error {
	m, cm := obj.Meta(), cur.Meta()
	if m.UID == "" {
		m.UID = cm.UID
	}
	m.CreationTimestamp = cm.CreationTimestamp
	m.Generation = cm.Generation
	m.DeletionTimestamp = nil
	if cm.DeletionTimestamp != nil {
		t := *cm.DeletionTimestamp
		m.DeletionTimestamp = &t
	}
	m.DeletionGracePeriodSeconds = nil
	if cm.DeletionGracePeriodSeconds != nil {
		g := *cm.DeletionGracePeriodSeconds
		m.DeletionGracePeriodSeconds = &g
	}
	if keepStatus && k.HasStatus() {
		return copyField(obj, cur, "Status")
	}
	return nil
}

// prepareUpdate runs defaulting, admission and validation on obj as the
// replacement of cur, and returns it with the store's fields and generation set.
func (s *ObjectStore) prepareUpdate(ctx context.Context, k *apis.KindInfo, obj, cur apis.Object, status bool, opts WriteOptions) (apis.Object, error) {
	m, cm := obj.Meta(), cur.Meta()
	if err := keepStoreFields(k, obj, cur, !status); err != nil {
		return nil, err
	}
	k.Default(obj)
	req := AdmissionRequest{Operation: OperationUpdate, Kind: k, Key: cm.Key(), Object: obj, OldObject: cur, DryRun: opts.DryRun}
	if status {
		req.Subresource = SubresourceStatus
	}
	if err := admit(ctx, s.mutating, req); err != nil {
		return nil, err
	}
	// Admission may have touched what it must not: reset again.
	m.Namespace, m.Name = cm.Namespace, cm.Name
	if err := keepStoreFields(k, obj, cur, !status); err != nil {
		return nil, err
	}
	if status {
		// Only the status may change: take everything else from cur again.
		merged, err := s.statusMerge(k, obj, cur)
		if err != nil {
			return nil, err
		}
		obj, m = merged, merged.Meta()
	}
	p := field.NewPath("metadata")
	errs := validateMeta(k, m, false)
	if m.UID != cm.UID {
		errs = append(errs, field.Invalid(p.Child("uid"), m.UID, "field is immutable"))
	}
	if cm.DeletionTimestamp != nil {
		if added := newFinalizers(m.Finalizers, cm.Finalizers); len(added) > 0 {
			errs = append(errs, field.Forbidden(p.Child("finalizers"),
				fmt.Sprintf("no new finalizers can be added if the object is being deleted, found new finalizers %q", added)))
		}
		if added := newFinalizers(specFinalizers(k, obj), specFinalizers(k, cur)); len(added) > 0 {
			errs = append(errs, field.Forbidden(field.NewPath("spec", "finalizers"),
				fmt.Sprintf("no new finalizers can be added if the namespace is being deleted, found new finalizers %q", added)))
		}
	}
	errs = append(errs, k.ValidateUpdate(obj, cur)...)
	if len(errs) > 0 {
		return nil, invalid(k, m.Name, errs...)
	}
	if err := admit(ctx, s.validating, req); err != nil {
		return nil, err
	}
	if !status {
		changed, err := specChanged(k, obj, cur)
		if err != nil {
			return nil, err
		}
		if changed {
			m.Generation = cm.Generation + 1
		}
	}
	return obj, nil
}

func newFinalizers(now, before []string) []string {
	var added []string
	for _, f := range now {
		if !slices.Contains(before, f) && !slices.Contains(added, f) {
			added = append(added, f)
		}
	}
	return added
}

// Delete removes an object, or marks it while finalizers or a grace period remain.
func (s *ObjectStore) Delete(ctx context.Context, gvk apis.GroupVersionKind, key apis.Key, opts DeleteOptions) (apis.Object, error) {
	k, err := s.scheme.Lookup(gvk)
	if err != nil {
		return nil, fmt.Errorf("store: delete: %w", err)
	}
	switch opts.PropagationPolicy {
	case "", PropagateBackground, PropagateForeground, PropagateOrphan:
	default:
		return nil, invalid(k, key.Name, field.NotSupported(field.NewPath("propagationPolicy"), string(opts.PropagationPolicy),
			[]string{string(PropagateBackground), string(PropagateForeground), string(PropagateOrphan)}))
	}
	if k.GVK == namespaceGVK && slices.Contains(immortalNamespaces, key.Name) {
		return nil, fmt.Errorf("%w: DELETE namespaces %q: this namespace may not be deleted", ErrDenied, key.Name)
	}
	kvKey := s.objectKey(k, key)
	for attempt := 0; attempt < maxAttempts; attempt++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		cur, curKV, err := s.read(ctx, k, key, 0)
		if err != nil {
			return nil, err
		}
		cm := cur.Meta()
		if opts.UID != "" && opts.UID != cm.UID {
			return nil, conflictf(k, key, "precondition failed: UID in precondition: %s, UID in object meta: %s", opts.UID, cm.UID)
		}
		if opts.ResourceVersion != "" && opts.ResourceVersion != cm.ResourceVersion {
			return nil, conflictf(k, key, "precondition failed: ResourceVersion in precondition: %s, ResourceVersion in object meta: %s", opts.ResourceVersion, cm.ResourceVersion)
		}
		req := AdmissionRequest{Operation: OperationDelete, Kind: k, Key: key, OldObject: cur, DryRun: opts.DryRun}
		if err := admit(ctx, s.mutating, req); err != nil {
			return nil, err
		}
		if err := admit(ctx, s.validating, req); err != nil {
			return nil, err
		}
		next, plan, err := s.planDelete(k, cur, opts)
		if err != nil {
			return nil, err
		}
		var txn Txn
		switch plan {
		case deletePending:
			return cur, nil
		case deleteNow:
			if opts.DryRun {
				return cur, nil
			}
			txn = Txn{If: []Compare{{Key: kvKey, ModRevision: curKV.ModRevision}}, Then: []Op{Delete(kvKey)}}
		case deleteMark:
			data, err := s.encode(k, next)
			if err != nil {
				return nil, err
			}
			if bytes.Equal(data, curKV.Value) {
				return cur, nil
			}
			if opts.DryRun {
				return s.decode(k, kvKey, data, curKV.ModRevision)
			}
			txn = Txn{If: []Compare{{Key: kvKey, ModRevision: curKV.ModRevision}}, Then: []Op{Put(kvKey, data)}}
		}
		rev, err := s.kv.Txn(ctx, txn)
		if errors.Is(err, ErrConflict) {
			continue // preconditions are checked again on the fresh read
		}
		if err != nil {
			return nil, fmt.Errorf("store: delete %s %q: %w", k.GroupResource(), key, err)
		}
		if plan == deleteNow {
			cm.ResourceVersion = strconv.FormatInt(rev, 10)
			return cur, nil
		}
		return s.decode(k, kvKey, txn.Then[0].Value, rev)
	}
	return nil, conflictf(k, key, "gave up after %d attempts", maxAttempts)
}

type deletePlan int

const (
	deleteNow     deletePlan = iota // remove the key
	deleteMark                      // write the marked object
	deletePending                   // a graceful deletion is already under way: change nothing
)

// planDelete follows Kubernetes' registry: graceful deletion first (a
// deletionTimestamp in the future), then the propagation policy's
// finalizers, then marking while finalizers remain.
func (s *ObjectStore) planDelete(k *apis.KindInfo, cur apis.Object, opts DeleteOptions) (apis.Object, deletePlan, error) {
	next, err := s.clone(k, cur)
	if err != nil {
		return nil, 0, err
	}
	m := next.Meta()
	m.ResourceVersion = ""
	now := s.now()
	requested := opts.GracePeriodSeconds
	if requested != nil && *requested < 0 {
		one := int64(1) // Kubernetes treats a negative period as 1s
		requested = &one
	}
	graceful := false
	if m.DeletionTimestamp != nil {
		if g := m.DeletionGracePeriodSeconds; g != nil && *g > 0 {
			// Graceful deletion under way: only a shorter period changes it.
			if requested == nil || *requested >= *g {
				return cur, deletePending, nil
			}
			start := m.DeletionTimestamp.Add(-time.Duration(*g) * time.Second)
			t := apis.NewTime(start.Add(time.Duration(*requested) * time.Second))
			p := *requested
			m.DeletionTimestamp, m.DeletionGracePeriodSeconds = &t, &p
			graceful = p > 0
		}
	} else if g := s.grace(k, cur, requested); g > 0 {
		t := apis.NewTime(now.Add(time.Duration(g) * time.Second))
		m.DeletionTimestamp, m.DeletionGracePeriodSeconds = &t, &g
		m.Generation++
		graceful = true
	}
	m.Finalizers = applyPropagation(m.Finalizers, opts.PropagationPolicy)
	if graceful {
		return next, deleteMark, nil
	}
	if len(m.Finalizers) == 0 && len(specFinalizers(k, next)) == 0 {
		return cur, deleteNow, nil
	}
	// Finalizers remain: mark the object; their owners remove them.
	if m.DeletionTimestamp == nil {
		m.Generation++
	}
	if k.GVK == namespaceGVK {
		if v, ok := fieldPath(next, "Status", "Phase"); ok && v.Kind() == reflect.String && v.CanSet() {
			v.SetString(string(core.NamespaceTerminating))
		}
	}
	if m.DeletionTimestamp == nil || m.DeletionTimestamp.After(now) {
		t := apis.NewTime(now)
		m.DeletionTimestamp = &t
	}
	zero := int64(0)
	m.DeletionGracePeriodSeconds = &zero
	return next, deleteMark, nil
}

// specFinalizers returns a namespace's spec.finalizers, which hold it like
// metadata finalizers do (the namespace controller's "kubernetes" finalizer
// stays until the namespace is empty); nil for every other kind.
func specFinalizers(k *apis.KindInfo, obj apis.Object) []string {
	if k.GVK != namespaceGVK {
		return nil
	}
	v, ok := fieldPath(obj, "Spec", "Finalizers")
	if !ok || v.Kind() != reflect.Slice || v.Type().Elem().Kind() != reflect.String {
		return nil
	}
	out := make([]string, v.Len())
	for i := range out {
		out[i] = v.Index(i).String()
	}
	return out
}

// applyPropagation sets the garbage-collection finalizers an explicit policy
// asks for; no policy keeps what the object has.
func applyPropagation(fin []string, p PropagationPolicy) []string {
	if p == "" {
		return fin
	}
	out := make([]string, 0, len(fin)+1)
	for _, f := range fin {
		if f != FinalizerOrphan && f != FinalizerForegroundDeletion {
			out = append(out, f)
		}
	}
	switch p {
	case PropagateOrphan:
		out = append(out, FinalizerOrphan)
	case PropagateForeground:
		out = append(out, FinalizerForegroundDeletion)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// DefaultGracePeriod is Kubernetes' rule for pods (core/v1 Pod): the requested
// period, else spec.terminationGracePeriodSeconds; 0 for pods not bound to a
// node or already finished. Every other kind is deleted without grace.
func DefaultGracePeriod(k *apis.KindInfo, obj apis.Object, requested *int64) int64 {
	if k.GVK.Group != "" || k.GVK.Kind != "Pod" {
		return 0
	}
	var g int64
	if requested != nil {
		g = *requested
	} else if v, ok := fieldPath(obj, "Spec", "TerminationGracePeriodSeconds"); ok {
		if p, ok := v.Interface().(*int64); ok && p != nil {
			g = *p
		}
	}
	if v, ok := fieldPath(obj, "Spec", "NodeName"); ok && v.String() == "" {
		return 0
	}
	if v, ok := fieldPath(obj, "Status", "Phase"); ok {
		if ph := v.String(); ph == "Succeeded" || ph == "Failed" {
			return 0
		}
	}
	return max(g, 0)
}
