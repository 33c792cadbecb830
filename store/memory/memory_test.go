package memory_test

import (
	"context"
	"strings"

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

func TestLimits(t *testing.T) {
	for _, tc := range []struct {
		name string
		open func(t *testing.T) *memory.KV
	}{
		{"InMemory", func(t *testing.T) *memory.KV {
			kv := memory.New(memory.Options{})
			t.Cleanup(func() { kv.Close() })
			return kv
		}},
		{"Durable", func(t *testing.T) *memory.KV { return openDurable(t, t.TempDir(), memory.Options{}) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kv := tc.open(t)
			ctx := context.Background()
			rev, err := kv.Txn(ctx, store.Txn{Then: []store.Op{store.Put("a", []byte("1"))}})
			require.NoError(t, err)
			big := strings.Repeat("k", memory.DefaultMaxKeyBytes+1)
			for _, bad := range []struct {
				txn  store.Txn
				want error
				says string
			}{
				{store.Txn{Then: []store.Op{store.Put(big, nil)}}, store.ErrTooLarge, "key of 4097 bytes exceeds 4096"},
				{store.Txn{Then: []store.Op{store.Put("b", make([]byte, memory.DefaultMaxRequestBytes))}}, store.ErrTooLarge, "exceeds"},
				{store.Txn{Then: []store.Op{store.Put("b", nil), store.Put("", nil)}}, store.ErrInvalid, "txn op 1: empty key"},
				{store.Txn{If: []store.Compare{{Key: ""}}, Then: []store.Op{store.Put("b", nil)}}, store.ErrInvalid, "txn compare 0: empty key"},
				{store.Txn{If: []store.Compare{{Key: "a", ModRevision: -1}}}, store.ErrInvalid, "negative mod revision"},
			} {
				_, err := kv.Txn(ctx, bad.txn)
				require.ErrorIs(t, err, bad.want)
				assert.Contains(t, err.Error(), bad.says)
			}
			_, err = kv.Range(ctx, "", store.RangeOptions{Limit: -1})
			require.ErrorIs(t, err, store.ErrInvalid)
			require.ErrorIs(t, kv.Compact(ctx, 0), store.ErrInvalid)
			page, err := kv.Range(ctx, "", store.RangeOptions{})
			require.NoError(t, err)
			assert.Equal(t, rev, page.Revision, "bad input changes nothing")
			assert.Len(t, page.KVs, 1)
		})
	}
}

// RangeShared reads what Range reads, paged the same way, but lends the
// KV's own bytes: two reads share them, while Range hands out copies.
func TestRangeSharedLendsValues(t *testing.T) {
	kv := memory.New(memory.Options{})
	defer kv.Close()
	ctx := context.Background()
	for _, k := range []string{"/p/a", "/p/b", "/p/c", "/q/a"} {
		_, err := kv.Txn(ctx, store.Txn{Then: []store.Op{store.Put(k, []byte("value of "+k))}})
		require.NoError(t, err)
	}
	_, err := kv.Txn(ctx, store.Txn{Then: []store.Op{store.Put("/p/b", []byte("newer"))}})
	require.NoError(t, err)
	for _, opts := range []store.RangeOptions{{}, {Revision: 3}, {Limit: 2}, {After: "/p/a"}, {CountOnly: true}} {
		copied, err := kv.Range(ctx, "/p/", opts)
		require.NoError(t, err)
		lent, err := kv.RangeShared(ctx, "/p/", opts)
		require.NoError(t, err)
		assert.Equal(t, copied, lent, "options %+v", opts)
	}
	lent1, err := kv.RangeShared(ctx, "/p/", store.RangeOptions{})
	require.NoError(t, err)
	lent2, err := kv.RangeShared(ctx, "/p/", store.RangeOptions{})
	require.NoError(t, err)
	copied, err := kv.Range(ctx, "/p/", store.RangeOptions{})
	require.NoError(t, err)
	require.Len(t, lent1.KVs, 3)
	for i := range lent1.KVs {
		assert.Same(t, &lent1.KVs[i].Value[0], &lent2.KVs[i].Value[0], "the KV's own bytes")
		assert.NotSame(t, &lent1.KVs[i].Value[0], &copied.KVs[i].Value[0], "Range copies")
	}
	_, err = kv.RangeShared(ctx, "/p/", store.RangeOptions{Revision: 99})
	assert.ErrorIs(t, err, store.ErrFutureRevision)
}
