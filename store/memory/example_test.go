package memory_test

import (
	"context"
	"fmt"
	"os"

	"github.com/gantry-sdk/gantry/store"
	"github.com/gantry-sdk/gantry/store/memory"
)

func Example() {
	dir, _ := os.MkdirTemp("", "gantry-store")
	defer os.RemoveAll(dir)
	ctx := context.Background()

	kv, err := memory.Open(dir, memory.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	create := store.Txn{
		If:   []store.Compare{{Key: "/pods/web", ModRevision: 0}}, // only if absent
		Then: []store.Op{store.Put("/pods/web", []byte("v1"))},
	}
	rev, _ := kv.Txn(ctx, create)
	_, err = kv.Txn(ctx, create)
	fmt.Println("created at", rev, "- again:", err)
	kv.Txn(ctx, store.Txn{
		If:   []store.Compare{{Key: "/pods/web", ModRevision: rev}}, // compare-and-swap
		Then: []store.Op{store.Put("/pods/web", []byte("v2"))},
	})
	kv.Close()

	// Reopened, the store has its state and its history.
	kv, _ = memory.Open(dir, memory.Options{})
	defer kv.Close()
	page, _ := kv.Range(ctx, "/pods/", store.RangeOptions{})
	fmt.Printf("%s=%s version %d\n", page.KVs[0].Key, page.KVs[0].Value, page.KVs[0].Version)
	for ev, err := range kv.Watch(ctx, "/pods/", store.KVWatchOptions{FromRevision: 1}) {
		if err != nil {
			break
		}
		fmt.Println(ev.Type, ev.KV.Key, string(ev.KV.Value), "at", ev.Revision)
		if ev.Revision == page.Revision {
			break
		}
	}
	// Output:
	// created at 1 - again: memory: txn compare on "/pods/web": key exists at mod revision 1, want absent: store: conflict
	// /pods/web=v2 version 2
	// PUT /pods/web v1 at 1
	// PUT /pods/web v2 at 2
}
