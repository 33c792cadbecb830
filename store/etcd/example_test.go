package etcd_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/gantry-sdk/gantry/store"
	"github.com/gantry-sdk/gantry/store/etcd"
	"github.com/gantry-sdk/gantry/store/etcd/etcdtest"
)

func ExampleNew() {
	// A real etcd in this process; in production, clientv3.New on the cluster.
	srv, err := etcdtest.StartServer(etcdtest.Options{NoFsync: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	kv, err := etcd.New(srv.Client, etcd.Options{Prefix: "/gantry/"})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()

	create := store.Txn{
		If:   []store.Compare{{Key: "pods/default/web"}}, // must not exist yet
		Then: []store.Op{store.Put("pods/default/web", []byte("v1"))},
	}
	rev, err := kv.Txn(ctx, create)
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = kv.Txn(ctx, create)
	fmt.Println("second create conflicts:", errors.Is(err, store.ErrConflict))

	page, err := kv.Range(ctx, "pods/", store.RangeOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range page.KVs {
		fmt.Printf("%s = %s (written at the create's revision: %v)\n", e.Key, e.Value, e.ModRevision == rev)
	}

	for ev, err := range kv.Watch(ctx, "pods/", store.KVWatchOptions{FromRevision: rev}) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println("watch from that revision:", ev.Type, ev.KV.Key)
		break
	}
	// Output:
	// second create conflicts: true
	// pods/default/web = v1 (written at the create's revision: true)
	// watch from that revision: PUT pods/default/web
}
