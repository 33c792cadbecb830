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
//
// A durable KV, recovered from and logged to a directory:
//
//	kv, err := memory.Open("/var/lib/gantry/store", memory.Options{})
//	if err != nil {
//		return err // errors.Is(err, memory.ErrCorrupt): the file and offset are named
//	}
//	defer kv.Close()
//	rev, err := kv.Txn(ctx, store.Txn{
//		If:   []store.Compare{{Key: "/a", ModRevision: 0}}, // create only
//		Then: []store.Op{store.Put("/a", []byte("1"))},
//	})
//	for ev, err := range kv.Watch(ctx, "/", store.KVWatchOptions{FromRevision: rev}) { ... }
//
// # Durability
//
// A write is acknowledged only once its log record is on disk (fdatasync).
// Concurrent writers share one write and one sync (group commit): a writer
// that finds the log idle commits at once; writers arriving meanwhile queue
// and are committed together next. Records are protobuf messages (package
// walpb) in frames checksummed with CRC-32C; the log is split into segment
// files of Options.SegmentBytes. After Options.SnapshotBytes of log, a
// snapshot of the whole multi-version state is written in the background and
// the segments it covers are removed, which bounds recovery time. Compaction
// is logged like a write.
//
// Open replays the newest snapshot and the segments after it. A record cut
// short at the very end of the last segment is a write a crash interrupted,
// never acknowledged: it is cut off. Damage anywhere else (a checksum that
// fails, a missing segment, a gap in revisions) makes Open fail with
// ErrCorrupt naming the file and offset, rather than start without data it
// had acknowledged. A directory is locked against a second process.
//
// # Watch
//
// Watchers read the revision log at their own pace: a slow watcher never
// blocks a writer. It reads on from history, or ends with store.ErrCompacted
// when a compaction removed history it had not read yet (relist, then watch
// from the list's revision). Events of one revision arrive together, in the
// order of the Txn's ops, with Prev filled for updates and deletes.
//
// # Limits
//
// Keys are at most Options.MaxKeyBytes, a Txn's keys and values together at
// most Options.MaxRequestBytes (store.ErrTooLarge); empty keys, unknown ops
// and a key written twice in one Txn are store.ErrInvalid. Bad input changes
// nothing.
package memory
