// Package memory is Gantry's embedded store.KV: multi-version state in
// memory (every retained revision of every key, readable and watchable until
// compacted), made durable by a write-ahead log when opened on a directory.
//
// # Usage
//
// A KV for tests or a single process, lost on Close:
//
//	kv := memory.New(memory.Options{})
//	defer kv.Close()
//	rev, err := kv.Txn(ctx, store.Txn{
//		If:   []store.Compare{{Key: "/a", ModRevision: 0}}, // create only
//		Then: []store.Op{store.Put("/a", []byte("1"))},
//	})
//
// Watchers pull from the revision log at their own pace, so a slow watcher
// never blocks a writer.
package memory
