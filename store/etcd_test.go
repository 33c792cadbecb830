package store_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/store"
	"github.com/gantry-sdk/gantry/store/etcd"
	"github.com/gantry-sdk/gantry/store/etcd/etcdtest"
	"github.com/gantry-sdk/gantry/store/storetest"
)

// TestStoreConformanceEtcd runs the Store suite over the etcd KV on a real,
// embedded etcd: one server, each subtest on a fresh key prefix.
func TestStoreConformanceEtcd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an embedded etcd")
	}
	srv := etcdtest.Start(t, etcdtest.Options{NoFsync: true})
	n := 0
	storetest.RunStore(t, func(t *testing.T) store.Store {
		n++
		kv, err := etcd.New(srv.Client, etcd.Options{Prefix: fmt.Sprintf("/storetest-%d", n)})
		require.NoError(t, err)
		s, err := store.New(kv, storetest.NewScheme(), store.Options{})
		require.NoError(t, err)
		return s
	})
}
