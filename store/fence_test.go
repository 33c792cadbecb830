package store_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/store"
	"github.com/gantry-sdk/gantry/store/etcd"
	"github.com/gantry-sdk/gantry/store/etcd/etcdtest"
	"github.com/gantry-sdk/gantry/store/storetest"
)

type Gadget = storetest.Gadget

// fenceBackends opens an object store over each KV: memory and a real etcd.
func fenceBackends(t *testing.T) map[string]func(t *testing.T, wrap func(store.KV) store.KV) *store.ObjectStore {
	var srv *etcdtest.Server
	n := 0
	return map[string]func(t *testing.T, wrap func(store.KV) store.KV) *store.ObjectStore{
		"memory": func(t *testing.T, wrap func(store.KV) store.KV) *store.ObjectStore {
			s, err := store.New(wrap(newKV(t)), storetest.NewScheme(), store.Options{})
			require.NoError(t, err)
			return s
		},
		"etcd": func(t *testing.T, wrap func(store.KV) store.KV) *store.ObjectStore {
			if testing.Short() {
				t.Skip("starts an embedded etcd")
			}
			if srv == nil {
				srv = etcdtest.Start(t, etcdtest.Options{NoFsync: true})
			}
			n++
			kv, err := etcd.New(srv.Client, etcd.Options{Prefix: fmt.Sprintf("/fence-%d", n)})
			require.NoError(t, err)
			s, err := store.New(wrap(kv), storetest.NewScheme(), store.Options{})
			require.NoError(t, err)
			return s
		},
	}
}

func noWrap(kv store.KV) store.KV { return kv }

// fenceFor writes the fence object anew (as a new leader does) and returns the fence it makes.
func fenceFor(t *testing.T, s store.Store, size int) *store.Fence {
	t.Helper()
	gadgets := store.For[*Gadget](s)
	g, err := gadgets.Get(t.Context(), apis.Key{Name: "fence"}, store.GetOptions{})
	if err != nil {
		g, err = gadgets.Create(t.Context(), &Gadget{ObjectMeta: apis.ObjectMeta{Name: "fence"}, Spec: storetest.GadgetSpec{Size: size}}, store.WriteOptions{})
	} else {
		g.Spec.Size = size
		g, err = gadgets.Update(t.Context(), g, store.WriteOptions{})
	}
	require.NoError(t, err)
	return &store.Fence{GVK: storetest.GadgetGVK, Key: apis.Key{Name: "fence"}, ResourceVersion: g.ResourceVersion}
}

// Every kind of write with a current fence is accepted; once the fence
// object is written again, every one is rejected with ErrFenced (not
// ErrConflict) and changes nothing, dry runs included.
func TestFencedWrites(t *testing.T) {
	for name, open := range fenceBackends(t) {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			s := open(t, noWrap)
			widgets := store.For[*Widget](s)
			key := apis.Key{Namespace: "default", Name: "w"}
			old := fenceFor(t, s, 1)

			w, err := widgets.Create(ctx, &Widget{ObjectMeta: apis.ObjectMeta{Namespace: "default", Name: "w"}}, store.WriteOptions{Fence: old})
			require.NoError(t, err)
			w.Spec.Replicas = 2
			w, err = widgets.Update(ctx, w, store.WriteOptions{Fence: old})
			require.NoError(t, err)
			w.Status.Phase = "Running"
			_, err = widgets.UpdateStatus(ctx, w, store.WriteOptions{Fence: old, DryRun: true})
			require.NoError(t, err)
			_, err = widgets.Delete(ctx, key, store.DeleteOptions{Fence: old, DryRun: true})
			require.NoError(t, err)

			current := fenceFor(t, s, 2) // leadership passes on
			before, err := widgets.Get(ctx, key, store.GetOptions{})
			require.NoError(t, err)
			upd := apis.DeepCopy(before)
			upd.Spec.Replicas = 3
			upd.ResourceVersion = ""
			stat := apis.DeepCopy(before)
			stat.Status.Phase = "Failed"
			for op, write := range map[string]func(dryRun bool) error{
				"create": func(d bool) error {
					_, err := widgets.Create(ctx, &Widget{ObjectMeta: apis.ObjectMeta{Namespace: "default", Name: "x"}}, store.WriteOptions{Fence: old, DryRun: d})
					return err
				},
				"update": func(d bool) error {
					_, err := widgets.Update(ctx, upd, store.WriteOptions{Fence: old, DryRun: d})
					return err
				},
				"updateStatus": func(d bool) error {
					_, err := widgets.UpdateStatus(ctx, stat, store.WriteOptions{Fence: old, DryRun: d})
					return err
				},
				"delete": func(d bool) error {
					_, err := widgets.Delete(ctx, key, store.DeleteOptions{Fence: old, DryRun: d})
					return err
				},
			} {
				for _, dry := range []bool{false, true} {
					err := write(dry)
					require.ErrorIs(t, err, store.ErrFenced, "%s dryRun=%v", op, dry)
					assert.NotErrorIs(t, err, store.ErrConflict)
					assert.Contains(t, err.Error(), `Gadget "fence"`)
				}
			}
			after, err := widgets.Get(ctx, key, store.GetOptions{})
			require.NoError(t, err)
			assert.Equal(t, before, after, "a fenced write changed the object")
			_, err = widgets.Get(ctx, apis.Key{Namespace: "default", Name: "x"}, store.GetOptions{})
			require.ErrorIs(t, err, store.ErrNotFound)

			upd.Spec.Replicas = 4
			_, err = widgets.Update(ctx, upd, store.WriteOptions{Fence: current})
			require.NoError(t, err, "the new fence is accepted")

			_, err = widgets.Update(ctx, upd, store.WriteOptions{Fence: &store.Fence{GVK: storetest.GadgetGVK, Key: apis.Key{Name: "fence"}, ResourceVersion: "x"}})
			require.ErrorIs(t, err, store.ErrInvalid, "a malformed fence is invalid, not fenced")
		})
	}
}

// racingKV writes the fence object between the store's check of the fence
// and its Txn, once: only a compare inside the Txn can catch that.
type racingKV struct {
	store.KV
	armed atomic.Bool
	race  func(ctx context.Context)
}

func (r *racingKV) Txn(ctx context.Context, txn store.Txn) (int64, error) {
	if r.armed.CompareAndSwap(true, false) {
		r.race(ctx)
	}
	return r.KV.Txn(ctx, txn)
}

func TestFenceIsCheckedInTheTxn(t *testing.T) {
	for name, open := range fenceBackends(t) {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			var rk *racingKV
			s := open(t, func(kv store.KV) store.KV { rk = &racingKV{KV: kv}; return rk })
			rk.race = func(context.Context) { fenceFor(t, s, 99) }
			widgets := store.For[*Widget](s)
			old := fenceFor(t, s, 1)
			w, err := widgets.Create(ctx, &Widget{ObjectMeta: apis.ObjectMeta{Namespace: "default", Name: "w"}}, store.WriteOptions{Fence: old})
			require.NoError(t, err)

			for op, write := range map[string]func() error{
				"create": func() error {
					_, err := widgets.Create(ctx, &Widget{ObjectMeta: apis.ObjectMeta{Namespace: "default", Name: "x"}}, store.WriteOptions{Fence: old})
					return err
				},
				"update": func() error {
					u := apis.DeepCopy(w)
					u.Spec.Replicas = 7
					u.ResourceVersion = ""
					_, err := widgets.Update(ctx, u, store.WriteOptions{Fence: old})
					return err
				},
				"delete": func() error {
					_, err := widgets.Delete(ctx, apis.Key{Namespace: "default", Name: "w"}, store.DeleteOptions{Fence: old})
					return err
				},
			} {
				old = fenceFor(t, s, 1) // a fresh, valid fence, broken only inside the race
				rk.armed.Store(true)
				require.ErrorIs(t, write(), store.ErrFenced, op)
				assert.False(t, rk.armed.Load(), "the race ran")
			}
			got, err := widgets.Get(ctx, apis.Key{Namespace: "default", Name: "w"}, store.GetOptions{})
			require.NoError(t, err)
			assert.Equal(t, w, got)
		})
	}
}

// BenchmarkUpdateFenced measures what a fence costs a conditional update on
// the memory KV: one more read and one more compare in the Txn.
func BenchmarkUpdateFenced(b *testing.B) {
	for _, fenced := range []bool{false, true} {
		b.Run(fmt.Sprintf("fenced=%v", fenced), func(b *testing.B) {
			s, _ := openStore(b, store.Options{})
			ctx := context.Background()
			var opts store.WriteOptions
			if fenced {
				g, err := store.For[*Gadget](s).Create(ctx, &Gadget{ObjectMeta: apis.ObjectMeta{Name: "fence"}}, store.WriteOptions{})
				require.NoError(b, err)
				opts.Fence = &store.Fence{GVK: storetest.GadgetGVK, Key: apis.Key{Name: "fence"}, ResourceVersion: g.ResourceVersion}
			}
			widgets := store.For[*Widget](s)
			w, err := widgets.Create(ctx, benchWidget("a"), opts)
			require.NoError(b, err)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				w.Spec.Replicas = int32(i + 1)
				if w, err = widgets.Update(ctx, w, opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
