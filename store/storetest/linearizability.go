package storetest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/gantry-sdk/gantry/store"
)

// LinearizabilityOptions shape a linearizability run. The zero value works.
type LinearizabilityOptions struct {
	// Clients is the number of concurrent clients; 0 means 4.
	Clients int
	// Keys is the number of keys they share; 0 means 3. Few keys, many conflicts.
	Keys int
	// Ops is the number of operations per client; 0 means 100.
	Ops int
	// Prefix is where the keys live; 0 means "linearizability/". No other key
	// may have it, and nothing else may write to the KV during the run: the
	// model predicts every revision.
	Prefix string
	// Seed makes the clients' choices repeatable; 0 picks one (reported).
	Seed uint64
	// CheckTimeout bounds the search for a linearization; 0 means 1 minute.
	CheckTimeout time.Duration
	// ClientKV, if set, gives the KV that client i uses: another client of
	// the same store (its own connection to a server, say). nil: every
	// client uses the KV given to the check.
	ClientKV func(client int) store.KV
}

func (o LinearizabilityOptions) withDefaults() LinearizabilityOptions {
	if o.Clients <= 0 {
		o.Clients = 4
	}
	if o.Keys <= 0 {
		o.Keys = 3
	}
	if o.Ops <= 0 {
		o.Ops = 100
	}
	if o.Prefix == "" {
		o.Prefix = "linearizability/"
	}
	if o.Seed == 0 {
		o.Seed = uint64(time.Now().UnixNano())
	}
	if o.CheckTimeout <= 0 {
		o.CheckTimeout = time.Minute
	}
	return o
}

// LinearizabilityReport is the outcome of CheckLinearizability.
type LinearizabilityReport struct {
	// Result is porcupine's verdict: Ok, Illegal (a violation), or Unknown
	// (the check ran out of time).
	Result porcupine.CheckResult
	// Seed reproduces the clients' choices (not the interleaving).
	Seed uint64
	// Operations is the recorded history; Conflicts and Unknown count its
	// writes that failed a compare and that failed without telling whether
	// they happened (which the check allows to have happened or not).
	Operations, Conflicts, Unknown int
	// Reads and Writes count the history's operations by kind.
	Reads, Writes int

	model porcupine.Model
	info  porcupine.LinearizationInfo
}

// Visualize writes porcupine's HTML view of the history (for an Illegal
// result: the longest linearizable prefixes and where they fail) to path.
func (r LinearizabilityReport) Visualize(path string) error {
	if err := porcupine.VisualizePath(r.model, r.info, path); err != nil {
		return fmt.Errorf("storetest: visualize: %w", err)
	}
	return nil
}

func (r LinearizabilityReport) String() string {
	return fmt.Sprintf("%s: %d operations (%d reads, %d writes, %d conflicts, %d unknown), seed %d",
		r.Result, r.Operations, r.Reads, r.Writes, r.Conflicts, r.Unknown, r.Seed)
}

// RunLinearizability runs CheckLinearizability on kv and fails t unless the
// history is linearizable. On a violation it writes the visualization to a
// file outside the test's temporary directory, so that it survives, and logs
// its path.
func RunLinearizability(t testing.TB, kv store.KV, opts LinearizabilityOptions) LinearizabilityReport {
	t.Helper()
	report, err := CheckLinearizability(t.Context(), kv, opts)
	if err != nil {
		t.Fatalf("linearizability run: %v", err)
	}
	t.Logf("linearizability: %v", report)
	if report.Result != porcupine.Ok {
		path := filepath.Join(os.TempDir(), fmt.Sprintf("linearizability-%s-%d.html",
			strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()), report.Seed))
		if err := report.Visualize(path); err != nil {
			t.Logf("%v", err)
		} else {
			t.Logf("history visualized in %s", path)
		}
		t.Fatalf("history is not linearizable: %v", report)
	}
	return report
}

// CheckLinearizability runs opts.Clients concurrent clients against kv, each
// doing opts.Ops random operations on opts.Keys shared keys: creates (a Txn
// comparing ModRevision 0), updates and deletes (a Txn comparing the mod
// revision the client last saw, so some are stale and must conflict),
// two-key swaps, gets (a Range of one key) and lists (a Range of them all).
// It records each operation's call and return time and checks the history
// with porcupine against a sequential model of store.KV that includes
// revisions: every read must see the revision of the last write before it,
// so a stale read is a violation even when the value happens to match.
//
// An error means the run could not be made (the prefix is not empty, ctx
// ended); a violation is reported in the result, not as an error.
func CheckLinearizability(ctx context.Context, kv store.KV, opts LinearizabilityOptions) (LinearizabilityReport, error) {
	opts = opts.withDefaults()
	names := make([]string, opts.Keys)
	for i := range names {
		// Same-length names: a Range of one key's name matches only that key.
		names[i] = fmt.Sprintf("%sk%04d", opts.Prefix, i)
	}
	initial, err := kv.Range(ctx, opts.Prefix, store.RangeOptions{})
	if err != nil {
		return LinearizabilityReport{}, fmt.Errorf("storetest: linearizability: initial range: %w", err)
	}
	if len(initial.KVs) > 0 {
		return LinearizabilityReport{}, fmt.Errorf("storetest: linearizability: prefix %q holds %d keys, want none",
			opts.Prefix, len(initial.KVs))
	}

	start := time.Now()
	histories := make([][]porcupine.Operation, opts.Clients)
	var wg sync.WaitGroup
	for c := range opts.Clients {
		wg.Go(func() {
			ckv := kv
			if opts.ClientKV != nil {
				ckv = opts.ClientKV(c)
			}
			cl := &linClient{
				id: c, kv: ckv, names: names, prefix: opts.Prefix, start: start,
				rand:  rand.New(rand.NewPCG(opts.Seed, uint64(c))),
				known: make([]int64, opts.Keys),
			}
			for range opts.Ops {
				if ctx.Err() != nil {
					return
				}
				histories[c] = append(histories[c], cl.step(ctx))
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return LinearizabilityReport{}, fmt.Errorf("storetest: linearizability: run: %w", err)
	}

	report := LinearizabilityReport{Seed: opts.Seed}
	var history []porcupine.Operation
	for _, h := range histories {
		history = append(history, h...)
	}
	sort.Slice(history, func(i, j int) bool { return history[i].Call < history[j].Call })
	for _, op := range history {
		in, out := op.Input.(linInput), op.Output.(linOutput)
		if in.Kind == linTxn {
			report.Writes++
		} else {
			report.Reads++
		}
		if out.Conflict {
			report.Conflicts++
		}
		if out.Unknown {
			report.Unknown++
		}
	}
	report.Operations = len(history)
	report.model = linModel(opts.Keys, initial.Revision, names)
	report.Result, report.info = porcupine.CheckOperationsVerbose(report.model, history, opts.CheckTimeout)
	return report, nil
}

// linClient is one client of a run: its choices and what it last saw.
type linClient struct {
	id     int
	kv     store.KV
	names  []string
	prefix string
	start  time.Time
	rand   *rand.Rand
	known  []int64 // the mod revision of each key as this client last saw it (0: absent)
	writes int
}

func (c *linClient) now() int64 { return int64(time.Since(c.start)) }

func (c *linClient) step(ctx context.Context) porcupine.Operation {
	in := c.choose()
	op := porcupine.Operation{ClientId: c.id, Input: in}
	op.Call = c.now()
	out := c.do(ctx, in)
	op.Return = c.now()
	if out.Unknown && in.Kind == linTxn {
		// It may take effect at any time after its call.
		op.Return = math.MaxInt64
	}
	op.Output = out
	c.learn(in, out)
	return op
}

// choose picks the next operation: reads half the time, writes that use
// what this client last saw of the keys, which may be stale by now.
func (c *linClient) choose() linInput {
	key := c.rand.IntN(len(c.names))
	name := c.names[key]
	p := c.rand.IntN(100)
	switch {
	case p < 35:
		return linInput{Kind: linGet, Key: key, Descr: "get " + name}
	case p < 45:
		return linInput{Kind: linList, Descr: "list"}
	}
	c.writes++
	value := fmt.Sprintf("c%d.%d", c.id, c.writes)
	known := c.known[key]
	switch {
	case p < 60 || known == 0 && p < 85:
		return linInput{Kind: linTxn, If: []linCompare{{Key: key}},
			Then:  []linWrite{{Key: key, Value: value}},
			Descr: fmt.Sprintf("create %s=%s", name, value)}
	case p < 80:
		return linInput{Kind: linTxn, If: []linCompare{{Key: key, ModRevision: known}},
			Then:  []linWrite{{Key: key, Value: value}},
			Descr: fmt.Sprintf("update %s=%s if m%d", name, value, known)}
	case p < 90 && known != 0:
		return linInput{Kind: linTxn, If: []linCompare{{Key: key, ModRevision: known}},
			Then:  []linWrite{{Key: key, Delete: true}},
			Descr: fmt.Sprintf("delete %s if m%d", name, known)}
	}
	if len(c.names) == 1 {
		return linInput{Kind: linTxn, Then: []linWrite{{Key: key, Value: value}},
			Descr: fmt.Sprintf("put %s=%s", name, value)}
	}
	// Two keys at once, each guarded by what this client last saw.
	other := (key + 1 + c.rand.IntN(len(c.names)-1)) % len(c.names)
	return linInput{Kind: linTxn,
		If:    []linCompare{{Key: key, ModRevision: known}, {Key: other, ModRevision: c.known[other]}},
		Then:  []linWrite{{Key: key, Value: value + "a"}, {Key: other, Value: value + "b"}},
		Descr: fmt.Sprintf("put %s=%sa %s=%sb if m%d m%d", name, value, c.names[other], value, known, c.known[other])}
}

func (c *linClient) do(ctx context.Context, in linInput) linOutput {
	switch in.Kind {
	case linGet, linList:
		prefix := c.prefix
		if in.Kind == linGet {
			prefix = c.names[in.Key]
		}
		page, err := c.kv.Range(ctx, prefix, store.RangeOptions{})
		if err != nil {
			return linOutput{Unknown: true}
		}
		out := linOutput{Revision: page.Revision, Count: page.Count}
		for _, kv := range page.KVs {
			key := c.index(kv.Key)
			out.KVs = append(out.KVs, linKV{Key: key, Value: string(kv.Value),
				CreateRevision: kv.CreateRevision, ModRevision: kv.ModRevision, Version: kv.Version})
		}
		return out
	}
	txn := store.Txn{}
	for _, cmp := range in.If {
		txn.If = append(txn.If, store.Compare{Key: c.names[cmp.Key], ModRevision: cmp.ModRevision})
	}
	for _, w := range in.Then {
		if w.Delete {
			txn.Then = append(txn.Then, store.Delete(c.names[w.Key]))
		} else {
			txn.Then = append(txn.Then, store.Put(c.names[w.Key], []byte(w.Value)))
		}
	}
	rev, err := c.kv.Txn(ctx, txn)
	switch {
	case errors.Is(err, store.ErrConflict):
		return linOutput{Conflict: true}
	case err != nil:
		return linOutput{Unknown: true}
	}
	return linOutput{Revision: rev}
}

// index maps a key name back to its number; a key the harness never wrote
// gets -1, which no state holds, so the read is a violation.
func (c *linClient) index(name string) int {
	for i, n := range c.names {
		if n == name {
			return i
		}
	}
	return -1
}

// learn updates what the client knows of the keys' mod revisions.
func (c *linClient) learn(in linInput, out linOutput) {
	if out.Unknown {
		return
	}
	switch in.Kind {
	case linGet:
		c.known[in.Key] = 0
		for _, kv := range out.KVs {
			if kv.Key >= 0 {
				c.known[kv.Key] = kv.ModRevision
			}
		}
	case linList:
		clear(c.known)
		for _, kv := range out.KVs {
			if kv.Key >= 0 {
				c.known[kv.Key] = kv.ModRevision
			}
		}
	case linTxn:
		if out.Conflict {
			return
		}
		for _, w := range in.Then {
			if w.Delete {
				c.known[w.Key] = 0
			} else {
				c.known[w.Key] = out.Revision
			}
		}
	}
}
