package memory_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/store"
	"github.com/gantry-sdk/gantry/store/memory"
	"github.com/gantry-sdk/gantry/store/storetest"
)

func openDurable(t *testing.T, dir string, opts memory.Options) *memory.KV {
	t.Helper()
	kv, err := memory.Open(dir, opts)
	require.NoError(t, err)
	t.Cleanup(func() { kv.Close() })
	return kv
}

func TestKVConformanceDurable(t *testing.T) {
	storetest.RunKV(t, func(t *testing.T) store.KV {
		return openDurable(t, t.TempDir(), memory.Options{ProgressInterval: 100 * time.Millisecond})
	})
}

// TestKVConformanceDurableSnapshots runs the suite with tiny segments and
// snapshots, so that rolling and snapshotting run under the same checks.
func TestKVConformanceDurableSnapshots(t *testing.T) {
	storetest.RunKV(t, func(t *testing.T) store.KV {
		return openDurable(t, t.TempDir(), memory.Options{ProgressInterval: 100 * time.Millisecond, SnapshotBytes: 8 << 10, SegmentBytes: 4 << 10})
	})
}

// dump is everything a KV shows: its current state and every event from
// revision from up to the write of key "~end", which must be the last write.
func dump(t *testing.T, kv store.KV, from int64) (store.Page, []store.Event) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	page, err := kv.Range(ctx, "", store.RangeOptions{})
	require.NoError(t, err)
	var evs []store.Event
	for ev, err := range kv.Watch(ctx, "", store.KVWatchOptions{FromRevision: from}) {
		require.NoError(t, err)
		evs = append(evs, ev)
		if ev.KV.Key == "~end" {
			break
		}
	}
	return page, evs
}

func TestReopenKeepsStateAndHistory(t *testing.T) {
	for _, opts := range []memory.Options{
		{},
		{SnapshotBytes: 300, SegmentBytes: 500},
	} {
		t.Run(fmt.Sprintf("snapshot=%d", opts.SnapshotBytes), func(t *testing.T) {
			dir := t.TempDir()
			kv, err := memory.Open(dir, opts)
			require.NoError(t, err)
			ctx := context.Background()
			for i := range 200 {
				ops := []store.Op{store.Put(fmt.Sprintf("k%02d", i%37), fmt.Appendf(nil, "v%d", i))}
				if i%5 == 0 {
					ops = append(ops, store.Delete(fmt.Sprintf("k%02d", (i+3)%37)))
				}
				_, err := kv.Txn(ctx, store.Txn{Then: ops})
				require.NoError(t, err)
				if i == 120 {
					require.NoError(t, kv.Compact(ctx, 100))
				}
			}
			_, err = kv.Txn(ctx, store.Txn{Then: []store.Op{store.Put("~end", nil)}})
			require.NoError(t, err)
			wantPage, wantEvents := dump(t, kv, 100)
			require.NoError(t, kv.Close())

			kv2 := openDurable(t, dir, opts)
			gotPage, gotEvents := dump(t, kv2, 100)
			assert.Equal(t, wantPage, gotPage)
			assert.Equal(t, wantEvents, gotEvents)
			_, err = kv2.Range(ctx, "", store.RangeOptions{Revision: 99})
			require.ErrorIs(t, err, store.ErrCompacted, "compaction survives a restart")
			if opts.SnapshotBytes > 0 {
				segs, _ := filepath.Glob(filepath.Join(dir, "*.wal"))
				snaps, _ := filepath.Glob(filepath.Join(dir, "snap-*"))
				assert.Less(t, len(segs), 10, "old segments are removed: %v", segs)
				assert.Len(t, snaps, 1)
			}
			rev, err := kv2.Txn(ctx, store.Txn{Then: []store.Op{store.Put("after", nil)}})
			require.NoError(t, err)
			assert.Equal(t, wantPage.Revision+1, rev)
		})
	}
}

func TestOpenLocked(t *testing.T) {
	dir := t.TempDir()
	openDurable(t, dir, memory.Options{})
	_, err := memory.Open(dir, memory.Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), dir)
}
