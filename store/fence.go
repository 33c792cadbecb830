package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/gantry-sdk/gantry/apis"
)

// Fence names an object whose resourceVersion a write requires to be
// unchanged: the write and the check are one KV transaction, so the write is
// rejected atomically (ErrFenced) once anyone has written the fence object
// since. Leader election uses it (reconcile/leader): a new leader writes its
// fence object before anything else, so no write fenced by a deposed leader
// can land after any write of its successor.
type Fence struct {
	GVK apis.GroupVersionKind
	Key apis.Key
	// ResourceVersion is the fence object's resourceVersion the write requires.
	ResourceVersion string
}

func (f *Fence) String() string {
	return fmt.Sprintf("%s %q at resourceVersion %s", f.GVK.Kind, f.Key, f.ResourceVersion)
}

// fenceCompare checks fence now (so that dry runs and no-op writes report a
// broken fence too) and returns the Compare that makes the write's Txn check
// it again atomically. A nil fence gives no compare.
func (s *ObjectStore) fenceCompare(ctx context.Context, wk *apis.KindInfo, wkey apis.Key, f *Fence) ([]Compare, error) {
	if f == nil {
		return nil, nil
	}
	k, err := s.scheme.Lookup(f.GVK)
	if err != nil {
		return nil, fmt.Errorf("store: fence %s: %w", f, err)
	}
	want, err := parseResourceVersion(k, f.Key.Name, f.ResourceVersion)
	if err != nil {
		return nil, fmt.Errorf("store: fence %s: %w", f, err)
	}
	kv, err := s.readKV(ctx, k, f.Key, 0)
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("%w: write to %s %q: fence %s no longer exists", ErrFenced, wk.GroupResource(), wkey, f)
	}
	if err != nil {
		return nil, err
	}
	if kv.ModRevision != want {
		return nil, fmt.Errorf("%w: write to %s %q: fence %s was written since (now at %d): leadership has passed on", ErrFenced, wk.GroupResource(), wkey, f, kv.ModRevision)
	}
	return []Compare{{Key: kv.Key, ModRevision: want}}, nil
}

// fenceFailed tells, after a Txn failed its compares, whether the fence was
// the compare that failed: it returns the ErrFenced to report, or nil when
// the write may retry (or report its own conflict).
func (s *ObjectStore) fenceFailed(ctx context.Context, wk *apis.KindInfo, wkey apis.Key, f *Fence) error {
	if f == nil {
		return nil
	}
	_, err := s.fenceCompare(ctx, wk, wkey, f)
	return err
}
