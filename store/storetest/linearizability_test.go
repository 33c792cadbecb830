package storetest

import (
	"testing"

	"github.com/anishathalye/porcupine"
	"github.com/stretchr/testify/require"
)

// Hand-made histories pin what the model accepts and refuses, independent of
// any KV and of timing. Key 0 is "a", key 1 is "b"; the KV starts at revision 1.
func TestLinearizabilityModel(t *testing.T) {
	names := []string{"a", "b"}
	create := func(key int, value string) linInput {
		return linInput{Kind: linTxn, If: []linCompare{{Key: key}}, Then: []linWrite{{Key: key, Value: value}}}
	}
	update := func(key int, rev int64, value string) linInput {
		return linInput{Kind: linTxn, If: []linCompare{{Key: key, ModRevision: rev}}, Then: []linWrite{{Key: key, Value: value}}}
	}
	get := func(key int) linInput { return linInput{Kind: linGet, Key: key} }
	list := linInput{Kind: linList}
	found := func(rev int64, kvs ...linKV) linOutput {
		return linOutput{Revision: rev, KVs: kvs, Count: int64(len(kvs))}
	}
	a := func(value string, create, mod, version int64) linKV {
		return linKV{Key: 0, Value: value, CreateRevision: create, ModRevision: mod, Version: version}
	}
	wrote := func(rev int64) linOutput { return linOutput{Revision: rev} }
	conflict := linOutput{Conflict: true}
	unknown := linOutput{Unknown: true}
	op := func(client int, call, ret int64, in linInput, out linOutput) porcupine.Operation {
		return porcupine.Operation{ClientId: client, Call: call, Return: ret, Input: in, Output: out}
	}

	for _, tc := range []struct {
		name    string
		history []porcupine.Operation
		want    porcupine.CheckResult
	}{{
		name: "sequential create, update, read",
		history: []porcupine.Operation{
			op(0, 0, 1, create(0, "x"), wrote(2)),
			op(0, 2, 3, update(0, 2, "y"), wrote(3)),
			op(1, 4, 5, get(0), found(3, a("y", 2, 3, 2))),
			op(1, 6, 7, list, found(3, a("y", 2, 3, 2))),
		},
		want: porcupine.Ok,
	}, {
		name: "stale read after a completed write",
		history: []porcupine.Operation{
			op(0, 0, 1, create(0, "x"), wrote(2)),
			op(0, 2, 3, update(0, 2, "y"), wrote(3)),
			op(1, 4, 5, get(0), found(2, a("x", 2, 2, 1))),
		},
		want: porcupine.Illegal,
	}, {
		name: "stale revision of another key's write",
		history: []porcupine.Operation{
			op(0, 0, 1, create(0, "x"), wrote(2)),
			op(0, 2, 3, create(1, "z"), wrote(3)),
			op(1, 4, 5, get(0), found(2, a("x", 2, 2, 1))),
		},
		want: porcupine.Illegal,
	}, {
		name: "old value read concurrently with the write",
		history: []porcupine.Operation{
			op(0, 0, 1, create(0, "x"), wrote(2)),
			op(0, 2, 10, update(0, 2, "y"), wrote(3)),
			op(1, 4, 5, get(0), found(2, a("x", 2, 2, 1))),
			op(1, 6, 7, get(0), found(3, a("y", 2, 3, 2))),
		},
		want: porcupine.Ok,
	}, {
		name: "new value then old value",
		history: []porcupine.Operation{
			op(0, 0, 1, create(0, "x"), wrote(2)),
			op(0, 2, 10, update(0, 2, "y"), wrote(3)),
			op(1, 4, 5, get(0), found(3, a("y", 2, 3, 2))),
			op(1, 6, 7, get(0), found(2, a("x", 2, 2, 1))),
		},
		want: porcupine.Illegal,
	}, {
		name: "both of two concurrent updates from one revision succeed",
		history: []porcupine.Operation{
			op(0, 0, 1, create(0, "x"), wrote(2)),
			op(0, 2, 5, update(0, 2, "y"), wrote(3)),
			op(1, 2, 5, update(0, 2, "z"), wrote(4)),
		},
		want: porcupine.Illegal,
	}, {
		name: "one of two concurrent updates conflicts",
		history: []porcupine.Operation{
			op(0, 0, 1, create(0, "x"), wrote(2)),
			op(0, 2, 5, update(0, 2, "y"), conflict),
			op(1, 2, 5, update(0, 2, "z"), wrote(3)),
		},
		want: porcupine.Ok,
	}, {
		name: "conflict where the compare held",
		history: []porcupine.Operation{
			op(0, 0, 1, create(0, "x"), wrote(2)),
			op(0, 2, 3, update(0, 2, "y"), conflict),
		},
		want: porcupine.Illegal,
	}, {
		name: "a write returning a skipped revision",
		history: []porcupine.Operation{
			op(0, 0, 1, create(0, "x"), wrote(3)),
		},
		want: porcupine.Illegal,
	}, {
		name: "an unknown write seen later",
		history: []porcupine.Operation{
			op(0, 0, 1<<62, create(0, "x"), unknown),
			op(1, 5, 6, get(0), found(2, a("x", 2, 2, 1))),
		},
		want: porcupine.Ok,
	}, {
		name: "an unknown write never seen",
		history: []porcupine.Operation{
			op(0, 0, 1<<62, create(0, "x"), unknown),
			op(1, 5, 6, list, found(1)),
		},
		want: porcupine.Ok,
	}, {
		name: "a key read that was never written",
		history: []porcupine.Operation{
			op(1, 0, 1, list, found(1, linKV{Key: -1, Value: "?", CreateRevision: 1, ModRevision: 1, Version: 1})),
		},
		want: porcupine.Illegal,
	}, {
		name: "a delete, then the key read as absent",
		history: []porcupine.Operation{
			op(0, 0, 1, create(0, "x"), wrote(2)),
			op(0, 2, 3, linInput{Kind: linTxn, If: []linCompare{{Key: 0, ModRevision: 2}}, Then: []linWrite{{Key: 0, Delete: true}}}, wrote(3)),
			op(1, 4, 5, get(0), found(3)),
			op(1, 6, 7, create(0, "again"), wrote(4)),
			op(1, 8, 9, get(0), found(4, a("again", 4, 4, 1))),
		},
		want: porcupine.Ok,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got := porcupine.CheckOperations(linModel(len(names), 1, names), tc.history)
			require.Equal(t, tc.want == porcupine.Ok, got)
		})
	}
}
