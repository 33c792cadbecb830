package storetest

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/store"
)

// ProgressWait is how long RunKV waits for an EventProgress from an idle
// watcher with ProgressNotify: a KV under test must be opened with a progress
// interval well below it (memory.Options.ProgressInterval, etcd's
// --experimental-watch-progress-notify-interval).
const ProgressWait = 10 * time.Second

// RunKV runs the conformance suite of the store.KV contract against the KVs
// that open returns, one per subtest (open should register its own cleanup).
//
// Subtests put every key under a prefix of their own and compare revisions
// only relative to ones they observed, so open may also hand out one shared
// KV. They run one after another: some compact.
func RunKV(t *testing.T, open func(t *testing.T) store.KV) {
	t.Helper()
	for _, tc := range kvTests {
		t.Run(tc.name, func(t *testing.T) {
			kv := open(t)
			tc.run(t, kv, "/"+t.Name()+"/")
		})
	}
}

var kvTests = []struct {
	name string
	run  func(t *testing.T, kv store.KV, p string)
}{
	{"Empty", testEmpty},
	{"PutGet", testPutGet},
	{"Versions", testVersions},
	{"RangeAtRevision", testRangeAtRevision},
	{"RangeFutureRevision", testRangeFutureRevision},
	{"RangePrefix", testRangePrefix},
	{"RangePaginate", testRangePaginate},
	{"RangeCountOnly", testRangeCountOnly},
	{"RangeValuesOwned", testRangeValuesOwned},
	{"TxnCreateIfAbsent", testTxnCreateIfAbsent},
	{"TxnCompareModRevision", testTxnCompareModRevision},
	{"TxnConflictWritesNothing", testTxnConflictWritesNothing},
	{"TxnAtomicMultiKey", testTxnAtomicMultiKey},
	{"TxnDeleteMissing", testTxnDeleteMissing},
	{"TxnDeleteRecreate", testTxnDeleteRecreate},
	{"TxnConcurrentIncrements", testTxnConcurrentIncrements},
	{"BadInput", testBadInput},
	{"WatchFromNow", testWatchFromNow},
	{"WatchFromRevision", testWatchFromRevision},
	{"WatchPrev", testWatchPrev},
	{"WatchPrefixFilter", testWatchPrefixFilter},
	{"WatchSameRevision", testWatchSameRevision},
	{"WatchResume", testWatchResume},
	{"WatchSlowConsumer", testWatchSlowConsumer},
	{"WatchContextEnds", testWatchContextEnds},
	{"WatchProgress", testWatchProgress},
	{"WatchFutureRevision", testWatchFutureRevision},
	{"Compact", testCompact},
	{"CompactFuture", testCompactFuture},
	{"CompactWatch", testCompactWatch},
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func put(t *testing.T, kv store.KV, key, value string) int64 {
	t.Helper()
	rev, err := kv.Txn(ctxT(t), store.Txn{Then: []store.Op{store.Put(key, []byte(value))}})
	require.NoError(t, err, "put %q", key)
	return rev
}

func del(t *testing.T, kv store.KV, key string) int64 {
	t.Helper()
	rev, err := kv.Txn(ctxT(t), store.Txn{Then: []store.Op{store.Delete(key)}})
	require.NoError(t, err, "delete %q", key)
	return rev
}

func get(t *testing.T, kv store.KV, key string, rev int64) *store.KeyValue {
	t.Helper()
	page, err := kv.Range(ctxT(t), key, store.RangeOptions{Revision: rev})
	require.NoError(t, err)
	for i := range page.KVs {
		if page.KVs[i].Key == key {
			return &page.KVs[i]
		}
	}
	return nil
}

func keys(kvs []store.KeyValue) []string {
	out := make([]string, len(kvs))
	for i, kv := range kvs {
		out[i] = kv.Key
	}
	return out
}

// collect reads n events (or an error) from a watch, failing after a timeout.
func collect(t *testing.T, ctx context.Context, kv store.KV, prefix string, opts store.KVWatchOptions, n int) ([]store.Event, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	var evs []store.Event
	for ev, err := range kv.Watch(ctx, prefix, opts) {
		if err != nil {
			return evs, err
		}
		if ev.Type == store.EventProgress {
			continue
		}
		evs = append(evs, ev)
		if len(evs) == n {
			return evs, nil
		}
	}
	return evs, fmt.Errorf("watch ended after %d of %d events: %w", len(evs), n, ctx.Err())
}

func testEmpty(t *testing.T, kv store.KV, p string) {
	page, err := kv.Range(ctxT(t), p, store.RangeOptions{})
	require.NoError(t, err)
	assert.Empty(t, page.KVs)
	assert.Zero(t, page.Count)
	assert.False(t, page.More)
	assert.GreaterOrEqual(t, page.Revision, int64(0))
}

func testPutGet(t *testing.T, kv store.KV, p string) {
	r1 := put(t, kv, p+"a", "1")
	assert.Positive(t, r1)
	got := get(t, kv, p+"a", 0)
	require.NotNil(t, got)
	assert.Equal(t, store.KeyValue{Key: p + "a", Value: []byte("1"), CreateRevision: r1, ModRevision: r1, Version: 1}, *got)

	r2 := put(t, kv, p+"b", "2")
	assert.Equal(t, r1+1, r2, "each write advances the revision by one")
	page, err := kv.Range(ctxT(t), p, store.RangeOptions{})
	require.NoError(t, err)
	assert.Equal(t, []string{p + "a", p + "b"}, keys(page.KVs))
	assert.GreaterOrEqual(t, page.Revision, r2)
	assert.EqualValues(t, 2, page.Count)
	assert.Nil(t, get(t, kv, p+"missing", 0))
}

func testVersions(t *testing.T, kv store.KV, p string) {
	k := p + "k"
	r1 := put(t, kv, k, "v1")
	r2 := put(t, kv, k, "v2")
	got := get(t, kv, k, 0)
	require.NotNil(t, got)
	assert.Equal(t, store.KeyValue{Key: k, Value: []byte("v2"), CreateRevision: r1, ModRevision: r2, Version: 2}, *got)

	r3 := del(t, kv, k)
	assert.Equal(t, r2+1, r3)
	assert.Nil(t, get(t, kv, k, 0))
	r4 := put(t, kv, k, "v3")
	got = get(t, kv, k, 0)
	require.NotNil(t, got)
	assert.Equal(t, store.KeyValue{Key: k, Value: []byte("v3"), CreateRevision: r4, ModRevision: r4, Version: 1}, *got,
		"a recreated key starts a new life")
}

func testRangeAtRevision(t *testing.T, kv store.KV, p string) {
	r1 := put(t, kv, p+"a", "1")
	r2 := put(t, kv, p+"a", "2")
	r3 := put(t, kv, p+"b", "3")
	r4 := del(t, kv, p+"a")

	for _, tc := range []struct {
		rev  int64
		want map[string]string
	}{
		{r1, map[string]string{"a": "1"}},
		{r2, map[string]string{"a": "2"}},
		{r3, map[string]string{"a": "2", "b": "3"}},
		{r4, map[string]string{"b": "3"}},
	} {
		page, err := kv.Range(ctxT(t), p, store.RangeOptions{Revision: tc.rev})
		require.NoError(t, err)
		assert.Equal(t, tc.rev, page.Revision)
		got := map[string]string{}
		for _, kv := range page.KVs {
			got[strings.TrimPrefix(kv.Key, p)] = string(kv.Value)
		}
		assert.Equal(t, tc.want, got, "at revision %d", tc.rev)
	}
}

func testRangeFutureRevision(t *testing.T, kv store.KV, p string) {
	r := put(t, kv, p+"a", "1")
	_, err := kv.Range(ctxT(t), p, store.RangeOptions{Revision: r + 1000})
	require.ErrorIs(t, err, store.ErrFutureRevision)
}

func testRangePrefix(t *testing.T, kv store.KV, p string) {
	for _, k := range []string{"a", "ab", "abc", "b", "a/x", "A"} {
		put(t, kv, p+k, k)
	}
	page, err := kv.Range(ctxT(t), p+"a", store.RangeOptions{})
	require.NoError(t, err)
	assert.Equal(t, []string{p + "a", p + "a/x", p + "ab", p + "abc"}, keys(page.KVs))
	assert.EqualValues(t, 4, page.Count)

	page, err = kv.Range(ctxT(t), p+"ab", store.RangeOptions{})
	require.NoError(t, err)
	assert.Equal(t, []string{p + "ab", p + "abc"}, keys(page.KVs))

	page, err = kv.Range(ctxT(t), p+"z", store.RangeOptions{})
	require.NoError(t, err)
	assert.Empty(t, page.KVs)
}

func testRangePaginate(t *testing.T, kv store.KV, p string) {
	const n = 25
	var want []string
	for i := range n {
		k := fmt.Sprintf("%sk%03d", p, i)
		want = append(want, k)
		put(t, kv, k, "v")
	}
	first, err := kv.Range(ctxT(t), p, store.RangeOptions{Limit: 10})
	require.NoError(t, err)
	assert.Len(t, first.KVs, 10)
	assert.True(t, first.More)
	assert.EqualValues(t, n, first.Count)

	// Writes after the first page must not show in later pages read at its revision.
	put(t, kv, p+"k005x", "late")
	del(t, kv, p+"k020")

	var got []string
	got = append(got, keys(first.KVs)...)
	after, pages := first.KVs[len(first.KVs)-1].Key, 1
	for more := first.More; more; pages++ {
		page, err := kv.Range(ctxT(t), p, store.RangeOptions{Revision: first.Revision, Limit: 10, After: after})
		require.NoError(t, err)
		require.Equal(t, first.Revision, page.Revision)
		assert.EqualValues(t, n-len(got), page.Count, "count after %q", after)
		got = append(got, keys(page.KVs)...)
		more = page.More
		if len(page.KVs) > 0 {
			after = page.KVs[len(page.KVs)-1].Key
		}
		require.Less(t, pages, 10)
	}
	assert.Equal(t, want, got)

	last, err := kv.Range(ctxT(t), p, store.RangeOptions{Limit: n + 10})
	require.NoError(t, err)
	assert.False(t, last.More)
	assert.Len(t, last.KVs, n) // +1 late, -1 deleted

	exact, err := kv.Range(ctxT(t), p, store.RangeOptions{Revision: first.Revision, Limit: n})
	require.NoError(t, err)
	assert.False(t, exact.More, "a page that ends at the last key has no more")
}

func testRangeCountOnly(t *testing.T, kv store.KV, p string) {
	for i := range 7 {
		put(t, kv, fmt.Sprintf("%s%d", p, i), "v")
	}
	page, err := kv.Range(ctxT(t), p, store.RangeOptions{CountOnly: true})
	require.NoError(t, err)
	assert.Empty(t, page.KVs)
	assert.EqualValues(t, 7, page.Count)

	page, err = kv.Range(ctxT(t), p, store.RangeOptions{CountOnly: true, After: p + "3"})
	require.NoError(t, err)
	assert.EqualValues(t, 3, page.Count)
}

func testRangeValuesOwned(t *testing.T, kv store.KV, p string) {
	value := []byte("original")
	_, err := kv.Txn(ctxT(t), store.Txn{Then: []store.Op{store.Put(p+"k", value)}})
	require.NoError(t, err)
	copy(value, "CHANGED!")
	got := get(t, kv, p+"k", 0)
	require.NotNil(t, got)
	assert.Equal(t, "original", string(got.Value), "the KV keeps its own copy of a written value")
	copy(got.Value, "CHANGED!")
	assert.Equal(t, "original", string(get(t, kv, p+"k", 0).Value), "a read value belongs to the caller")
}

func testTxnCreateIfAbsent(t *testing.T, kv store.KV, p string) {
	k := p + "k"
	create := store.Txn{If: []store.Compare{{Key: k, ModRevision: 0}}, Then: []store.Op{store.Put(k, []byte("1"))}}
	rev, err := kv.Txn(ctxT(t), create)
	require.NoError(t, err)
	_, err = kv.Txn(ctxT(t), create)
	require.ErrorIs(t, err, store.ErrConflict)
	assert.Contains(t, err.Error(), k, "the conflict names the key")
	got := get(t, kv, k, 0)
	require.NotNil(t, got)
	assert.Equal(t, rev, got.ModRevision)
}

func testTxnCompareModRevision(t *testing.T, kv store.KV, p string) {
	k := p + "k"
	r1 := put(t, kv, k, "1")
	r2, err := kv.Txn(ctxT(t), store.Txn{If: []store.Compare{{Key: k, ModRevision: r1}}, Then: []store.Op{store.Put(k, []byte("2"))}})
	require.NoError(t, err)
	assert.Equal(t, r1+1, r2)

	_, err = kv.Txn(ctxT(t), store.Txn{If: []store.Compare{{Key: k, ModRevision: r1}}, Then: []store.Op{store.Put(k, []byte("3"))}})
	require.ErrorIs(t, err, store.ErrConflict, "stale mod revision")
	assert.Contains(t, err.Error(), k)

	_, err = kv.Txn(ctxT(t), store.Txn{If: []store.Compare{{Key: p + "absent", ModRevision: r2}}, Then: []store.Op{store.Put(k, []byte("3"))}})
	require.ErrorIs(t, err, store.ErrConflict, "compare on a missing key")
	assert.Contains(t, err.Error(), p+"absent")

	_, err = kv.Txn(ctxT(t), store.Txn{If: []store.Compare{{Key: k, ModRevision: r2}}, Then: []store.Op{store.Delete(k)}})
	require.NoError(t, err)
	_, err = kv.Txn(ctxT(t), store.Txn{If: []store.Compare{{Key: k, ModRevision: r2}}, Then: []store.Op{store.Put(k, []byte("4"))}})
	require.ErrorIs(t, err, store.ErrConflict, "compare on a deleted key")
	_, err = kv.Txn(ctxT(t), store.Txn{If: []store.Compare{{Key: k, ModRevision: 0}}, Then: []store.Op{store.Put(k, []byte("5"))}})
	require.NoError(t, err, "a deleted key is absent")
}

func testTxnConflictWritesNothing(t *testing.T, kv store.KV, p string) {
	r1 := put(t, kv, p+"a", "1")
	before, err := kv.Range(ctxT(t), p, store.RangeOptions{})
	require.NoError(t, err)
	_, err = kv.Txn(ctxT(t), store.Txn{
		If:   []store.Compare{{Key: p + "a", ModRevision: r1}, {Key: p + "b", ModRevision: r1}},
		Then: []store.Op{store.Put(p+"a", []byte("2")), store.Put(p+"c", []byte("3"))},
	})
	require.ErrorIs(t, err, store.ErrConflict)
	assert.Contains(t, err.Error(), p+"b")
	after, err := kv.Range(ctxT(t), p, store.RangeOptions{})
	require.NoError(t, err)
	assert.Equal(t, before.KVs, after.KVs)
	r2 := put(t, kv, p+"d", "4")
	assert.Equal(t, r1+1, r2, "a failed Txn takes no revision")
}

func testTxnAtomicMultiKey(t *testing.T, kv store.KV, p string) {
	r0 := put(t, kv, p+"old", "x")
	ctx := ctxT(t)
	rev, err := kv.Txn(ctx, store.Txn{
		If:   []store.Compare{{Key: p + "old", ModRevision: r0}, {Key: p + "new1", ModRevision: 0}},
		Then: []store.Op{store.Put(p+"new1", []byte("1")), store.Delete(p + "old"), store.Put(p+"new2", []byte("2"))},
	})
	require.NoError(t, err)
	assert.Equal(t, r0+1, rev)
	page, err := kv.Range(ctx, p, store.RangeOptions{})
	require.NoError(t, err)
	assert.Equal(t, []string{p + "new1", p + "new2"}, keys(page.KVs))
	for _, kv := range page.KVs {
		assert.Equal(t, rev, kv.ModRevision)
		assert.Equal(t, rev, kv.CreateRevision)
	}
	evs, err := collect(t, ctx, kv, p, store.KVWatchOptions{FromRevision: rev}, 3)
	require.NoError(t, err)
	for i, want := range []struct {
		typ store.EventType
		key string
	}{{store.EventPut, "new1"}, {store.EventDelete, "old"}, {store.EventPut, "new2"}} {
		assert.Equal(t, want.typ, evs[i].Type)
		assert.Equal(t, p+want.key, evs[i].KV.Key)
		assert.Equal(t, rev, evs[i].Revision)
	}
}

func testTxnDeleteMissing(t *testing.T, kv store.KV, p string) {
	r1 := put(t, kv, p+"a", "1")
	rev, err := kv.Txn(ctxT(t), store.Txn{Then: []store.Op{store.Delete(p + "missing")}})
	require.NoError(t, err)
	assert.GreaterOrEqual(t, rev, r1)
	r2 := put(t, kv, p+"a", "2")
	ctx := ctxT(t)
	evs, err := collect(t, ctx, kv, p, store.KVWatchOptions{FromRevision: r1}, 2)
	require.NoError(t, err)
	assert.Equal(t, []int64{r1, r2}, []int64{evs[0].Revision, evs[1].Revision}, "deleting a missing key is no change")
}

func testTxnDeleteRecreate(t *testing.T, kv store.KV, p string) {
	k := p + "k"
	put(t, kv, k, "1")
	r2, err := kv.Txn(ctxT(t), store.Txn{Then: []store.Op{store.Delete(k)}})
	require.NoError(t, err)
	_, err = kv.Txn(ctxT(t), store.Txn{If: []store.Compare{{Key: k, ModRevision: r2}}, Then: []store.Op{store.Put(k, []byte("x"))}})
	require.ErrorIs(t, err, store.ErrConflict, "a deleted key has no mod revision")
}

func testTxnConcurrentIncrements(t *testing.T, kv store.KV, p string) {
	const workers, each = 8, 25
	k := p + "counter"
	put(t, kv, k, "0")
	ctx := ctxT(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	revs := map[int64]bool{}
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			for done := 0; done < each; {
				cur := get(t, kv, k, 0)
				if cur == nil {
					errs <- errors.New("counter vanished")
					return
				}
				var n int
				fmt.Sscan(string(cur.Value), &n)
				rev, err := kv.Txn(ctx, store.Txn{
					If:   []store.Compare{{Key: k, ModRevision: cur.ModRevision}},
					Then: []store.Op{store.Put(k, fmt.Appendf(nil, "%d", n+1))},
				})
				if errors.Is(err, store.ErrConflict) {
					continue
				}
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				if revs[rev] {
					errs <- fmt.Errorf("revision %d returned twice", rev)
				}
				revs[rev] = true
				mu.Unlock()
				done++
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	assert.Equal(t, fmt.Sprint(workers*each), string(get(t, kv, k, 0).Value), "no lost update")
}

func testBadInput(t *testing.T, kv store.KV, p string) {
	r := put(t, kv, p+"k", "v")
	ctx := ctxT(t)
	for _, tc := range []struct {
		name string
		txn  store.Txn
		want error // nil: any error (the contract names no sentinel)
	}{
		{"empty key", store.Txn{Then: []store.Op{store.Put("", []byte("v"))}}, nil},
		{"empty key in a later op", store.Txn{Then: []store.Op{store.Put(p+"ok", []byte("v")), store.Delete("")}}, nil},
		{"value too large", store.Txn{Then: []store.Op{store.Put(p+"big", make([]byte, 3<<20))}}, store.ErrTooLarge},
		{"unknown op", store.Txn{Then: []store.Op{{Type: 99, Key: p + "k"}}}, nil},
		{"same key twice", store.Txn{Then: []store.Op{store.Put(p+"d", nil), store.Put(p+"d", []byte("x"))}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := kv.Txn(ctx, tc.txn)
			require.Error(t, err)
			if tc.want != nil {
				require.ErrorIs(t, err, tc.want)
			}
			assert.NotErrorIs(t, err, store.ErrConflict, "bad input is not a conflict")
		})
	}
	page, err := kv.Range(ctx, p, store.RangeOptions{})
	require.NoError(t, err)
	assert.Equal(t, []string{p + "k"}, keys(page.KVs), "bad input leaves the store unchanged")
	assert.Equal(t, r+1, put(t, kv, p+"k2", "v"), "bad input takes no revision")
}

func testWatchFromNow(t *testing.T, kv store.KV, p string) {
	before := put(t, kv, p+"before", "x")
	ctx, cancel := context.WithCancel(ctxT(t))
	defer cancel()
	evc := make(chan store.Event)
	go func() {
		for ev, err := range kv.Watch(ctx, p, store.KVWatchOptions{}) {
			if err != nil {
				return
			}
			select {
			case evc <- ev:
			case <-ctx.Done():
				return
			}
		}
	}()
	// The watch starts at some revision after before; write until it sees one.
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case ev := <-evc:
			assert.Greater(t, ev.Revision, before, "a watch from now does not replay history")
			assert.Equal(t, p+"after", ev.KV.Key)
			return
		case <-tick.C:
			put(t, kv, p+"after", "x")
		case <-timeout:
			t.Fatal("watch from now saw no event")
		}
	}
}

func testWatchFromRevision(t *testing.T, kv store.KV, p string) {
	r1 := put(t, kv, p+"a", "1")
	r2 := put(t, kv, p+"b", "2")
	r3 := del(t, kv, p+"a")
	evs, err := collect(t, ctxT(t), kv, p, store.KVWatchOptions{FromRevision: r2}, 2)
	require.NoError(t, err)
	assert.Equal(t, store.EventPut, evs[0].Type)
	assert.Equal(t, store.KeyValue{Key: p + "b", Value: []byte("2"), CreateRevision: r2, ModRevision: r2, Version: 1}, evs[0].KV)
	assert.Equal(t, r2, evs[0].Revision)
	assert.Equal(t, store.EventDelete, evs[1].Type)
	assert.Equal(t, p+"a", evs[1].KV.Key)
	assert.Equal(t, r3, evs[1].KV.ModRevision)
	assert.Equal(t, r3, evs[1].Revision)
	assert.Empty(t, evs[1].KV.Value)
	_ = r1
}

func testWatchPrev(t *testing.T, kv store.KV, p string) {
	k := p + "k"
	r1 := put(t, kv, k, "1")
	r2 := put(t, kv, k, "2")
	r3 := del(t, kv, k)
	evs, err := collect(t, ctxT(t), kv, p, store.KVWatchOptions{FromRevision: r1}, 3)
	require.NoError(t, err)
	assert.Nil(t, evs[0].Prev, "a creation has no Prev")
	require.NotNil(t, evs[1].Prev)
	assert.Equal(t, store.KeyValue{Key: k, Value: []byte("1"), CreateRevision: r1, ModRevision: r1, Version: 1}, *evs[1].Prev)
	assert.Equal(t, store.KeyValue{Key: k, Value: []byte("2"), CreateRevision: r1, ModRevision: r2, Version: 2}, evs[1].KV)
	require.NotNil(t, evs[2].Prev)
	assert.Equal(t, store.KeyValue{Key: k, Value: []byte("2"), CreateRevision: r1, ModRevision: r2, Version: 2}, *evs[2].Prev)
	assert.Equal(t, r3, evs[2].Revision)
}

func testWatchPrefixFilter(t *testing.T, kv store.KV, p string) {
	r := put(t, kv, p+"other/1", "x")
	put(t, kv, p+"mine/1", "a")
	put(t, kv, p+"other/2", "x")
	put(t, kv, p+"mine/2", "b")
	put(t, kv, p+"mine", "not under mine/")
	put(t, kv, p+"mine/3", "c")
	evs, err := collect(t, ctxT(t), kv, p+"mine/", store.KVWatchOptions{FromRevision: r}, 3)
	require.NoError(t, err)
	assert.Equal(t, []string{p + "mine/1", p + "mine/2", p + "mine/3"}, []string{evs[0].KV.Key, evs[1].KV.Key, evs[2].KV.Key})
	assert.Less(t, evs[0].Revision, evs[1].Revision)
	assert.Less(t, evs[1].Revision, evs[2].Revision)
}

func testWatchSameRevision(t *testing.T, kv store.KV, p string) {
	// Two watchers from one revision see the same sequence.
	const n = 50
	first := put(t, kv, p+"k0", "0")
	for i := 1; i < n; i++ {
		put(t, kv, fmt.Sprintf("%sk%d", p, i%7), fmt.Sprint(i))
	}
	a, err := collect(t, ctxT(t), kv, p, store.KVWatchOptions{FromRevision: first}, n)
	require.NoError(t, err)
	b, err := collect(t, ctxT(t), kv, p, store.KVWatchOptions{FromRevision: first}, n)
	require.NoError(t, err)
	assert.Equal(t, a, b)
	for i := range a {
		assert.Equal(t, first+int64(i), a[i].Revision, "gap-free and ordered")
	}
}

func testWatchResume(t *testing.T, kv store.KV, p string) {
	// Concurrent writes while a watcher stops and resumes from the revision
	// after the last event it saw: every change exactly once, in order.
	const total = 300
	ctx := ctxT(t)
	start := put(t, kv, p+"start", "x")
	done := make(chan error, 1)
	go func() {
		for i := 1; i < total; i++ {
			if _, err := kv.Txn(ctx, store.Txn{Then: []store.Op{store.Put(fmt.Sprintf("%sk%d", p, i%13), fmt.Appendf(nil, "%d", i))}}); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	var got []int64
	from := start
	for len(got) < total {
		want := min(1+len(got)%17, total-len(got))
		evs, err := collect(t, ctx, kv, p, store.KVWatchOptions{FromRevision: from}, want)
		require.NoError(t, err)
		for _, ev := range evs {
			got = append(got, ev.Revision)
		}
		from = evs[len(evs)-1].Revision + 1
	}
	require.NoError(t, <-done)
	for i, rev := range got {
		require.Equal(t, start+int64(i), rev, "event %d", i)
	}
}

func testWatchSlowConsumer(t *testing.T, kv store.KV, p string) {
	ctx, cancel := context.WithCancel(ctxT(t))
	defer cancel()
	first := put(t, kv, p+"k", "0")
	next, stop := iter.Pull2(kv.Watch(ctx, p, store.KVWatchOptions{FromRevision: first}))
	defer stop()
	ev, err, ok := next()
	require.True(t, ok)
	require.NoError(t, err)
	require.Equal(t, first, ev.Revision)
	// The watcher reads nothing while many writes land: writers must not block.
	const n = 1000
	writeCtx, writeCancel := context.WithTimeout(ctx, 20*time.Second)
	defer writeCancel()
	for i := 1; i <= n; i++ {
		_, err := kv.Txn(writeCtx, store.Txn{Then: []store.Op{store.Put(p+"k", fmt.Appendf(nil, "%d", i))}})
		require.NoError(t, err, "write %d while a watcher is stalled", i)
	}
	for i := 1; i <= n; i++ {
		ev, err, ok := next()
		require.True(t, ok)
		if err != nil {
			// Allowed: the watch ends with an error the caller resumes from.
			require.False(t, errors.Is(err, context.Canceled))
			return
		}
		require.Equal(t, first+int64(i), ev.Revision)
		require.Equal(t, fmt.Sprint(i), string(ev.KV.Value))
	}
}

func testWatchContextEnds(t *testing.T, kv store.KV, p string) {
	ctx, cancel := context.WithCancel(ctxT(t))
	r := put(t, kv, p+"k", "x")
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		for range kv.Watch(ctx, p, store.KVWatchOptions{FromRevision: r}) {
		}
	}()
	time.Sleep(20 * time.Millisecond)
	cancel()
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		t.Fatal("watch did not end after its context")
	}
}

func testWatchProgress(t *testing.T, kv store.KV, p string) {
	r := put(t, kv, p+"k", "x")
	ctx, cancel := context.WithTimeout(ctxT(t), ProgressWait)
	defer cancel()
	var sawPut bool
	for ev, err := range kv.Watch(ctx, p, store.KVWatchOptions{FromRevision: r, ProgressNotify: true}) {
		require.NoError(t, err)
		switch ev.Type {
		case store.EventPut:
			sawPut = true
		case store.EventProgress:
			require.True(t, sawPut, "progress only after the pending changes")
			assert.GreaterOrEqual(t, ev.Revision, r)
			return
		}
	}
	t.Fatalf("no progress event within %v", ProgressWait)
}

func testWatchFutureRevision(t *testing.T, kv store.KV, p string) {
	r := put(t, kv, p+"k", "0")
	ctx := ctxT(t)
	_, err := collect(t, ctx, kv, p, store.KVWatchOptions{FromRevision: r + 3}, 1)
	require.ErrorIs(t, err, store.ErrFutureRevision, "a watch from beyond the next revision")

	type res struct {
		evs []store.Event
		err error
	}
	out := make(chan res, 1)
	go func() {
		evs, err := collect(t, ctx, kv, p, store.KVWatchOptions{FromRevision: r + 1}, 1)
		out <- res{evs, err}
	}()
	time.Sleep(20 * time.Millisecond)
	put(t, kv, p+"k", "1")
	got := <-out
	require.NoError(t, got.err)
	assert.Equal(t, r+1, got.evs[0].Revision, "a watch from the next revision waits for it")
}

func testCompact(t *testing.T, kv store.KV, p string) {
	r1 := put(t, kv, p+"a", "1")
	r2 := put(t, kv, p+"a", "2")
	r3 := put(t, kv, p+"b", "3")
	r4 := del(t, kv, p+"b")
	ctx := ctxT(t)
	require.NoError(t, kv.Compact(ctx, r3))

	_, err := kv.Range(ctx, p, store.RangeOptions{Revision: r2})
	require.ErrorIs(t, err, store.ErrCompacted)
	_, err = kv.Range(ctx, p, store.RangeOptions{Revision: r1})
	require.ErrorIs(t, err, store.ErrCompacted)

	page, err := kv.Range(ctx, p, store.RangeOptions{Revision: r3})
	require.NoError(t, err, "the compaction revision itself stays readable")
	assert.Equal(t, []string{p + "a", p + "b"}, keys(page.KVs))
	got := get(t, kv, p+"a", 0)
	require.NotNil(t, got, "current values are kept")
	assert.Equal(t, store.KeyValue{Key: p + "a", Value: []byte("2"), CreateRevision: r1, ModRevision: r2, Version: 2}, *got)
	assert.Nil(t, get(t, kv, p+"b", r4))

	err = kv.Compact(ctx, r2)
	require.ErrorIs(t, err, store.ErrCompacted, "compacting below an earlier compaction")
	require.NoError(t, kv.Compact(ctx, r4))
	assert.Nil(t, get(t, kv, p+"b", 0))
	r5 := put(t, kv, p+"a", "3")
	assert.Equal(t, r4+1, r5)
	got = get(t, kv, p+"a", 0)
	assert.Equal(t, store.KeyValue{Key: p + "a", Value: []byte("3"), CreateRevision: r1, ModRevision: r5, Version: 3}, *got)
}

func testCompactFuture(t *testing.T, kv store.KV, p string) {
	r := put(t, kv, p+"a", "1")
	err := kv.Compact(ctxT(t), r+1000)
	require.ErrorIs(t, err, store.ErrFutureRevision)
	assert.NotNil(t, get(t, kv, p+"a", r))
}

func testCompactWatch(t *testing.T, kv store.KV, p string) {
	r1 := put(t, kv, p+"a", "1")
	r2 := put(t, kv, p+"a", "2")
	r3 := put(t, kv, p+"a", "3")
	ctx := ctxT(t)
	require.NoError(t, kv.Compact(ctx, r2))
	_, err := collect(t, ctx, kv, p, store.KVWatchOptions{FromRevision: r1}, 1)
	require.ErrorIs(t, err, store.ErrCompacted)
	evs, err := collect(t, ctx, kv, p, store.KVWatchOptions{FromRevision: r2}, 2)
	require.NoError(t, err, "watching from the compaction revision works")
	assert.Equal(t, []int64{r2, r3}, []int64{evs[0].Revision, evs[1].Revision})
	require.NotNil(t, evs[1].Prev)
	assert.Equal(t, "2", string(evs[1].Prev.Value))
}
