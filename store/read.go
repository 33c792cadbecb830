package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/fields"
	"github.com/gantry-sdk/gantry/apis/labels"
)

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
	return s.list(ctx, gvk, opts, false)
}

// list is List; with shared, items are the store's shared decoded objects.
func (s *ObjectStore) list(ctx context.Context, gvk apis.GroupVersionKind, opts ListOptions, shared bool) (*ObjectList, error) {
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
	// A list decodes or copies what it returns, so it needs no copy of the
	// stored bytes when the KV can lend its own.
	rangeFn, owned := s.kv.Range, false
	if sr, ok := s.kv.(SharedRanger); ok {
		rangeFn, owned = sr.RangeShared, true
	}
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
		page, err := rangeFn(ctx, prefix, ro)
		if err != nil {
			return nil, fmt.Errorf("store: list %s at revision %d: %w", k.GroupResource(), rev, err)
		}
		rev = page.Revision
		out.Revision = rev
		if !filtered {
			// Every entry is returned: look them up in bulk.
			objs, err := s.sharedAll(k, page.KVs, owned)
			if err != nil {
				return nil, err
			}
			if !shared {
				for i, obj := range objs {
					objs[i] = apis.DeepCopy(obj)
				}
			}
			if out.Items == nil {
				if len(objs) > 0 {
					out.Items = objs
				}
			} else {
				out.Items = append(out.Items, objs...)
			}
			if opts.Limit > 0 && int64(len(out.Items)) == opts.Limit {
				if page.More {
					out.Continue = encodeContinue(rev, page.KVs[len(page.KVs)-1].Key)
					out.RemainingCount = page.Count - int64(len(page.KVs))
				}
				return out, nil
			}
			if !page.More || len(page.KVs) == 0 {
				return out, nil
			}
			after = page.KVs[len(page.KVs)-1].Key
			continue
		}
		for i := range page.KVs {
			kv := &page.KVs[i]
			if filtered && !s.mayMatchLabels(sel, kv) {
				continue
			}
			obj, err := s.shared(k, kv.Key, kv.Value, kv.ModRevision)
			if err != nil {
				return nil, err
			}
			if filtered && !sel.matches(obj) {
				continue
			}
			if !shared {
				obj = apis.DeepCopy(obj)
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
