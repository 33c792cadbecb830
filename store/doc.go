// Package store keeps Gantry's objects: a revisioned key-value backend
// contract (KV) and, over any KV, the object store (Store) with Kubernetes'
// semantics, plus a typed view of it for one Go type.
//
// # Usage
//
// KV vs Store. A KV is etcd-shaped: ordered string keys, byte values, one
// global revision advanced by every write, ranges at a past revision, watches
// from a retained revision, compaction, and transactions guarded by compares
// on mod revisions. store/memory (embedded, optionally durable) and
// store/etcd implement it; nothing above the store talks to a KV directly.
//
// A Store holds objects: any kind registered in an apis.Scheme. New builds
// one over a KV:
//
//	kv := memory.New(memory.Options{})
//	s, err := store.New(kv, scheme, store.Options{})
//
// The object store sets uid and creationTimestamp; resourceVersion is the
// KV's mod revision; generation starts at 1 and is bumped by Update only when
// something other than metadata and status changes. Update keeps the stored
// status and UpdateStatus keeps everything but the status. A stale
// resourceVersion fails with ErrConflict; an empty one makes the update
// unconditional (still atomic: the store compares on the revision it read
// and retries). Namespaced objects need an existing namespace that is not
// being deleted; New creates default, kube-system, kube-public and
// kube-node-lease (the first three cannot be deleted). A namespace's
// spec.finalizers hold it like metadata finalizers: deleting it marks it
// Terminating until they are removed (here by a plain Update; Kubernetes uses
// a finalize subresource). Delete of an object with finalizers (or a graceful
// deletion, see Options.GracePeriod) marks it with a deletionTimestamp; the
// Update that removes its last finalizer deletes it. Every write runs the
// kind's defaulting, Options.Mutating admission, validation and
// Options.Validating admission, and honours DryRun; encoded objects above
// Options.MaxObjectSize (1.5 MiB) fail with ErrTooLarge.
//
// Fencing. WriteOptions.Fence and DeleteOptions.Fence name an object and the
// resourceVersion it must still have: the store adds a compare on that
// object's mod revision to the write's own transaction, so the write and the
// check are atomic on every KV (memory and etcd alike). Once the fence object
// has been written since, the write fails with ErrFenced and changes nothing
// (a dry run fails the same way). Leader election (reconcile/leader) hands
// its leader a fence that its successor invalidates before doing anything:
//
//	_, err := s.Update(ctx, obj, store.WriteOptions{Fence: leader.FenceFrom(ctx)})
//	if errors.Is(err, store.ErrFenced) { return } // deposed: stop, do not retry
//
// Keys are <KeyPrefix>/<group>/<resource>/<namespace>/<name> ("core" for the
// core group, no namespace segment for cluster-scoped kinds). Values are the
// objects' JSON (Options.Codec), without resourceVersion.
//
// Lists read at one revision: a Limit yields pages whose Continue token
// carries that revision and the last key, so later pages see the same
// snapshot (ErrCompacted once it is compacted away: relist). Watch from a
// List's Revision is gap-free; an update that makes an object leave a
// watch's selectors arrives as DELETED, one that makes it enter as ADDED.
//
// Shared watches. Watches of one kind and scope share one KV watch, which
// decodes each change once and hands it only to the watches it may concern:
// a field selector requiring spec.nodeName (pods) or metadata.name (any
// kind) to equal a value is indexed, so a pod write reaches its node's
// watch, not every node's. A watch reads the KV's history on its own until
// it has caught up (any start revision, ErrCompacted as before), and again
// if it falls DefaultWatchBuffer events behind: a slow consumer never holds
// up the others and loses nothing.
//
// Decoded objects. The store decodes each stored value (key, mod revision)
// once and keeps the newest decoded state of up to Options.DecodedCacheSize
// keys (about a million by default), as the kube-apiserver's watch cache
// does: a write primes it, and Get, List and Watch of an unchanged object
// then cost a deep copy (apis.DeepCopy) instead of a decode. Every object
// returned still belongs to the caller. ListShared (SharedLister) skips even
// the copy, for read-only caches such as informers: its items are the
// store's own and must never be modified. Over a KV that is a SharedRanger
// (store/memory), lists read the KV's own bytes rather than copies and
// match them to decoded objects by pointer. With the JSON codec a write whose
// object is already in decoded form (whole-second local times, no empty
// slices that omitempty drops, valid UTF-8...: checked per type, ~1 us) keeps
// that object as the decoded value instead of decoding what it just wrote,
// for its result, the write's watch event and later reads alike.
//
// Binding. ObjectStore is a PodBinder: BindPod sets a pod's spec.nodeName
// and PodScheduled=True condition in one write compared on the revision it
// read, as the pods/binding subresource does (validating admission sees
// Subresource "binding"). Schedulers type-assert a Store to PodBinder and
// fall back to Update then UpdateStatus.
//
// Sentinel errors: test with errors.Is. ErrNotFound, ErrAlreadyExists,
// ErrConflict (read again and retry), ErrFenced (deposed leader: stop; not an
// ErrConflict, and never retried inside the store), ErrCompacted (relist), ErrInvalid (its
// *InvalidError carries field errors: FieldErrors(err)), ErrTooLarge,
// ErrDenied (admission), ErrClosed, and apis.ErrUnknownKind for a kind the
// scheme does not have. Every error names the resource and key.
//
// Typed view. For returns a Typed[T] with the same operations on T:
//
//	pods := store.For[*core.Pod](s)
//	pod, err := pods.Get(ctx, apis.Key{Namespace: "default", Name: "web"}, store.GetOptions{})
//	for ev, err := range pods.Watch(ctx, store.WatchOptions{Revision: list.Revision}) { ... }
//
// If T is not registered, every call fails with apis.ErrUnknownKind.
//
// store/storetest holds the conformance suites (RunStore for a Store) that
// every implementation runs.
package store
