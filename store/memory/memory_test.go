package memory_test

import (
	"context"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gantry-sdk/gantry/store"
	"github.com/gantry-sdk/gantry/store/memory"
	"github.com/gantry-sdk/gantry/store/storetest"
)

func verifyNoLeaks(m *testing.M) { goleak.VerifyTestMain(m) }

func TestKVConformanceInMemory(t *testing.T) {
	storetest.RunKV(t, func(t *testing.T) store.KV {
		kv := memory.New(memory.Options{ProgressInterval: 100 * time.Millisecond})
		t.Cleanup(func() { kv.Close() })
		return kv
	})
}

func TestRevisionsStartAtOne(t *testing.T) {
	kv := memory.New(memory.Options{})
	defer kv.Close()
	ctx := context.Background()
	page, err := kv.Range(ctx, "", store.RangeOptions{})
	require.NoError(t, err)
	assert.Zero(t, page.Revision, "an empty KV is at revision 0")
	rev, err := kv.Txn(ctx, store.Txn{Then: []store.Op{store.Put("a", []byte("1"))}})
	require.NoError(t, err)
	assert.EqualValues(t, 1, rev)
	assert.EqualValues(t, 1, kv.Revision())
}

func TestClosed(t *testing.T) {
	kv := memory.New(memory.Options{})
	ctx := context.Background()
	_, err := kv.Txn(ctx, store.Txn{Then: []store.Op{store.Put("a", []byte("1"))}})
	require.NoError(t, err)
	ended := make(chan error, 1)
	go func() {
		for _, err := range kv.Watch(ctx, "", store.KVWatchOptions{FromRevision: 1}) {
			if err != nil {
				ended <- err
				return
			}
		}
		ended <- nil
	}()
	time.Sleep(10 * time.Millisecond)
	require.NoError(t, kv.Close())
	require.ErrorIs(t, <-ended, store.ErrClosed, "watchers end with ErrClosed")
	_, err = kv.Txn(ctx, store.Txn{Then: []store.Op{store.Put("a", []byte("1"))}})
	require.ErrorIs(t, err, store.ErrClosed)
	_, err = kv.Range(ctx, "", store.RangeOptions{})
	require.ErrorIs(t, err, store.ErrClosed)
	require.ErrorIs(t, kv.Compact(ctx, 1), store.ErrClosed)
	require.NoError(t, kv.Close(), "Close twice is fine")
}
