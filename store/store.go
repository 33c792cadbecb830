package store

import (
	"context"
	"iter"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/fields"
	"github.com/gantry-sdk/gantry/apis/labels"
)

// Store is the object store: typed Kubernetes semantics over any KV, in the
// same process or behind an API server. Everything above it (informers,
// controllers, scheduler, node agent) talks to this interface only.
//
// Objects passed in are not retained or modified; objects returned are new
// and belong to the caller.
type Store interface {
	Reader
	Writer
	Watcher
	// Scheme returns the kinds the store knows.
	Scheme() *apis.Scheme
}

// Reader reads objects of one kind at a time.
type Reader interface {
	// Get returns one object of kind gvk.
	Get(ctx context.Context, gvk apis.GroupVersionKind, key apis.Key, opts GetOptions) (apis.Object, error)
	// List returns the objects of kind gvk that match opts, at one revision.
	List(ctx context.Context, gvk apis.GroupVersionKind, opts ListOptions) (*ObjectList, error)
}

// Writer changes objects. The kind is the object's Go type, as registered in
// the Scheme; every write runs defaulting, validation and admission.
type Writer interface {
	// Create stores a new object; the store sets uid, resourceVersion,
	// generation 1 and creationTimestamp (and a name from generateName).
	Create(ctx context.Context, obj apis.Object, opts WriteOptions) (apis.Object, error)
	// Update replaces an object's metadata and spec; its status is kept.
	// A non-empty resourceVersion that is not the stored one fails with ErrConflict.
	Update(ctx context.Context, obj apis.Object, opts WriteOptions) (apis.Object, error)
	// UpdateStatus replaces an object's status only.
	UpdateStatus(ctx context.Context, obj apis.Object, opts WriteOptions) (apis.Object, error)
	// Delete removes an object, or marks it with a deletionTimestamp while
	// finalizers remain. It returns the object as deleted or as marked.
	Delete(ctx context.Context, gvk apis.GroupVersionKind, key apis.Key, opts DeleteOptions) (apis.Object, error)
}

// Watcher streams changes.
type Watcher interface {
	// Watch yields the changes to objects of kind gvk that match opts, in
	// revision order, after opts.Revision. It ends when ctx ends or after
	// yielding an error (ErrCompacted when opts.Revision is too old: relist).
	Watch(ctx context.Context, gvk apis.GroupVersionKind, opts WatchOptions) iter.Seq2[WatchEvent, error]
}

// GetOptions tune a Get.
type GetOptions struct {
	// Revision reads as of this revision; 0 reads the latest.
	Revision int64
}

// ListOptions select and page a List.
type ListOptions struct {
	// Namespace restricts to one namespace; "" lists all.
	Namespace string
	Labels    labels.Selector // nil matches everything
	Fields    fields.Selector // nil matches everything
	// Limit caps the number of items; Continue from the previous page then
	// reads on at the same revision.
	Limit    int64
	Continue string
	// Revision lists as of this revision; 0 lists the latest.
	Revision int64
}

// ObjectList is a page of a List.
type ObjectList struct {
	Items []apis.Object
	// Revision is the revision the list was read at: watch from it.
	Revision int64
	// Continue is set when more items remain: pass it in ListOptions.Continue.
	Continue string
	// RemainingCount is how many matching items (or, with selectors that need
	// decoding, candidate items) remain after this page.
	RemainingCount int64
}

// WatchOptions select the changes a Watch yields.
type WatchOptions struct {
	Namespace string
	Labels    labels.Selector
	Fields    fields.Selector
	// Revision: changes after this revision are delivered (a List's Revision
	// makes list-then-watch gap-free). 0 means changes from now on.
	Revision int64
	// Bookmarks asks for WatchBookmark events that advance the revision while
	// no matching object changes.
	Bookmarks bool
}

// WatchEventType is Added, Modified, Deleted or Bookmark.
type WatchEventType string

// The watch event types, named as Kubernetes names them.
const (
	WatchAdded    WatchEventType = "ADDED"
	WatchModified WatchEventType = "MODIFIED"
	WatchDeleted  WatchEventType = "DELETED"
	WatchBookmark WatchEventType = "BOOKMARK"
)

// WatchEvent is one change. For WatchDeleted, Object is the last state of the
// object (with the delete's revision); an update that makes an object stop
// matching the selectors is delivered as WatchDeleted, and one that makes it
// start matching as WatchAdded. For WatchBookmark, Object is nil.
type WatchEvent struct {
	Type     WatchEventType
	Object   apis.Object
	Revision int64
}

// WriteOptions tune a write.
type WriteOptions struct {
	// DryRun runs defaulting, validation and admission but stores nothing.
	DryRun bool
	// Fence, if set, makes the write fail with ErrFenced, atomically, unless
	// the fence object is still at its ResourceVersion (see Fence).
	Fence *Fence
}

// PropagationPolicy says what happens to an object's dependents on delete.
type PropagationPolicy string

// The propagation policies.
const (
	// PropagateBackground deletes the owner now; the garbage collector deletes dependents after.
	PropagateBackground PropagationPolicy = "Background"
	// PropagateForeground keeps the owner (with finalizer foregroundDeletion) until its blocking dependents are gone.
	PropagateForeground PropagationPolicy = "Foreground"
	// PropagateOrphan removes the owner's references from its dependents (finalizer orphan), keeping them.
	PropagateOrphan PropagationPolicy = "Orphan"
)

// The finalizers the propagation policies use.
const (
	FinalizerForegroundDeletion = "foregroundDeletion"
	FinalizerOrphan             = "orphan"
)

// DeleteOptions tune a Delete.
type DeleteOptions struct {
	// Preconditions: the delete fails with ErrConflict unless they hold.
	UID             string
	ResourceVersion string
	// PropagationPolicy defaults to Background.
	PropagationPolicy PropagationPolicy
	// GracePeriodSeconds is recorded in deletionGracePeriodSeconds for kinds
	// whose deletion is graceful (pods).
	GracePeriodSeconds *int64
	DryRun             bool
	// Fence, as in WriteOptions.
	Fence *Fence
}
