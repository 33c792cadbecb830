// Package etcd implements store.KV on an etcd cluster through
// go.etcd.io/etcd/client/v3: the backend for a highly available control
// plane, where the embedded store/memory would be a single machine.
//
// The mapping is one to one: a Range is an etcd range over the prefix's key
// range (its limit, revision and count-only options passed through, After
// moving the start key); a Txn is an etcd transaction whose compares are
// create_revision == 0 for Compare{ModRevision: 0} and mod_revision == rev
// otherwise; a Watch is an etcd watch with previous values and, on request,
// progress notifications; Compact is etcd's compaction. Revisions are etcd's,
// so a resourceVersion means the same thing to Gantry and to etcdctl. etcd's
// errors come back wrapped with what was being done and, where the contract
// has one, the store sentinel: ErrInvalid (bad input, refused before it is
// sent), ErrCompacted, ErrFutureRevision, ErrTooLarge
// (etcd's request limit, 1.5 MiB by default), ErrClosed (the client was
// closed), ErrConflict (a compare failed, naming the key).
//
// Options.Prefix lets several stores share one etcd. Revisions and
// compaction are still the cluster's, shared by every prefix.
//
// Differences from store/memory that callers may notice: a Txn that changes
// nothing (only compares, or deletes of absent keys) does not advance etcd's
// revision and returns the current one; the first write of a new etcd has
// revision 2, not 1.
//
// # Usage
//
//	client, err := clientv3.New(clientv3.Config{Endpoints: []string{"127.0.0.1:2379"}})
//	if err != nil { ... }
//	defer client.Close()
//	kv, err := etcd.New(client, etcd.Options{Prefix: "/gantry/"})
//	if err != nil { ... }
//	rev, err := kv.Txn(ctx, store.Txn{
//		If:   []store.Compare{{Key: "pods/default/web"}}, // create: must not exist
//		Then: []store.Op{store.Put("pods/default/web", data)},
//	})
//	for ev, err := range kv.Watch(ctx, "pods/", store.KVWatchOptions{FromRevision: rev}) {
//		...
//	}
//
// Package etcdtest starts an embedded etcd for tests and benchmarks.
package etcd
