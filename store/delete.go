package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"time"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/apis/field"
)

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
		fence, err := s.fenceCompare(ctx, k, key, opts.Fence)
		if err != nil {
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
			txn = Txn{If: append([]Compare{{Key: kvKey, ModRevision: curKV.ModRevision}}, fence...), Then: []Op{Delete(kvKey)}}
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
			txn = Txn{If: append([]Compare{{Key: kvKey, ModRevision: curKV.ModRevision}}, fence...), Then: []Op{Put(kvKey, data)}}
		}
		rev, err := s.kv.Txn(ctx, txn)
		if errors.Is(err, ErrConflict) {
			if ferr := s.fenceFailed(ctx, k, key, opts.Fence); ferr != nil {
				return nil, ferr
			}
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
