package leader

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-logr/logr"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/coordination"
	"github.com/gantry-sdk/gantry/reconcile"
	"github.com/gantry-sdk/gantry/store"
)

// The defaults of Options, as Kubernetes' components use.
const (
	DefaultLeaseDuration = 15 * time.Second
	DefaultRenewDeadline = 10 * time.Second
	DefaultRetryPeriod   = 2 * time.Second
)

// ErrInvalidOptions: the durations cannot work together.
var ErrInvalidOptions = errors.New("leader: invalid options")

// Callbacks are told of leadership changes. OnStartedLeading is required.
type Callbacks struct {
	// OnStartedLeading runs the leader's work in its own goroutine; ctx is
	// cancelled as soon as leadership is lost or the elector stops.
	OnStartedLeading func(ctx context.Context)
	// OnStoppedLeading runs after leadership ends, once OnStartedLeading returned.
	OnStoppedLeading func()
	// OnNewLeader is told of every new holder observed, this one included.
	OnNewLeader func(identity string)
}

// Options tune an Elector. The zero value works: Kubernetes' defaults.
type Options struct {
	// LeaseDuration is how long a lease holds without renewal; others take
	// it over only after it has gone unrenewed this long (by their clock).
	LeaseDuration time.Duration
	// RenewDeadline is how long the leader keeps trying to renew before it
	// gives up leadership; less than LeaseDuration, so that it stops before
	// anyone else can start.
	RenewDeadline time.Duration
	// RetryPeriod is the wait between attempts to acquire or renew.
	RetryPeriod time.Duration
	// ReleaseOnCancel gives the lease up when ctx ends, so a successor
	// need not wait for it to expire.
	ReleaseOnCancel bool
	Clock           reconcile.Clock
	Logger          logr.Logger
	Metrics         *reconcile.Metrics
}

// Elector campaigns for a Lease object and runs callbacks while it holds it.
type Elector struct {
	leases   store.Typed[*coordination.Lease]
	key      apis.Key
	identity string
	cb       Callbacks
	opts     Options
	clock    reconcile.Clock
	log      logr.Logger

	mu           sync.Mutex
	observed     *coordination.Lease // the last lease record read or written
	observedTime time.Time           // when observed last changed, by our clock
	leading      bool
}

// New returns an elector for the Lease at key, campaigning as identity.
func New(s store.Store, key apis.Key, identity string, cb Callbacks, opts Options) (*Elector, error) {
	if opts.LeaseDuration == 0 {
		opts.LeaseDuration = DefaultLeaseDuration
	}
	if opts.RenewDeadline == 0 {
		opts.RenewDeadline = DefaultRenewDeadline
	}
	if opts.RetryPeriod == 0 {
		opts.RetryPeriod = DefaultRetryPeriod
	}
	switch {
	case identity == "":
		return nil, fmt.Errorf("%w: empty identity", ErrInvalidOptions)
	case cb.OnStartedLeading == nil:
		return nil, fmt.Errorf("%w: OnStartedLeading is required", ErrInvalidOptions)
	case opts.RenewDeadline >= opts.LeaseDuration:
		return nil, fmt.Errorf("%w: RenewDeadline %v must be less than LeaseDuration %v", ErrInvalidOptions, opts.RenewDeadline, opts.LeaseDuration)
	case opts.RetryPeriod <= 0 || opts.RetryPeriod >= opts.RenewDeadline:
		return nil, fmt.Errorf("%w: RetryPeriod %v must be positive and less than RenewDeadline %v", ErrInvalidOptions, opts.RetryPeriod, opts.RenewDeadline)
	}
	log := opts.Logger
	if log.GetSink() == nil {
		log = logr.Discard()
	}
	clock := opts.Clock
	if clock == nil {
		clock = reconcile.RealClock()
	}
	return &Elector{
		leases: store.For[*coordination.Lease](s), key: key, identity: identity, cb: cb, opts: opts,
		clock: clock, log: log.WithValues("lease", key.String(), "identity", identity),
	}, nil
}

// IsLeader reports whether this elector holds the lease now.
func (e *Elector) IsLeader() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.leading
}

// Leader returns the holder last observed ("" if none).
func (e *Elector) Leader() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.observed == nil || e.observed.Spec.HolderIdentity == nil {
		return ""
	}
	return *e.observed.Spec.HolderIdentity
}

// Run campaigns until it acquires the lease or ctx ends, then leads until
// it fails to renew within RenewDeadline or ctx ends. It returns after
// OnStoppedLeading; to campaign again, call Run again.
func (e *Elector) Run(ctx context.Context) error {
	e.opts.Metrics.SetLeader(e.key.String(), false)
	var fence *store.Fence
	for {
		if e.tryAcquireOrRenew(ctx) {
			if fence = e.writeFence(ctx); fence != nil {
				break
			}
		}
		if err := e.sleep(ctx, e.opts.RetryPeriod); err != nil {
			return nil
		}
	}
	e.log.Info("Acquired lease", "fence", fence.ResourceVersion)
	leaderCtx, cancel := context.WithCancel(context.WithValue(ctx, fenceKey{}, fence))
	e.mu.Lock()
	e.leading = true
	e.mu.Unlock()
	e.opts.Metrics.SetLeader(e.key.String(), true)
	work := make(chan struct{})
	go func() {
		defer close(work)
		e.cb.OnStartedLeading(leaderCtx)
	}()

	lastRenew := e.clock.Now()
	for {
		if err := e.sleep(ctx, e.opts.RetryPeriod); err != nil {
			break
		}
		if e.tryAcquireOrRenew(ctx) {
			lastRenew = e.clock.Now()
			continue
		}
		if e.Leader() != e.identity {
			e.log.Info("Lease taken over by another holder", "holder", e.Leader())
			break
		}
		if e.clock.Now().Sub(lastRenew) >= e.opts.RenewDeadline {
			e.log.Info("Failed to renew lease within the deadline", "deadline", e.opts.RenewDeadline)
			break
		}
	}
	// Stop the work first: a deposed leader must not act once another may.
	cancel()
	e.mu.Lock()
	e.leading = false
	e.mu.Unlock()
	e.opts.Metrics.SetLeader(e.key.String(), false)
	<-work
	if e.opts.ReleaseOnCancel && ctx.Err() != nil {
		e.release()
	}
	if e.cb.OnStoppedLeading != nil {
		e.cb.OnStoppedLeading()
	}
	return nil
}

// sleep waits d on the elector's clock, or until ctx ends.
func (e *Elector) sleep(ctx context.Context, d time.Duration) error {
	ch := make(chan struct{})
	t := e.clock.AfterFunc(d, func() { close(ch) })
	defer t.Stop()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// tryAcquireOrRenew makes one attempt to take or keep the lease.
func (e *Elector) tryAcquireOrRenew(ctx context.Context) bool {
	now := e.clock.Now()
	cur, err := e.leases.Get(ctx, e.key, store.GetOptions{})
	if errors.Is(err, store.ErrNotFound) {
		l := e.record(nil, now)
		created, err := e.leases.Create(ctx, l, store.WriteOptions{})
		if err != nil {
			e.log.V(1).Info("Failed to create lease", "error", err.Error())
			return false
		}
		e.observe(created, now)
		return true
	}
	if err != nil {
		e.log.V(1).Info("Failed to read lease", "error", err.Error())
		return false
	}
	e.observe(cur, now)
	holder := ""
	if cur.Spec.HolderIdentity != nil {
		holder = *cur.Spec.HolderIdentity
	}
	if holder != "" && holder != e.identity && !e.expired(now) {
		return false // held by another, and not yet expired
	}
	upd, err := e.leases.Update(ctx, e.record(cur, now), store.WriteOptions{})
	if err != nil {
		e.log.V(1).Info("Failed to update lease", "error", err.Error())
		return false
	}
	e.observe(upd, now)
	return true
}

// expired reports whether the observed lease has gone unrenewed for its
// duration, measured by our clock since we saw it change (no trust in the
// holder's clock).
func (e *Elector) expired(now time.Time) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	d := e.opts.LeaseDuration
	if e.observed.Spec.LeaseDurationSeconds != nil {
		d = time.Duration(*e.observed.Spec.LeaseDurationSeconds) * time.Second
	}
	return !now.Before(e.observedTime.Add(d))
}

// observe records l; observedTime moves only when the record changed.
func (e *Elector) observe(l *coordination.Lease, now time.Time) {
	e.mu.Lock()
	changed := e.observed == nil || e.observed.ResourceVersion != l.ResourceVersion
	prevHolder := ""
	if e.observed != nil && e.observed.Spec.HolderIdentity != nil {
		prevHolder = *e.observed.Spec.HolderIdentity
	}
	if changed {
		e.observed, e.observedTime = l, now
	}
	e.mu.Unlock()
	holder := ""
	if l.Spec.HolderIdentity != nil {
		holder = *l.Spec.HolderIdentity
	}
	if holder != prevHolder && holder != "" && e.cb.OnNewLeader != nil {
		e.cb.OnNewLeader(holder)
	}
}

// record returns the lease as this elector writes it, from cur (nil to create).
func (e *Elector) record(cur *coordination.Lease, now time.Time) *coordination.Lease {
	l := &coordination.Lease{ObjectMeta: apis.ObjectMeta{Namespace: e.key.Namespace, Name: e.key.Name}}
	if cur != nil {
		c := *cur
		l = &c
	}
	id := e.identity
	secs := int32(e.opts.LeaseDuration / time.Second)
	renew := apis.MicroTime{Time: now}
	if l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity != id {
		acquire := renew
		l.Spec.AcquireTime = &acquire
		if l.Spec.HolderIdentity != nil && *l.Spec.HolderIdentity != "" {
			n := int32(1)
			if l.Spec.LeaseTransitions != nil {
				n = *l.Spec.LeaseTransitions + 1
			}
			l.Spec.LeaseTransitions = &n
		}
	}
	l.Spec.HolderIdentity = &id
	l.Spec.LeaseDurationSeconds = &secs
	l.Spec.RenewTime = &renew
	return l
}

// release empties the holder so that a successor need not wait for expiry.
func (e *Elector) release() {
	e.mu.Lock()
	cur := e.observed
	e.mu.Unlock()
	if cur == nil || cur.Spec.HolderIdentity == nil || *cur.Spec.HolderIdentity != e.identity {
		return
	}
	l := *cur
	empty := ""
	l.Spec.HolderIdentity = &empty
	// The elector's ctx has ended: release with a short context of its own.
	ctx, cancel := context.WithTimeout(context.Background(), e.opts.RetryPeriod)
	defer cancel()
	if _, err := e.leases.Update(ctx, &l, store.WriteOptions{}); err != nil {
		e.log.Info("Failed to release lease", "error", err.Error())
	}
}

// fenceKey is the context key of the leader's fence.
type fenceKey struct{}

// FenceFrom returns the fence of the leadership whose work runs with ctx (the
// ctx given to OnStartedLeading, or one derived from it), or nil outside one.
// Writes made on the leader's behalf carry it, so that the store rejects them
// (store.ErrFenced) once another leader has taken over:
//
//	_, err := s.Update(ctx, obj, store.WriteOptions{Fence: leader.FenceFrom(ctx)})
func FenceFrom(ctx context.Context) *store.Fence {
	f, _ := ctx.Value(fenceKey{}).(*store.Fence)
	return f
}

// FenceKey is the key of the Lease that fences the leader of the Lease at
// key: "<name>-fence" beside it. It is written only when leadership changes,
// unlike the lease, which every renewal rewrites.
func FenceKey(key apis.Key) apis.Key {
	return apis.Key{Namespace: key.Namespace, Name: key.Name + "-fence"}
}

// writeFence writes the fence Lease anew, right after the lease was
// acquired and before any work starts, and returns the fence it makes; nil
// if the write failed. The write is itself fenced by the lease record just
// acquired: if the lease changed hands meanwhile, a late fence write of ours
// cannot fence out the leader that took over.
func (e *Elector) writeFence(ctx context.Context) *store.Fence {
	e.mu.Lock()
	acquired := e.observed
	e.mu.Unlock()
	leaseGVK := coordination.GroupVersion.WithKind("Lease")
	opts := store.WriteOptions{Fence: &store.Fence{GVK: leaseGVK, Key: e.key, ResourceVersion: acquired.ResourceVersion}}
	key := FenceKey(e.key)
	id := e.identity
	now := apis.MicroTime{Time: e.clock.Now()}
	cur, err := e.leases.Get(ctx, key, store.GetOptions{})
	var written *coordination.Lease
	switch {
	case errors.Is(err, store.ErrNotFound):
		n := int32(0)
		written, err = e.leases.Create(ctx, &coordination.Lease{
			ObjectMeta: apis.ObjectMeta{Namespace: key.Namespace, Name: key.Name},
			Spec:       coordination.LeaseSpec{HolderIdentity: &id, AcquireTime: &now, LeaseTransitions: &n},
		}, opts)
	case err == nil:
		// The transition count changes on every write, so that the write
		// is never a no-op that would leave the previous fence valid.
		n := int32(1)
		if cur.Spec.LeaseTransitions != nil {
			n = *cur.Spec.LeaseTransitions + 1
		}
		cur.ResourceVersion = "" // unconditional: only the lease fence matters
		cur.Spec.HolderIdentity, cur.Spec.AcquireTime, cur.Spec.LeaseTransitions = &id, &now, &n
		written, err = e.leases.Update(ctx, cur, opts)
	}
	if err != nil {
		e.log.V(1).Info("Failed to write the fence", "error", err.Error())
		return nil
	}
	return &store.Fence{GVK: leaseGVK, Key: key, ResourceVersion: written.ResourceVersion}
}
