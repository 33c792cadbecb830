package memory_test

import (
	"context"
	"fmt"
	"iter"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/store"
	"github.com/gantry-sdk/gantry/store/memory"
)

// churn runs writers that put and delete random keys of prefix in
// multi-op Txns until n revisions exist, and returns the newest revision.
func churn(t *testing.T, kv store.KV, prefix string, writers, n int) int64 {
	t.Helper()
	ctx := context.Background()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var count int
	var last int64
	for w := range writers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for {
				mu.Lock()
				if count >= n {
					mu.Unlock()
					return
				}
				count++
				mu.Unlock()
				var ops []store.Op
				seen := map[string]bool{}
				for range 1 + rng.IntN(3) {
					key := fmt.Sprintf("%s%02d", prefix, rng.IntN(40))
					if seen[key] {
						continue
					}
					seen[key] = true
					if rng.IntN(4) == 0 {
						ops = append(ops, store.Delete(key))
					} else {
						ops = append(ops, store.Put(key, fmt.Appendf(nil, "%d-%d", w, rng.Int())))
					}
				}
				// A put on a key of its own makes every Txn a change.
				ops = append(ops, store.Put(fmt.Sprintf("%sw%d", prefix, w), nil))
				rev, err := kv.Txn(ctx, store.Txn{Then: ops})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				last = max(last, rev)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return last
}

// TestWatchDropResumeUnderChurn: while writers churn, a watcher reads a
// random number of events, drops the watch, and resumes from the revision
// after the last event it saw. It must see exactly what an uninterrupted
// watch sees: every change once, in order, with Prev matching the key's
// previous event. Replaying its events rebuilds the final state.
func TestWatchDropResumeUnderChurn(t *testing.T) {
	for _, tc := range []struct {
		name string
		open func(t *testing.T) store.KV
		revs int
	}{
		{"InMemory", func(t *testing.T) store.KV {
			kv := memory.New(memory.Options{})
			t.Cleanup(func() { kv.Close() })
			return kv
		}, 5000},
		{"Durable", func(t *testing.T) store.KV {
			return openDurable(t, t.TempDir(), memory.Options{SnapshotBytes: 32 << 10})
		}, 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kv := tc.open(t)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			const p = "/churn/"
			start, err := kv.Txn(ctx, store.Txn{Then: []store.Op{store.Put(p+"start", nil)}})
			require.NoError(t, err)

			var got []store.Event
			done := make(chan int64, 1)
			go func() { done <- churn(t, kv, p, 4, tc.revs) }()
			rng := rand.New(rand.NewPCG(1, 2))
			from, last := start, int64(-1)
			resumes := 0
			for {
				select {
				case l := <-done:
					last = l
				default:
				}
				if last > 0 && from > last {
					break
				}
				want := 1 + rng.IntN(200)
				wctx, wcancel := context.WithTimeout(ctx, 200*time.Millisecond)
				n := 0
				for ev, err := range kv.Watch(wctx, p, store.KVWatchOptions{FromRevision: from}) {
					require.NoError(t, err)
					if n >= want && ev.Revision != got[len(got)-1].Revision {
						// Drop between revisions, at the first event of the
						// next one, and resume from it.
						break
					}
					got = append(got, ev)
					n++
				}
				wcancel()
				if len(got) > 0 {
					from = got[len(got)-1].Revision + 1
				}
				resumes++
				time.Sleep(time.Duration(rng.IntN(2000)) * time.Microsecond)
			}
			t.Logf("%d events over %d watches", len(got), resumes)

			// The same history, uninterrupted.
			var want []store.Event
			next, stop := iter.Pull2(kv.Watch(ctx, p, store.KVWatchOptions{FromRevision: start}))
			for len(want) < len(got) {
				ev, err, ok := next()
				require.True(t, ok)
				require.NoError(t, err)
				want = append(want, ev)
			}
			stop()
			require.Equal(t, len(want), len(got))
			for i := range want {
				require.Equal(t, want[i], got[i], "event %d", i)
			}

			// Ordered, gap-free, Prev consistent; replay rebuilds the state.
			state := map[string]store.KeyValue{}
			for i, ev := range got {
				if i > 0 {
					require.True(t, ev.Revision == got[i-1].Revision || ev.Revision == got[i-1].Revision+1, "gap before event %d", i)
				}
				prev, existed := state[ev.KV.Key]
				if existed {
					require.NotNil(t, ev.Prev, "event %d: update or delete without Prev", i)
					require.Equal(t, prev, *ev.Prev, "event %d", i)
				} else if ev.Type == store.EventPut && i > 0 {
					// Keys created before start have a Prev we did not see.
					if ev.Prev == nil {
						require.Equal(t, ev.Revision, ev.KV.CreateRevision)
					}
				}
				if ev.Type == store.EventDelete {
					delete(state, ev.KV.Key)
				} else {
					state[ev.KV.Key] = ev.KV
				}
			}
			require.Equal(t, last, got[len(got)-1].Revision)
			page, err := kv.Range(ctx, p, store.RangeOptions{})
			require.NoError(t, err)
			require.Len(t, page.KVs, len(state))
			for _, kv := range page.KVs {
				assert.Equal(t, state[kv.Key], kv)
			}

			// Compacted history: ErrCompacted below, events from it on.
			mid := start + (last-start)/2
			require.NoError(t, kv.Compact(ctx, mid))
			for _, err := range kv.Watch(ctx, p, store.KVWatchOptions{FromRevision: mid - 1}) {
				require.ErrorIs(t, err, store.ErrCompacted)
				break
			}
			for ev, err := range kv.Watch(ctx, p, store.KVWatchOptions{FromRevision: mid}) {
				require.NoError(t, err)
				require.Equal(t, mid, ev.Revision)
				break
			}
		})
	}
}

// TestWatchCompactedWhileBehind: a watcher far behind whose next revision is
// compacted away ends with ErrCompacted (relist), after the events it had.
func TestWatchCompactedWhileBehind(t *testing.T) {
	kv := memory.New(memory.Options{})
	defer kv.Close()
	ctx := context.Background()
	first, err := kv.Txn(ctx, store.Txn{Then: []store.Op{store.Put("k", []byte("0"))}})
	require.NoError(t, err)
	next, stop := iter.Pull2(kv.Watch(ctx, "", store.KVWatchOptions{FromRevision: first}))
	defer stop()
	ev, err, ok := next()
	require.True(t, ok)
	require.NoError(t, err)
	require.Equal(t, first, ev.Revision)
	var rev int64
	for i := range 3000 {
		rev, err = kv.Txn(ctx, store.Txn{Then: []store.Op{store.Put("k", fmt.Appendf(nil, "%d", i))}})
		require.NoError(t, err)
	}
	require.NoError(t, kv.Compact(ctx, rev))
	want := first + 1
	for {
		ev, err, ok := next()
		require.True(t, ok)
		if err != nil {
			require.ErrorIs(t, err, store.ErrCompacted)
			break
		}
		require.Equal(t, want, ev.Revision, "in order up to the compaction")
		want++
	}
}
