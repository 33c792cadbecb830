package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/field"
)

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
	m.CreationTimestamp = apis.NewTime(s.now().Truncate(time.Second).Local()) // as decoding gives it back
	m.Generation = 1
	m.DeletionTimestamp = nil
	m.DeletionGracePeriodSeconds = nil
	m.ResourceVersion = ""
	errs := k.Validate(obj) // metadata included: apis.KindInfo.Validate
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
	kept := !opts.DryRun && s.inDecodedForm(obj)
	kvKey := s.objectKey(k, key)
	for attempt := 0; attempt < maxAttempts; attempt++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		fence, err := s.fenceCompare(ctx, k, key, opts.Fence)
		if err != nil {
			return nil, err
		}
		txn := Txn{If: append([]Compare{{Key: kvKey}}, fence...), Then: []Op{Put(kvKey, data)}}
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
		var expected *pendingWrite
		if kept {
			expected = s.expectWrite(kvKey, data, obj)
		}
		rev, err := s.kv.Txn(ctx, txn)
		if err != nil && expected != nil {
			s.unexpectWrite(kvKey, expected)
			if expected.published {
				// A watch took obj for an identical write: retry with a copy.
				obj, expected = apis.DeepCopy(obj), nil
			}
		}
		if errors.Is(err, ErrConflict) {
			if ferr := s.fenceFailed(ctx, k, key, opts.Fence); ferr != nil {
				return nil, ferr
			}
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
		return s.written(k, kvKey, data, rev, expected)
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
		fence, err := s.fenceCompare(ctx, k, key, opts.Fence)
		if err != nil {
			return nil, err
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
		var expected *pendingWrite
		if !deleteNow && s.inDecodedForm(next) {
			expected = s.expectWrite(kvKey, data, next)
		}
		rev, err := s.kv.Txn(ctx, Txn{If: append([]Compare{{Key: kvKey, ModRevision: curKV.ModRevision}}, fence...), Then: []Op{op}})
		if err != nil && expected != nil {
			s.unexpectWrite(kvKey, expected)
		}
		if errors.Is(err, ErrConflict) {
			if ferr := s.fenceFailed(ctx, k, key, opts.Fence); ferr != nil {
				return nil, ferr
			}
			if wantRV != 0 {
				return nil, conflictf(k, key, "the object has been modified since resourceVersion %d; read it again and retry", wantRV)
			}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("store: update %s %q: %w", k.GroupResource(), key, err)
		}
		return s.written(k, kvKey, data, rev, expected)
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
	var errs field.ErrorList // metadata and the rest: k.ValidateUpdate below
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
