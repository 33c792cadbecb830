package memory

import "github.com/gantry-sdk/gantry/store"

// request is a write handed to the committer of a durable KV.
type request struct {
	txn     store.Txn
	compact int64 // a compaction instead of a Txn when > 0
}
