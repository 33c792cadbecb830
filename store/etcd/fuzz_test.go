package etcd_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/store"
	"github.com/gantry-sdk/gantry/store/etcd"
	"github.com/gantry-sdk/gantry/store/etcd/etcdtest"
	"github.com/gantry-sdk/gantry/store/memory"
)

// FuzzRangeMatchesMemory writes the same keys to etcd (under a fresh
// prefix) and to store/memory, then checks that a Range with the same
// prefix, After and Limit returns the same page from both: the key range
// arithmetic (prefix ends, bytes 0x00 and 0xff, After outside the prefix)
// is where a mapping onto etcd goes wrong.
func FuzzRangeMatchesMemory(f *testing.F) {
	srv := etcdtest.Start(f, etcdtest.Options{NoFsync: true})
	f.Add("a\nab\nb\nb\xff\nc", "a", "", int64(0))
	f.Add("x/1\nx/2\nx/3\ny", "x/", "x/1", int64(1))
	f.Add("\xff\n\xff\xff\n\xff\x00\n\xfe\xff", "\xff", "\xff", int64(2))
	f.Add("k\nk\x00\nk\x01\nl", "k", "k", int64(0))
	f.Add("a/1\na/2\nb/1", "b/", "a/9", int64(0))
	f.Add("a\nb\nc", "", "b", int64(1))
	var n atomic.Int64
	f.Fuzz(func(t *testing.T, keyList, prefix, after string, limit int64) {
		var keys []string
		for _, k := range strings.Split(keyList, "\n") {
			if k != "" && len(k) <= 100 && !slices.Contains(keys, k) && len(keys) < 20 {
				keys = append(keys, k)
			}
		}
		limit = int64(uint64(limit) % 8)
		ek, err := etcd.New(srv.Client, etcd.Options{Prefix: fmt.Sprintf("/fuzz/%d/", n.Add(1))})
		require.NoError(t, err)
		mk := memory.New(memory.Options{})
		defer mk.Close()
		ctx := context.Background()
		if len(keys) > 0 {
			txn := store.Txn{}
			for _, k := range keys {
				txn.Then = append(txn.Then, store.Put(k, []byte("v"+k)))
			}
			_, err := ek.Txn(ctx, txn)
			require.NoError(t, err)
			_, err = mk.Txn(ctx, txn)
			require.NoError(t, err)
		}
		for _, countOnly := range []bool{false, true} {
			opts := store.RangeOptions{After: after, Limit: limit, CountOnly: countOnly}
			ep, eerr := ek.Range(ctx, prefix, opts)
			mp, merr := mk.Range(ctx, prefix, opts)
			require.Equal(t, merr == nil, eerr == nil, "etcd: %v, memory: %v", eerr, merr)
			if eerr != nil {
				continue
			}
			require.Equal(t, pageKeys(mp), pageKeys(ep), "keys of %q after %q limit %d", prefix, after, limit)
			require.Equal(t, mp.Count, ep.Count, "count of %q after %q", prefix, after)
			if !countOnly {
				require.Equal(t, mp.More, ep.More, "more of %q after %q limit %d", prefix, after, limit)
			}
		}
	})
}

func pageKeys(p store.Page) []string {
	ks := make([]string, 0, len(p.KVs))
	for _, kv := range p.KVs {
		ks = append(ks, kv.Key+"="+string(kv.Value))
	}
	return ks
}
