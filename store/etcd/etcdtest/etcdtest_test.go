package etcdtest_test

import (
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/gantry-sdk/gantry/store/etcd/etcdtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestStartServesAndCleansUp(t *testing.T) {
	var dir string
	t.Run("server", func(t *testing.T) {
		srv := etcdtest.Start(t, etcdtest.Options{})
		dir = srv.Dir
		ctx := t.Context()
		put, err := srv.Client.Put(ctx, "k", "v")
		require.NoError(t, err)
		got, err := srv.Client.Get(ctx, "k")
		require.NoError(t, err)
		require.Len(t, got.Kvs, 1)
		require.Equal(t, "v", string(got.Kvs[0].Value))
		require.Equal(t, put.Header.Revision, got.Kvs[0].ModRevision)

		other, err := srv.NewClient()
		require.NoError(t, err)
		defer other.Close()
		got, err = other.Get(context.Background(), "k")
		require.NoError(t, err)
		require.Len(t, got.Kvs, 1)
	})
	_, err := os.Stat(dir)
	require.True(t, os.IsNotExist(err), "directory %s left behind: %v", dir, err)
}

func TestServersAreIndependent(t *testing.T) {
	a := etcdtest.Start(t, etcdtest.Options{NoFsync: true})
	b := etcdtest.Start(t, etcdtest.Options{NoFsync: true})
	require.NotEqual(t, a.Endpoint, b.Endpoint)
	_, err := a.Client.Put(t.Context(), "only-in-a", "1")
	require.NoError(t, err)
	got, err := b.Client.Get(t.Context(), "only-in-a")
	require.NoError(t, err)
	require.Empty(t, got.Kvs)
}
