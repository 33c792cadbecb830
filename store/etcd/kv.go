package etcd

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/gantry-sdk/gantry/store"
)

// ErrNilClient: New was given no client. Every other error wraps a store
// sentinel where the contract has one (bad input is store.ErrInvalid,
// refused before it is sent).
var ErrNilClient = errors.New("etcd: nil client")

// Options tune a KV. The zero value works: keys are used as they are.
type Options struct {
	// Prefix is prepended to every key written to etcd and stripped from every
	// key read back, so that several stores can share one etcd cluster
	// (e.g. "/gantry/"). Revisions and Compact stay global to the cluster.
	Prefix string
}

// KV is a store.KV on an etcd cluster. It is safe for concurrent use and
// holds no state besides the client, so any number of KVs may share one.
type KV struct {
	client *clientv3.Client
	prefix string
}

var _ store.KV = (*KV)(nil)

// New returns a KV that reads and writes through client. The caller keeps
// ownership of the client and closes it after the KV's last use.
func New(client *clientv3.Client, opts Options) (*KV, error) {
	if client == nil {
		return nil, ErrNilClient
	}
	return &KV{client: client, prefix: opts.Prefix}, nil
}

// keyRange returns etcd's [key, end) for every key with the given prefix.
func (kv *KV) keyRange(prefix string) (key, end string) {
	full := kv.prefix + prefix
	if full == "" {
		// etcd has no empty key: "\x00" to "\x00" means every key.
		return "\x00", "\x00"
	}
	return full, clientv3.GetPrefixRangeEnd(full)
}

// Range implements store.KV.
func (kv *KV) Range(ctx context.Context, prefix string, opts store.RangeOptions) (store.Page, error) {
	if opts.Revision < 0 || opts.Limit < 0 {
		return store.Page{}, fmt.Errorf("etcd: range %q: negative revision %d or limit %d: %w",
			prefix, opts.Revision, opts.Limit, store.ErrInvalid)
	}
	if err := kv.closed("range %q", prefix); err != nil {
		return store.Page{}, err
	}
	key, end := kv.keyRange(prefix)
	if opts.After != "" {
		// The smallest key after After: After followed by a zero byte.
		if start := kv.prefix + opts.After + "\x00"; start > key {
			key = start
		}
	}
	ops := []clientv3.OpOption{clientv3.WithRange(end)}
	if opts.Revision > 0 {
		ops = append(ops, clientv3.WithRev(opts.Revision))
	}
	if opts.Limit > 0 {
		ops = append(ops, clientv3.WithLimit(opts.Limit))
	}
	if opts.CountOnly {
		ops = append(ops, clientv3.WithCountOnly())
	}
	resp, err := kv.client.Get(ctx, key, ops...)
	if err != nil {
		return store.Page{}, kv.translate(err, "range %q at revision %d", prefix, opts.Revision)
	}
	page := store.Page{
		Revision: resp.Header.Revision,
		More:     resp.More,
		Count:    resp.Count,
	}
	// etcd's header carries the current revision even for a read in the
	// past; the page reports the revision it was read at.
	if opts.Revision > 0 {
		page.Revision = opts.Revision
	}
	if len(resp.Kvs) > 0 {
		page.KVs = make([]store.KeyValue, len(resp.Kvs))
		for i, e := range resp.Kvs {
			page.KVs[i] = kv.keyValue(e)
		}
	}
	return page, nil
}

// Txn implements store.KV. A failed compare is reported as store.ErrConflict
// naming the first compare that does not hold, found from the keys' current
// revisions, which the same etcd transaction reads on its else branch.
func (kv *KV) Txn(ctx context.Context, txn store.Txn) (int64, error) {
	if err := validate(txn); err != nil {
		return 0, err
	}
	if err := kv.closed("txn of %d ops", len(txn.Then)); err != nil {
		return 0, err
	}
	cmps := make([]clientv3.Cmp, len(txn.If))
	orElse := make([]clientv3.Op, len(txn.If))
	for i, c := range txn.If {
		key := kv.prefix + c.Key
		if c.ModRevision == 0 {
			cmps[i] = clientv3.Compare(clientv3.CreateRevision(key), "=", 0)
		} else {
			cmps[i] = clientv3.Compare(clientv3.ModRevision(key), "=", c.ModRevision)
		}
		orElse[i] = clientv3.OpGet(key, clientv3.WithKeysOnly())
	}
	then := make([]clientv3.Op, len(txn.Then))
	for i, op := range txn.Then {
		key := kv.prefix + op.Key
		if op.Type == store.OpPut {
			then[i] = clientv3.OpPut(key, string(op.Value))
		} else {
			then[i] = clientv3.OpDelete(key)
		}
	}
	resp, err := kv.client.Txn(ctx).If(cmps...).Then(then...).Else(orElse...).Commit()
	if err != nil {
		return 0, kv.translate(err, "txn of %d ops", len(txn.Then))
	}
	if resp.Succeeded {
		return resp.Header.Revision, nil
	}
	for i, c := range txn.If {
		var have int64
		if r := resp.Responses[i].GetResponseRange(); r != nil && len(r.Kvs) > 0 {
			have = r.Kvs[0].ModRevision
		}
		if have != c.ModRevision {
			if c.ModRevision == 0 {
				return 0, fmt.Errorf("etcd: txn: key %q exists (mod revision %d): %w", c.Key, have, store.ErrConflict)
			}
			return 0, fmt.Errorf("etcd: txn: key %q has mod revision %d, want %d: %w", c.Key, have, c.ModRevision, store.ErrConflict)
		}
	}
	// Unreachable unless etcd and this reading disagree; still a conflict.
	return 0, fmt.Errorf("etcd: txn: compares failed at revision %d: %w", resp.Header.Revision, store.ErrConflict)
}

// validate refuses, before anything is sent, what the contract calls bad
// input: etcd would take an empty key under a non-empty prefix, and would
// reject the rest with errors of its own.
func validate(txn store.Txn) error {
	for i, c := range txn.If {
		if c.Key == "" {
			return fmt.Errorf("etcd: txn compare %d: empty key: %w", i, store.ErrInvalid)
		}
		if c.ModRevision < 0 {
			return fmt.Errorf("etcd: txn compare %d on %q: negative mod revision %d: %w", i, c.Key, c.ModRevision, store.ErrInvalid)
		}
	}
	for i, op := range txn.Then {
		if op.Key == "" {
			return fmt.Errorf("etcd: txn op %d: empty key: %w", i, store.ErrInvalid)
		}
		if op.Type != store.OpPut && op.Type != store.OpDelete {
			return fmt.Errorf("etcd: txn op %d on %q: unknown op type %d: %w", i, op.Key, op.Type, store.ErrInvalid)
		}
		// Quadratic, but transactions are a handful of ops; etcd caps them at 128.
		for _, before := range txn.Then[:i] {
			if before.Key == op.Key {
				return fmt.Errorf("etcd: txn op %d: key %q written twice: %w", i, op.Key, store.ErrInvalid)
			}
		}
	}
	return nil
}

// Watch implements store.KV. It asks etcd for the previous value of every
// change and, with opts.ProgressNotify, for etcd's periodic progress
// notifications (their period is the server's --watch-progress-notify-interval).
// etcd sends those only once the store has reached opts.FromRevision, so a
// watch from a revision still to come sees progress only after it happens.
// A watch from the next revision waits for it; one from further ahead
// fails with store.ErrFutureRevision. The watch requires a leader, so that a member cut off from its cluster
// ends its watches with an error instead of going quiet.
func (kv *KV) Watch(ctx context.Context, prefix string, opts store.KVWatchOptions) iter.Seq2[store.Event, error] {
	return func(yield func(store.Event, error) bool) {
		if opts.FromRevision < 0 {
			yield(store.Event{}, fmt.Errorf("etcd: watch %q: negative revision %d: %w", prefix, opts.FromRevision, store.ErrInvalid))
			return
		}
		if err := kv.closed("watch %q", prefix); err != nil {
			yield(store.Event{}, err)
			return
		}
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		key, end := kv.keyRange(prefix)
		if opts.FromRevision > 0 {
			// etcd would wait for any future revision; the contract refuses
			// one beyond the next, as Range does (a client ahead of the store
			// has read from another one).
			resp, err := kv.client.Get(ctx, key, clientv3.WithCountOnly(), clientv3.WithLimit(1))
			if err != nil {
				if ctx.Err() == nil {
					yield(store.Event{}, kv.translate(err, "watch %q from revision %d", prefix, opts.FromRevision))
				}
				return
			}
			if current := resp.Header.Revision; opts.FromRevision > current+1 {
				yield(store.Event{}, fmt.Errorf("etcd: watch %q from revision %d, current is %d: %w",
					prefix, opts.FromRevision, current, store.ErrFutureRevision))
				return
			}
		}
		wopts := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithPrevKV()}
		if opts.FromRevision > 0 {
			wopts = append(wopts, clientv3.WithRev(opts.FromRevision))
		}
		if opts.ProgressNotify {
			wopts = append(wopts, clientv3.WithProgressNotify())
		}
		for wr := range kv.client.Watch(clientv3.WithRequireLeader(ctx), key, wopts...) {
			if wr.CompactRevision != 0 {
				yield(store.Event{}, fmt.Errorf("etcd: watch %q from revision %d: compacted up to %d: %w",
					prefix, opts.FromRevision, wr.CompactRevision, store.ErrCompacted))
				return
			}
			if err := wr.Err(); err != nil {
				if ctx.Err() == nil {
					yield(store.Event{}, kv.translate(err, "watch %q", prefix))
				}
				return
			}
			if wr.IsProgressNotify() {
				if !yield(store.Event{Type: store.EventProgress, Revision: wr.Header.Revision}, nil) {
					return
				}
				continue
			}
			for _, e := range wr.Events {
				if !yield(kv.event(e), nil) {
					return
				}
			}
		}
		// The channel closes when ctx ends (a normal end) or the client closes.
		if ctx.Err() == nil {
			yield(store.Event{}, fmt.Errorf("etcd: watch %q ended: %w", prefix, store.ErrClosed))
		}
	}
}

// Compact implements store.KV. It compacts the whole etcd keyspace, not only
// this KV's prefix: etcd keeps one history for all keys.
func (kv *KV) Compact(ctx context.Context, rev int64) error {
	if rev <= 0 {
		return fmt.Errorf("etcd: compact at revision %d: must be positive: %w", rev, store.ErrInvalid)
	}
	if err := kv.closed("compact at revision %d", rev); err != nil {
		return err
	}
	if _, err := kv.client.Compact(ctx, rev); err != nil {
		return kv.translate(err, "compact at revision %d", rev)
	}
	return nil
}

func (kv *KV) event(e *clientv3.Event) store.Event {
	ev := store.Event{KV: kv.keyValue(e.Kv), Revision: e.Kv.ModRevision}
	switch e.Type {
	case mvccpb.PUT:
		ev.Type = store.EventPut
	case mvccpb.DELETE:
		ev.Type = store.EventDelete
		ev.KV.Value = nil
	}
	if e.PrevKv != nil {
		prev := kv.keyValue(e.PrevKv)
		ev.Prev = &prev
	}
	return ev
}

func (kv *KV) keyValue(e *mvccpb.KeyValue) store.KeyValue {
	return store.KeyValue{
		// Every key read comes from this KV's range, so it has the prefix.
		Key:            strings.TrimPrefix(string(e.Key), kv.prefix),
		Value:          e.Value,
		CreateRevision: e.CreateRevision,
		ModRevision:    e.ModRevision,
		Version:        e.Version,
	}
}

// closed returns store.ErrClosed once the client is closed: the client
// itself would retry against its closing connection for seconds first.
func (kv *KV) closed(format string, args ...any) error {
	if kv.client.Ctx().Err() == nil {
		return nil
	}
	return fmt.Errorf("etcd: %s: client closed: %w", fmt.Sprintf(format, args...), store.ErrClosed)
}

// translate wraps an etcd client error with what was being done and, where
// the contract has one, the store sentinel for its cause.
func (kv *KV) translate(err error, format string, args ...any) error {
	what := fmt.Sprintf(format, args...)
	var sentinel error
	switch {
	case errors.Is(err, rpctypes.ErrCompacted):
		sentinel = store.ErrCompacted
	case errors.Is(err, rpctypes.ErrFutureRev):
		sentinel = store.ErrFutureRevision
	case errors.Is(err, rpctypes.ErrRequestTooLarge), isClientTooLarge(err):
		sentinel = store.ErrTooLarge
	case kv.client.Ctx().Err() != nil:
		sentinel = store.ErrClosed
	}
	if sentinel != nil {
		return fmt.Errorf("etcd: %s: %w: %w", what, sentinel, err)
	}
	return fmt.Errorf("etcd: %s: %w", what, err)
}

// isClientTooLarge reports gRPC's own refusal to send a message above the
// client's limit. etcd reports other ResourceExhausted causes (no space, too
// many requests) as its own errors, which are not a size problem.
func isClientTooLarge(err error) bool {
	var etcdErr rpctypes.EtcdError
	return status.Code(err) == codes.ResourceExhausted && !errors.As(err, &etcdErr)
}
