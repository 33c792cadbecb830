package etcd_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/store"
	"github.com/gantry-sdk/gantry/store/etcd"
	"github.com/gantry-sdk/gantry/store/etcd/etcdtest"
	"github.com/gantry-sdk/gantry/store/storetest"
)

// TestKVConformance runs the store.KV conformance suite against one real
// etcd, each subtest on its own prefix.
func TestKVConformance(t *testing.T) {
	srv := etcdtest.Start(t, etcdtest.Options{NoFsync: true})
	storetest.RunKV(t, func(t *testing.T) store.KV {
		kv, err := etcd.New(srv.Client, etcd.Options{Prefix: "/conformance"})
		require.NoError(t, err)
		return kv
	})
}
