package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/apis/field"
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
	// DecodedCacheSize caps how many decoded objects the store keeps so
	// that reads of an unchanged object skip the codec (see ListShared);
	// 0 means DefaultDecodedCacheSize, negative keeps none.
	DecodedCacheSize int
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
	decMu      sync.RWMutex
	decCache   map[string]decodedEntry // object key -> its newest decoded value (see shared)
	decMax     int
	decPending map[string]*pendingWrite // object key -> a write under way (see written.go)
	hubs       watchHubs                // shared, indexed watches (watchhub.go)
	// verifyWritten, set by tests only, is shown every written object kept
	// as decoded beside a decoding of its bytes.
	verifyWritten func(kept, decoded apis.Object, err error)
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
		decCache:   map[string]decodedEntry{},
		decPending: map[string]*pendingWrite{},
		decMax:     opts.DecodedCacheSize,
	}
	if s.decMax == 0 {
		s.decMax = DefaultDecodedCacheSize
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

// decode returns a new object of kind k from stored bytes, with
// resourceVersion rev, owned by the caller: a copy of the shared decoded
// value when there is one.
func (s *ObjectStore) decode(k *apis.KindInfo, key string, data []byte, rev int64) (apis.Object, error) {
	if rev <= 0 {
		return s.decodeNew(k, key, data, rev)
	}
	t, err := s.shared(k, key, data, rev)
	if err != nil {
		return nil, err
	}
	return apis.DeepCopy(t), nil
}

// decodeNew decodes data with the codec, into a new object.
func (s *ObjectStore) decodeNew(k *apis.KindInfo, key string, data []byte, rev int64) (apis.Object, error) {
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
