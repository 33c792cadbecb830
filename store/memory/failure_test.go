package memory

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/store"
)

// TestLogWriteFailureStopsTheStore: when the log cannot be written, the
// write is not acknowledged, and the KV refuses everything after rather than
// serve state that is not on disk.
func TestLogWriteFailureStopsTheStore(t *testing.T) {
	dir := t.TempDir()
	kv, err := Open(dir, Options{})
	require.NoError(t, err)
	ctx := context.Background()
	rev, err := kv.Txn(ctx, store.Txn{Then: []store.Op{store.Put("a", []byte("1"))}})
	require.NoError(t, err)

	require.NoError(t, kv.log.seg.f.Close()) // every later write fails
	_, err = kv.Txn(ctx, store.Txn{Then: []store.Op{store.Put("b", []byte("2"))}})
	require.Error(t, err)
	require.Contains(t, err.Error(), "write-ahead log")
	_, err = kv.Range(ctx, "", store.RangeOptions{})
	require.Error(t, err, "reads refused after a failed log write")
	_, err = kv.Txn(ctx, store.Txn{Then: []store.Op{store.Put("c", []byte("3"))}})
	require.Error(t, err)
	kv.Close()

	kv, err = Open(dir, Options{})
	require.NoError(t, err)
	defer kv.Close()
	page, err := kv.Range(ctx, "", store.RangeOptions{})
	require.NoError(t, err)
	require.Equal(t, rev, page.Revision)
	require.Len(t, page.KVs, 1)
}
