package etcd_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/gantry-sdk/gantry/store"
	"github.com/gantry-sdk/gantry/store/etcd"
	"github.com/gantry-sdk/gantry/store/etcd/etcdtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// newKV returns a KV on a fresh embedded etcd, its keys under prefix.
func newKV(t testing.TB, prefix string) (*etcd.KV, *etcdtest.Server) {
	t.Helper()
	srv := etcdtest.Start(t, etcdtest.Options{NoFsync: true})
	kv, err := etcd.New(srv.Client, etcd.Options{Prefix: prefix})
	require.NoError(t, err)
	return kv, srv
}

func put(t testing.TB, kv store.KV, key, value string) int64 {
	t.Helper()
	rev, err := kv.Txn(context.Background(), store.Txn{Then: []store.Op{store.Put(key, []byte(value))}})
	require.NoError(t, err)
	return rev
}

func keys(p store.Page) []string {
	var ks []string
	for _, kv := range p.KVs {
		ks = append(ks, kv.Key)
	}
	return ks
}

func TestNewRefusesNilClient(t *testing.T) {
	_, err := etcd.New(nil, etcd.Options{})
	require.ErrorIs(t, err, etcd.ErrNilClient)
}

func TestPrefixIsolatesStores(t *testing.T) {
	a, srv := newKV(t, "/a/")
	b, err := etcd.New(srv.Client, etcd.Options{Prefix: "/b/"})
	require.NoError(t, err)
	ctx := t.Context()

	put(t, a, "x", "from a")
	put(t, b, "x", "from b")
	put(t, b, "y", "from b")

	pa, err := a.Range(ctx, "", store.RangeOptions{})
	require.NoError(t, err)
	require.Equal(t, []string{"x"}, keys(pa))
	assert.Equal(t, "from a", string(pa.KVs[0].Value))

	pb, err := b.Range(ctx, "", store.RangeOptions{})
	require.NoError(t, err)
	require.Equal(t, []string{"x", "y"}, keys(pb))

	raw, err := srv.Client.Get(ctx, "/a/x")
	require.NoError(t, err)
	require.Len(t, raw.Kvs, 1, "keys are stored under the prefix in etcd")

	// A KV without prefix sees everything, keys unchanged.
	all, err := etcd.New(srv.Client, etcd.Options{})
	require.NoError(t, err)
	pall, err := all.Range(ctx, "", store.RangeOptions{})
	require.NoError(t, err)
	require.Equal(t, []string{"/a/x", "/b/x", "/b/y"}, keys(pall))
}

func TestRangePagesAtOneRevision(t *testing.T) {
	kv, _ := newKV(t, "/p/")
	ctx := t.Context()
	for _, k := range []string{"pods/a", "pods/b", "pods/c", "pods/d", "pods/e", "podsx", "services/a"} {
		put(t, kv, k, "v-"+k)
	}
	first, err := kv.Range(ctx, "pods/", store.RangeOptions{Limit: 2})
	require.NoError(t, err)
	require.Equal(t, []string{"pods/a", "pods/b"}, keys(first))
	assert.True(t, first.More)
	assert.EqualValues(t, 5, first.Count)

	// A write after the first page must not show in the following ones.
	put(t, kv, "pods/bb", "late")
	put(t, kv, "pods/c", "changed")

	var got []string
	page := first
	for page.More {
		page, err = kv.Range(ctx, "pods/", store.RangeOptions{
			Revision: first.Revision, Limit: 2, After: page.KVs[len(page.KVs)-1].Key,
		})
		require.NoError(t, err)
		require.Equal(t, first.Revision, page.Revision, "a page in the past reports the revision it was read at")
		got = append(got, keys(page)...)
		if len(page.KVs) > 0 && page.KVs[0].Key == "pods/c" {
			assert.Equal(t, "v-pods/c", string(page.KVs[0].Value))
		}
	}
	require.Equal(t, []string{"pods/c", "pods/d", "pods/e"}, got)

	count, err := kv.Range(ctx, "pods/", store.RangeOptions{CountOnly: true, After: "pods/b"})
	require.NoError(t, err)
	assert.Empty(t, count.KVs)
	assert.EqualValues(t, 4, count.Count, "pods/bb, c, d, e come after pods/b")

	now, err := kv.Range(ctx, "pods/c", store.RangeOptions{})
	require.NoError(t, err)
	require.Len(t, now.KVs, 1)
	c := now.KVs[0]
	assert.Equal(t, "changed", string(c.Value))
	assert.EqualValues(t, 2, c.Version)
	assert.Less(t, c.CreateRevision, c.ModRevision)
	assert.Equal(t, now.Revision, c.ModRevision, "the last write")

	none, err := kv.Range(ctx, "pods/", store.RangeOptions{After: "pods/zzz"})
	require.NoError(t, err)
	assert.Empty(t, none.KVs)
	assert.False(t, none.More)
	assert.Zero(t, none.Count)
}

func TestRangeRevisionErrors(t *testing.T) {
	kv, _ := newKV(t, "/r/")
	ctx := t.Context()
	r1 := put(t, kv, "k", "1")
	r2 := put(t, kv, "k", "2")
	put(t, kv, "k", "3")

	_, err := kv.Range(ctx, "k", store.RangeOptions{Revision: r2 + 100})
	require.ErrorIs(t, err, store.ErrFutureRevision)
	assert.Contains(t, err.Error(), `"k"`)

	require.NoError(t, kv.Compact(ctx, r2))
	_, err = kv.Range(ctx, "k", store.RangeOptions{Revision: r1})
	require.ErrorIs(t, err, store.ErrCompacted)
	p, err := kv.Range(ctx, "k", store.RangeOptions{Revision: r2})
	require.NoError(t, err, "the compaction revision itself stays readable")
	require.Equal(t, "2", string(p.KVs[0].Value))

	err = kv.Compact(ctx, r1)
	require.ErrorIs(t, err, store.ErrCompacted, "compacting again below the compacted revision")
	require.ErrorIs(t, kv.Compact(ctx, r2+100), store.ErrFutureRevision)

	_, err = kv.Range(ctx, "k", store.RangeOptions{Revision: -1})
	require.ErrorIs(t, err, store.ErrInvalid)
	require.ErrorIs(t, kv.Compact(ctx, 0), store.ErrInvalid)
}

func TestTxnCompares(t *testing.T) {
	kv, _ := newKV(t, "/t/")
	ctx := t.Context()

	create := func(key string) store.Txn {
		return store.Txn{If: []store.Compare{{Key: key}}, Then: []store.Op{store.Put(key, []byte("new"))}}
	}
	r1, err := kv.Txn(ctx, create("a"))
	require.NoError(t, err)
	_, err = kv.Txn(ctx, create("a"))
	require.ErrorIs(t, err, store.ErrConflict)
	assert.Contains(t, err.Error(), `"a"`)

	// Update with the right and a stale revision.
	r2, err := kv.Txn(ctx, store.Txn{
		If:   []store.Compare{{Key: "a", ModRevision: r1}},
		Then: []store.Op{store.Put("a", []byte("v2"))},
	})
	require.NoError(t, err)
	require.Greater(t, r2, r1)
	_, err = kv.Txn(ctx, store.Txn{
		If:   []store.Compare{{Key: "a", ModRevision: r1}},
		Then: []store.Op{store.Put("a", []byte("lost"))},
	})
	require.ErrorIs(t, err, store.ErrConflict)
	assert.Contains(t, err.Error(), `"a"`)

	// A multi-key txn whose second compare fails names that key and writes nothing.
	put(t, kv, "b", "b1")
	_, err = kv.Txn(ctx, store.Txn{
		If:   []store.Compare{{Key: "a", ModRevision: r2}, {Key: "b", ModRevision: r2}},
		Then: []store.Op{store.Put("a", []byte("x")), store.Delete("b"), store.Put("c", []byte("x"))},
	})
	require.ErrorIs(t, err, store.ErrConflict)
	assert.Contains(t, err.Error(), `"b"`)
	assert.NotContains(t, err.Error(), `"a"`)
	p, err := kv.Range(ctx, "", store.RangeOptions{})
	require.NoError(t, err)
	require.Equal(t, []string{"a", "b"}, keys(p))
	assert.Equal(t, "v2", string(p.KVs[0].Value))

	// Compare on a deleted key: ModRevision 0 holds again (create after delete).
	rdel, err := kv.Txn(ctx, store.Txn{
		If:   []store.Compare{{Key: "a", ModRevision: r2}},
		Then: []store.Op{store.Delete("a"), store.Put("c", []byte("c1"))},
	})
	require.NoError(t, err)
	rc, err := kv.Txn(ctx, create("a"))
	require.NoError(t, err)
	require.Equal(t, rdel+1, rc)
	p, err = kv.Range(ctx, "a", store.RangeOptions{})
	require.NoError(t, err)
	require.EqualValues(t, 1, p.KVs[0].Version, "a key created again starts over")
	require.Equal(t, rc, p.KVs[0].CreateRevision)
	p, err = kv.Range(ctx, "c", store.RangeOptions{})
	require.NoError(t, err)
	require.Equal(t, rdel, p.KVs[0].ModRevision, "both ops of a txn share its revision")

	_, err = kv.Txn(ctx, store.Txn{Then: []store.Op{{Type: 9, Key: "a"}}})
	require.ErrorIs(t, err, store.ErrInvalid)
	_, err = kv.Txn(ctx, store.Txn{If: []store.Compare{{Key: "a", ModRevision: -3}}})
	require.ErrorIs(t, err, store.ErrInvalid)
}

func TestTxnTooLarge(t *testing.T) {
	kv, _ := newKV(t, "/big/")
	_, err := kv.Txn(t.Context(), store.Txn{Then: []store.Op{store.Put("k", make([]byte, 3<<20))}})
	require.ErrorIs(t, err, store.ErrTooLarge)
	p, err := kv.Range(t.Context(), "", store.RangeOptions{})
	require.NoError(t, err)
	require.Empty(t, p.KVs)
}

func TestClosedClient(t *testing.T) {
	_, srv := newKV(t, "/c/")
	client, err := srv.NewClient()
	require.NoError(t, err)
	kv, err := etcd.New(client, etcd.Options{})
	require.NoError(t, err)
	require.NoError(t, client.Close())
	_, err = kv.Range(t.Context(), "", store.RangeOptions{})
	require.ErrorIs(t, err, store.ErrClosed)
	_, err = kv.Txn(t.Context(), store.Txn{Then: []store.Op{store.Put("k", nil)}})
	require.ErrorIs(t, err, store.ErrClosed)
	require.ErrorIs(t, kv.Compact(t.Context(), 1), store.ErrClosed)
	_, err = collect(t, kv.Watch(t.Context(), "", store.KVWatchOptions{}), 1)
	require.ErrorIs(t, err, store.ErrClosed)
}

// collect reads n events (or an error) from a watch.
func collect(t *testing.T, seq func(func(store.Event, error) bool), n int) ([]store.Event, error) {
	t.Helper()
	var evs []store.Event
	var werr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev, err := range seq {
			if err != nil {
				werr = err
				return
			}
			if ev.Type == store.EventProgress {
				continue
			}
			evs = append(evs, ev)
			if len(evs) == n {
				return
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("watch: %d of %d events after 20s", len(evs), n)
	}
	return evs, werr
}

func TestWatchFromRevision(t *testing.T) {
	kv, _ := newKV(t, "/w/")
	ctx := t.Context()
	r1 := put(t, kv, "pods/a", "1")
	r2 := put(t, kv, "pods/a", "2")
	put(t, kv, "other", "x")
	r3, err := kv.Txn(ctx, store.Txn{Then: []store.Op{store.Delete("pods/a"), store.Put("pods/b", []byte("b"))}})
	require.NoError(t, err)

	evs, err := collect(t, kv.Watch(ctx, "pods/", store.KVWatchOptions{FromRevision: r1}), 4)
	require.NoError(t, err)
	require.Len(t, evs, 4)

	assert.Equal(t, store.EventPut, evs[0].Type)
	assert.Equal(t, r1, evs[0].Revision)
	assert.Nil(t, evs[0].Prev, "a creation has no previous value")

	assert.Equal(t, store.EventPut, evs[1].Type)
	assert.Equal(t, "2", string(evs[1].KV.Value))
	require.NotNil(t, evs[1].Prev)
	assert.Equal(t, "1", string(evs[1].Prev.Value))
	assert.EqualValues(t, 2, evs[1].KV.Version)

	assert.Equal(t, store.EventDelete, evs[2].Type)
	assert.Equal(t, "pods/a", evs[2].KV.Key)
	assert.Empty(t, evs[2].KV.Value)
	assert.Equal(t, r3, evs[2].KV.ModRevision)
	require.NotNil(t, evs[2].Prev)
	assert.Equal(t, "2", string(evs[2].Prev.Value))
	assert.Equal(t, r2, evs[2].Prev.ModRevision)

	assert.Equal(t, "pods/b", evs[3].KV.Key)
	assert.Equal(t, r3, evs[3].Revision)
}

func TestWatchFromNow(t *testing.T) {
	kv, _ := newKV(t, "/n/")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	put(t, kv, "k", "before")

	events := make(chan store.Event)
	ended := make(chan error, 1)
	go func() {
		var last error
		for ev, err := range kv.Watch(ctx, "", store.KVWatchOptions{}) {
			if err != nil {
				last = err
				break
			}
			events <- ev
		}
		ended <- last
	}()
	// The watch starts asynchronously: write until its first event arrives.
	var first store.Event
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
wait:
	for {
		select {
		case first = <-events:
			break wait
		case <-tick.C:
			put(t, kv, "k", "after")
		}
	}
	assert.Equal(t, "after", string(first.KV.Value), "changes before the watch are not delivered")

	cancel()
	// Drain what the writes above may still have queued.
	for {
		select {
		case <-events:
			continue
		case err := <-ended:
			require.NoError(t, err, "a watch ends quietly with its context")
			return
		case <-time.After(10 * time.Second):
			t.Fatal("watch did not end with its context")
		}
	}
}

func TestWatchRevisionErrors(t *testing.T) {
	kv, _ := newKV(t, "/e/")
	ctx := t.Context()
	r1 := put(t, kv, "k", "1")
	r2 := put(t, kv, "k", "2")

	_, err := collect(t, kv.Watch(ctx, "", store.KVWatchOptions{FromRevision: r2 + 2}), 1)
	require.ErrorIs(t, err, store.ErrFutureRevision)

	// The next revision is not in the future: the watch waits for it.
	next := kv.Watch(ctx, "", store.KVWatchOptions{FromRevision: r2 + 1})
	go put(t, kv, "k", "3")
	evs, err := collect(t, next, 1)
	require.NoError(t, err)
	require.Equal(t, r2+1, evs[0].Revision)

	require.NoError(t, kv.Compact(ctx, r2))
	_, err = collect(t, kv.Watch(ctx, "", store.KVWatchOptions{FromRevision: r1}), 1)
	require.ErrorIs(t, err, store.ErrCompacted)

	_, err = collect(t, kv.Watch(ctx, "", store.KVWatchOptions{FromRevision: -1}), 1)
	require.ErrorIs(t, err, store.ErrInvalid)
}

func TestWatchProgressNotify(t *testing.T) {
	kv, _ := newKV(t, "/pn/") // etcdtest sends progress every 100ms
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	rev := put(t, kv, "k", "1")
	var seen []store.EventType
	for ev, err := range kv.Watch(ctx, "", store.KVWatchOptions{FromRevision: rev, ProgressNotify: true}) {
		require.NoError(t, err)
		seen = append(seen, ev.Type)
		if ev.Type == store.EventProgress {
			require.GreaterOrEqual(t, ev.Revision, rev)
			require.Equal(t, []store.EventType{store.EventPut, store.EventProgress}, seen)
			return
		}
	}
	t.Fatalf("no progress event, saw %v", seen)
}

func TestWatchEndsWhenClientCloses(t *testing.T) {
	_, srv := newKV(t, "/cc/")
	client, err := srv.NewClient()
	require.NoError(t, err)
	kv, err := etcd.New(client, etcd.Options{})
	require.NoError(t, err)
	seq := kv.Watch(t.Context(), "", store.KVWatchOptions{})
	time.AfterFunc(100*time.Millisecond, func() { _ = client.Close() })
	_, err = collect(t, seq, 1)
	require.ErrorIs(t, err, store.ErrClosed)
}

// A documented difference from store/memory, pinned so a change in etcd shows.
func TestTxnWithoutChangesKeepsRevision(t *testing.T) {
	kv, _ := newKV(t, "/nc/")
	ctx := t.Context()
	rev := put(t, kv, "k", "v")
	got, err := kv.Txn(ctx, store.Txn{If: []store.Compare{{Key: "k", ModRevision: rev}}})
	require.NoError(t, err)
	require.Equal(t, rev, got)
	got, err = kv.Txn(ctx, store.Txn{Then: []store.Op{store.Delete("absent")}})
	require.NoError(t, err)
	require.Equal(t, rev, got)

}

func TestFirstWriteOfNewEtcdIsRevisionTwo(t *testing.T) {
	kv, _ := newKV(t, "")
	require.EqualValues(t, 2, put(t, kv, "k", "v"), "as the package doc says")
}
