package scheduler

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/apis/policy"
	"github.com/gantry-sdk/gantry/informer"
	"github.com/gantry-sdk/gantry/reconcile"
	"github.com/gantry-sdk/gantry/reconcile/leader"
	"github.com/gantry-sdk/gantry/store"
)

// Options tune a Scheduler. The zero value works: one profile,
// "default-scheduler", with DefaultPlugins.
type Options struct {
	// Profiles; nil means the default profile only.
	Profiles []ProfileConfig
	// Registry adds user plugins to DefaultRegistry (and DefaultBinder).
	Registry Registry
	// Seed seeds the tie-breaking among equally scored nodes.
	Seed uint64
	// Parallelism bounds the goroutines filtering and scoring; 0 is GOMAXPROCS.
	Parallelism int
	// BindConcurrency bounds the bindings (and failure reports) in flight; 0 is 32.
	BindConcurrency int
	// AssumedPodTTL: see NewCache (30 s).
	AssumedPodTTL time.Duration
	// Queue tunes the scheduling queue (its Clock defaults to Clock).
	Queue QueueOptions
	// Clock drives the periodic flushes; nil is the wall clock.
	Clock reconcile.Clock
	// FlushInterval is how often backoff-completed pods are moved back to
	// activeQ (1 s); every 30th flush also retries long-unschedulable pods
	// and expires assumed pods.
	FlushInterval time.Duration
	// Component names the scheduler in events ("default-scheduler");
	// Identity is the instance (reportingInstance).
	Component, Identity string
	// LeaderElection, when set, makes Run campaign for a Lease and schedule
	// only while leading (kube-scheduler's --leader-elect). Bindings, status
	// updates and evictions carry the leader's fence, so the store refuses
	// those still in flight once another replica has taken over.
	LeaderElection *LeaderElection
	// DisableEvents skips writing Event objects.
	DisableEvents bool
	// EventQueueSize bounds the events waiting to be written in the
	// background (DefaultEventQueueSize); beyond it they are dropped and
	// counted (EventStats), so scheduling never waits for events.
	EventQueueSize int
	Logger         logr.Logger
}

// Scheduler binds the pending pods of its profiles to nodes: it watches
// pods and nodes through informers, keeps a Cache and a Queue, runs one
// scheduling cycle at a time and binds asynchronously through the store.
type Scheduler struct {
	store    store.Store
	pods     store.Typed[*core.Pod]
	events   store.Typed[*core.Event]
	opts     Options
	log      logr.Logger
	clock    reconcile.Clock
	profiles map[string]*Profile

	cache *Cache
	queue *Queue
	snap  *Snapshot
	rng   *rand.Rand

	podInformer  *informer.Informer[*core.Pod]
	nodeInformer *informer.Informer[*core.Node]
	nsInformer   *informer.Informer[*core.Namespace]
	// pdbInformer is nil when the store's scheme has no PodDisruptionBudget.
	pdbInformer *informer.Informer[*policy.PodDisruptionBudget]

	nominatedMu sync.Mutex
	nominated   map[apis.Key]*PodInfo // pending pods with status.nominatedNodeName

	sem      chan struct{}
	inflight sync.WaitGroup
	recorder *eventRecorder

	scheduled, failed atomic.Int64

	electorMu sync.Mutex
	elector   *leader.Elector
}

// New builds a Scheduler over s; Run starts it.
func New(s store.Store, opts Options) (*Scheduler, error) {
	sc := &Scheduler{store: s, pods: store.For[*core.Pod](s), events: store.For[*core.Event](s), opts: opts}
	sc.log = opts.Logger
	if sc.log.GetSink() == nil {
		sc.log = logr.Discard()
	}
	sc.clock = opts.Clock
	if sc.clock == nil {
		sc.clock = reconcile.RealClock()
	}
	if sc.opts.Component == "" {
		sc.opts.Component = DefaultSchedulerName
	}
	if sc.opts.FlushInterval <= 0 {
		sc.opts.FlushInterval = time.Second
	}
	if sc.opts.BindConcurrency <= 0 {
		sc.opts.BindConcurrency = 32
	}
	reg := DefaultRegistry()
	reg[DefaultBinderName] = func(any, Handle) (Plugin, error) { return NewDefaultBinder(s, sc.clock.Now), nil }
	if err := reg.Merge(opts.Registry); err != nil {
		return nil, err
	}
	profiles := opts.Profiles
	if len(profiles) == 0 {
		profiles = []ProfileConfig{{SchedulerName: DefaultSchedulerName, Plugins: DefaultPlugins()}}
	}
	sc.profiles = map[string]*Profile{}
	for _, pc := range profiles {
		p, err := NewProfile(pc, reg, ProfileOptions{Parallelism: opts.Parallelism, Clock: sc.clock})
		if err != nil {
			return nil, err
		}
		if _, dup := sc.profiles[p.Name()]; dup {
			return nil, fmt.Errorf("%w: two profiles named %q", ErrInvalidProfile, p.Name())
		}
		sc.profiles[p.Name()] = p
	}
	qo := opts.Queue
	if qo.Clock == nil {
		qo.Clock = sc.clock
	}
	sc.queue = NewQueue(qo)
	sc.cache = NewCache(opts.AssumedPodTTL)
	sc.snap = &Snapshot{}
	sc.rng = newRNG(opts.Seed)
	sc.sem = make(chan struct{}, sc.opts.BindConcurrency)
	sc.nominated = map[apis.Key]*PodInfo{}
	sc.recorder = newEventRecorder(sc.events, sc.opts.Component, sc.opts.Identity, opts.EventQueueSize, sc.clock.Now, sc.log)
	sc.podInformer = informer.New[*core.Pod](s, informer.Options[*core.Pod]{Logger: sc.log})
	sc.nodeInformer = informer.New[*core.Node](s, informer.Options[*core.Node]{Logger: sc.log})
	sc.podInformer.AddHandler(informer.HandlerFuncs[*core.Pod]{Add: sc.onPodAdd, Update: sc.onPodUpdate, Delete: sc.onPodDelete})
	sc.nodeInformer.AddHandler(informer.HandlerFuncs[*core.Node]{Add: sc.onNodeAdd, Update: sc.onNodeUpdate, Delete: sc.onNodeDelete})
	sc.nsInformer = informer.New[*core.Namespace](s, informer.Options[*core.Namespace]{Logger: sc.log})
	sc.nsInformer.AddHandler(informer.HandlerFuncs[*core.Namespace]{
		Add:    sc.onNamespace,
		Update: func(_, ns *core.Namespace) { sc.onNamespace(ns) },
		Delete: func(ns *core.Namespace) { sc.cache.RemoveNamespace(ns.Name) },
	})
	if _, err := apis.KindFor[*policy.PodDisruptionBudget](s.Scheme()); err == nil {
		sc.pdbInformer = informer.New[*policy.PodDisruptionBudget](s, informer.Options[*policy.PodDisruptionBudget]{Logger: sc.log})
		sc.pdbInformer.AddHandler(informer.HandlerFuncs[*policy.PodDisruptionBudget]{
			Add:    sc.cache.AddPodDisruptionBudget,
			Update: func(_, pdb *policy.PodDisruptionBudget) { sc.cache.AddPodDisruptionBudget(pdb) },
			Delete: sc.cache.RemovePodDisruptionBudget,
		})
	}
	return sc, nil
}

// Queue returns the scheduling queue (for inspection).
func (sc *Scheduler) Queue() *Queue { return sc.queue }

// Cache returns the cache (for inspection).
func (sc *Scheduler) Cache() *Cache { return sc.cache }

// Stats returns how many pods were bound and how many attempts failed.
func (sc *Scheduler) Stats() (scheduled, failed int64) { return sc.scheduled.Load(), sc.failed.Load() }

// EventStats returns how many events were recorded, how many of those were
// written (a repeat merged into an aggregated write counts as written) and
// how many were dropped because the queue was full or the scheduler stopped.
func (sc *Scheduler) EventStats() (recorded, written, dropped int64) {
	r := sc.recorder
	return r.recorded.Load(), r.written.Load(), r.dropped.Load()
}

func schedulerName(p *core.Pod) string {
	if p.Spec.SchedulerName == "" {
		return DefaultSchedulerName
	}
	return p.Spec.SchedulerName
}

func (sc *Scheduler) responsible(p *core.Pod) bool {
	_, ok := sc.profiles[schedulerName(p)]
	return ok
}

func pending(p *core.Pod) bool {
	return p.Spec.NodeName == "" && p.DeletionTimestamp == nil && !core.IsPodTerminal(p) && len(p.Spec.SchedulingGates) == 0
}

// nominate records (or, for an empty node, clears) a pod's nomination.
func (sc *Scheduler) nominate(p *core.Pod, node string) {
	k := apis.Key{Namespace: p.Namespace, Name: p.Name}
	sc.nominatedMu.Lock()
	defer sc.nominatedMu.Unlock()
	if node == "" {
		delete(sc.nominated, k)
		return
	}
	cp := *p
	cp.Status.NominatedNodeName = node
	sc.nominated[k] = NewPodInfo(&cp)
}

func (sc *Scheduler) nominatedByNode() map[string][]*PodInfo {
	sc.nominatedMu.Lock()
	defer sc.nominatedMu.Unlock()
	if len(sc.nominated) == 0 {
		return nil
	}
	out := map[string][]*PodInfo{}
	for _, pi := range sc.nominated {
		n := pi.Pod.Status.NominatedNodeName
		out[n] = append(out[n], pi)
	}
	return out
}

func (sc *Scheduler) trackNomination(p *core.Pod) {
	if pending(p) && sc.responsible(p) && p.Status.NominatedNodeName != "" {
		sc.nominate(p, p.Status.NominatedNodeName)
	} else {
		sc.nominate(p, "")
	}
}

func (sc *Scheduler) onPodAdd(p *core.Pod) {
	sc.trackNomination(p)
	switch {
	case p.Spec.NodeName != "" && !core.IsPodTerminal(p):
		sc.cache.AddPod(p)
		sc.queue.MoveAllToActiveOrBackoff(EventAssignedPodAdd)
	case pending(p) && sc.responsible(p):
		sc.queue.Add(p)
	}
}

func (sc *Scheduler) onPodUpdate(old, p *core.Pod) {
	sc.trackNomination(p)
	switch {
	case p.Spec.NodeName != "":
		if old.Spec.NodeName == "" {
			sc.queue.Delete(p)
		}
		if core.IsPodTerminal(p) {
			sc.cache.RemovePod(p)
			sc.queue.MoveAllToActiveOrBackoff(EventAssignedPodDelete)
			return
		}
		sc.cache.AddPod(p)
		if old.Spec.NodeName != "" && !apis.SemanticEqual(old.Labels, p.Labels) {
			sc.queue.MoveAllToActiveOrBackoff(EventAssignedPodUpdate)
		}
	case pending(p) && sc.responsible(p):
		sc.queue.Update(p)
	default:
		sc.queue.Delete(p)
	}
}

func (sc *Scheduler) onPodDelete(p *core.Pod) {
	sc.nominate(p, "")
	sc.rejectWaiting(p)
	if p.Spec.NodeName != "" {
		sc.cache.RemovePod(p)
		sc.queue.MoveAllToActiveOrBackoff(EventAssignedPodDelete)
		return
	}
	sc.queue.Delete(p)
}

func (sc *Scheduler) onNodeAdd(n *core.Node) {
	sc.cache.AddNode(n)
	sc.queue.MoveAllToActiveOrBackoff(EventNodeAdd)
}

func (sc *Scheduler) onNodeUpdate(old, n *core.Node) {
	// Heartbeats (conditions, timestamps) change nothing scheduling reads.
	if apis.SemanticEqual(old.Labels, n.Labels) && apis.SemanticEqual(old.Spec, n.Spec) &&
		apis.SemanticEqual(old.Status.Allocatable, n.Status.Allocatable) && apis.SemanticEqual(old.Status.Images, n.Status.Images) {
		return
	}
	sc.cache.AddNode(n)
	sc.queue.MoveAllToActiveOrBackoff(EventNodeUpdate)
}

// onNamespace records a namespace's labels: pods whose affinity terms
// select namespaces by label may fit now.
func (sc *Scheduler) onNamespace(ns *core.Namespace) {
	if sc.cache.AddNamespace(ns) {
		sc.queue.MoveAllToActiveOrBackoff(EventNamespaceChange)
	}
}

func (sc *Scheduler) onNodeDelete(n *core.Node) { sc.cache.RemoveNode(n.Name) }

// Run schedules until ctx ends. It starts the informers, waits for them to
// sync and then pops pods one at a time; bindings run in the background and
// are waited for before Run returns. With Options.LeaderElection it
// schedules only while it holds the lease, and returns ErrLeadershipLost
// if it loses it (as kube-scheduler exits); a Scheduler runs once.
func (sc *Scheduler) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	var bg sync.WaitGroup
	defer func() {
		cancel()
		sc.queue.Close()
		sc.inflight.Wait()
		bg.Wait()
	}()
	bg.Go(func() { _ = sc.podInformer.Run(ctx) })
	bg.Go(func() { _ = sc.nodeInformer.Run(ctx) })
	bg.Go(func() { _ = sc.nsInformer.Run(ctx) })
	if sc.pdbInformer != nil {
		bg.Go(func() { _ = sc.pdbInformer.Run(ctx) })
	}
	if err := sc.podInformer.WaitForSync(ctx); err != nil {
		return err
	}
	if err := sc.nodeInformer.WaitForSync(ctx); err != nil {
		return err
	}
	if err := sc.nsInformer.WaitForSync(ctx); err != nil {
		return err
	}
	if sc.pdbInformer != nil {
		if err := sc.pdbInformer.WaitForSync(ctx); err != nil {
			return err
		}
	}
	if sc.opts.LeaderElection != nil {
		return sc.runElected(ctx, &bg)
	}
	return sc.scheduleLoop(ctx, &bg)
}

// scheduleLoop pops and schedules pods until ctx ends.
func (sc *Scheduler) scheduleLoop(ctx context.Context, bg *sync.WaitGroup) error {
	bg.Go(func() { sc.flushLoop(ctx) })
	bg.Go(func() { sc.recorder.run(ctx) })
	for {
		qp, cycle, err := sc.queue.Pop(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		sc.ScheduleOne(ctx, qp, cycle)
	}
}

func (sc *Scheduler) flushLoop(ctx context.Context) {
	var ticks int
	for {
		done := make(chan struct{})
		t := sc.clock.AfterFunc(sc.opts.FlushInterval, func() { close(done) })
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-done:
		}
		ticks++
		sc.queue.FlushBackoffCompleted()
		if ticks%30 == 0 {
			sc.queue.FlushUnschedulableLeftover()
			sc.cache.CleanupExpired(sc.clock.Now())
		}
	}
}

// ScheduleOne runs one scheduling cycle for a popped pod.
func (sc *Scheduler) ScheduleOne(ctx context.Context, qp *QueuedPod, cycle int64) {
	key := qp.Info.Key()
	cur, ok := sc.podInformer.Get(key)
	// An assumed pod is bound (or being bound) already: it comes back here
	// only through an informer event older than its binding (as upstream's
	// skipPodSchedule).
	if !ok || !pending(cur) || !sc.responsible(cur) || sc.cache.IsAssumed(key) {
		sc.queue.Done(key)
		return
	}
	if cur.ResourceVersion != qp.Info.Pod.ResourceVersion {
		qp.Info = NewPodInfo(cur)
	}
	prof := sc.profiles[schedulerName(cur)]
	sc.cache.UpdateSnapshot(sc.snap)
	sc.snap.Nominated = sc.nominatedByNode()
	state := NewCycleState()
	res, err := prof.Schedule(ctx, state, qp.Info, sc.snap, sc.rng)
	if err != nil {
		sc.failed.Add(1)
		var fe *FitError
		if !errors.As(err, &fe) {
			sc.log.Error(err, "scheduling failed", "pod", key)
			sc.reportFailure(ctx, cur, "", "SchedulerError", err.Error())
			sc.queue.AddBackoff(qp)
			return
		}
		nominated := ""
		if len(fe.Statuses) > 0 {
			pf, st := prof.RunPostFilter(ctx, state, qp.Info, sc.snap, fe.Statuses)
			if pf != nil {
				nominated = pf.NominatedNode
				sc.nominate(cur, nominated)
				sc.evict(ctx, cur, pf)
			} else if len(st.Reasons()) > 0 {
				fe.PostFilterMsg = "preemption: " + st.Reasons()[0]
			}
		}
		sc.reportFailure(ctx, cur, nominated, "Unschedulable", fe.Error())
		sc.queue.AddUnschedulable(qp, cycle, fe.UnschedulablePlugins())
		return
	}
	assumed := *cur
	assumed.Spec.NodeName = res.NodeName
	ai := *qp.Info
	ai.Pod = &assumed
	sc.nominate(cur, "")
	if err := sc.cache.AssumePod(&ai); err != nil {
		sc.queue.Done(key) // a binding of this pod is already under way
		return
	}
	if st := prof.RunReserve(ctx, state, &ai, res.NodeName); !st.IsSuccess() {
		sc.cache.ForgetPod(key)
		sc.reportFailure(ctx, cur, "", "SchedulerError", st.Err().Error())
		sc.queue.AddBackoff(qp)
		return
	}
	permit := prof.RunPermit(ctx, state, &ai, res.NodeName)
	if !permit.IsSuccess() && permit.Code() != Wait {
		prof.RunUnreserve(ctx, state, &ai, res.NodeName)
		sc.cache.ForgetPod(key)
		sc.reportFailure(ctx, cur, "", "Unschedulable", permit.Err().Error())
		sc.queue.AddUnschedulable(qp, cycle, []string{permit.Plugin()})
		return
	}
	bind := func(ctx context.Context) {
		st := prof.RunBind(ctx, state, cur, res.NodeName)
		if !st.IsSuccess() {
			prof.RunUnreserve(ctx, state, &ai, res.NodeName)
			sc.cache.ForgetPod(key)
			sc.failed.Add(1)
			sc.log.Info("binding failed", "pod", key, "node", res.NodeName, "err", st.Err())
			sc.writeEvent(ctx, cur, core.EventTypeWarning, "FailedScheduling", "Binding rejected: "+st.Err().Error())
			sc.queue.AddBackoff(qp)
			return
		}
		sc.cache.FinishBinding(key, sc.clock.Now())
		sc.queue.Done(key)
		sc.writeEvent(ctx, cur, core.EventTypeNormal, "Scheduled",
			fmt.Sprintf("Successfully assigned %s/%s to %s", cur.Namespace, cur.Name, res.NodeName))
		sc.scheduled.Add(1) // after the event is recorded: see EventStats
	}
	if permit.Code() == Wait {
		sc.waitOnPermit(ctx, prof, state, qp, &ai, bind)
		return
	}
	sc.async(ctx, bind)
}

// async runs fn in the background, at most BindConcurrency at once.
func (sc *Scheduler) async(ctx context.Context, fn func(ctx context.Context)) {
	select {
	case sc.sem <- struct{}{}:
	case <-ctx.Done():
		return
	}
	sc.inflight.Go(func() {
		defer func() { <-sc.sem }()
		fn(ctx)
	})
}

// evict deletes the victims and nominates the node for the preemptor.
func (sc *Scheduler) evict(ctx context.Context, preemptor *core.Pod, pf *PostFilterResult) {
	for _, v := range pf.Victims {
		_, err := sc.pods.Delete(ctx, apis.Key{Namespace: v.Namespace, Name: v.Name}, store.DeleteOptions{UID: v.UID, Fence: leader.FenceFrom(ctx)})
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			sc.log.Error(err, "evicting preemption victim", "victim", v.Name, "preemptor", preemptor.Name)
			continue
		}
		sc.writeEvent(ctx, v, core.EventTypeNormal, "Preempted",
			fmt.Sprintf("Preempted by pod %s on node %s", preemptor.UID, pf.NominatedNode))
	}
}

// reportFailure sets PodScheduled=False (and nominatedNodeName) and writes a
// FailedScheduling event, in the background.
func (sc *Scheduler) reportFailure(ctx context.Context, pod *core.Pod, nominated, reason, msg string) {
	sc.writeEvent(ctx, pod, core.EventTypeWarning, "FailedScheduling", msg)
	sc.async(ctx, func(ctx context.Context) {
		key := apis.Key{Namespace: pod.Namespace, Name: pod.Name}
		for range 3 {
			cur, err := sc.pods.Get(ctx, key, store.GetOptions{})
			if err != nil || cur.Spec.NodeName != "" {
				return
			}
			changed := setCondition(&cur.Status, core.PodCondition{Type: core.PodScheduled, Status: apis.ConditionFalse,
				Reason: reason, Message: msg, LastTransitionTime: apis.NewTime(sc.clock.Now())})
			if nominated != "" && cur.Status.NominatedNodeName != nominated {
				cur.Status.NominatedNodeName = nominated
				changed = true
			}
			if !changed {
				return
			}
			_, err = sc.pods.UpdateStatus(ctx, cur, store.WriteOptions{Fence: leader.FenceFrom(ctx)})
			if !errors.Is(err, store.ErrConflict) {
				return
			}
		}
	})
}

// setCondition sets c, keeping the transition time when the status is unchanged.
func setCondition(s *core.PodStatus, c core.PodCondition) bool {
	old := s.GetPodCondition(c.Type)
	if old == nil {
		s.Conditions = append(s.Conditions, c)
		return true
	}
	if old.Status == c.Status && old.Reason == c.Reason && old.Message == c.Message {
		return false
	}
	if old.Status == c.Status {
		c.LastTransitionTime = old.LastTransitionTime
	}
	*old = c
	return true
}

// writeEvent records an event about pod, written in the background.
func (sc *Scheduler) writeEvent(_ context.Context, pod *core.Pod, typ, reason, msg string) {
	if sc.opts.DisableEvents {
		return
	}
	sc.recorder.Record(pod, typ, reason, msg)
}

// DefaultBinder binds a pod in one write that sets spec.nodeName and the
// PodScheduled condition together, compared on the revision it read, when
// the store is a store.PodBinder (as the binding subresource does);
// otherwise it sets spec.nodeName with an Update that compares on the pod's
// resourceVersion (read again once on conflict), then the condition with
// UpdateStatus.
type DefaultBinder struct {
	binder store.PodBinder // nil when the store cannot bind in one write
	pods   store.Typed[*core.Pod]
	now    func() time.Time
}

// NewDefaultBinder returns the binder over s; now stamps the condition (nil is time.Now).
func NewDefaultBinder(s store.Store, now func() time.Time) *DefaultBinder {
	if now == nil {
		now = time.Now
	}
	pb, _ := s.(store.PodBinder)
	return &DefaultBinder{binder: pb, pods: store.For[*core.Pod](s), now: now}
}

// Name implements Plugin.
func (*DefaultBinder) Name() string { return DefaultBinderName }

// Bind implements BindPlugin.
func (b *DefaultBinder) Bind(ctx context.Context, _ *CycleState, pod *core.Pod, node string) *Status {
	if b.binder == nil {
		return b.bindInTwoWrites(ctx, pod, node)
	}
	key := apis.Key{Namespace: pod.Namespace, Name: pod.Name}
	_, err := b.binder.BindPod(ctx, store.Binding{Pod: key, UID: pod.UID, NodeName: node}, store.WriteOptions{Fence: leader.FenceFrom(ctx)})
	if !errors.Is(err, store.ErrConflict) {
		return AsStatus(err)
	}
	// Say why, as the two-write path does; binding again to the same node is no error.
	fresh, gerr := b.pods.Get(ctx, key, store.GetOptions{})
	if gerr != nil {
		return AsStatus(gerr)
	}
	if st := explainBound(pod, fresh, node); st != nil || fresh.Spec.NodeName == node {
		return st
	}
	return AsStatus(err)
}

// explainBound returns the failure for binding pod to node when the store
// holds fresh, or nil if fresh may still be bound (or already is, to node).
func explainBound(pod, fresh *core.Pod, node string) *Status {
	switch {
	case fresh.UID != pod.UID || fresh.DeletionTimestamp != nil:
		return AsStatus(fmt.Errorf("scheduler: pod %s/%s was deleted or replaced", pod.Namespace, pod.Name))
	case fresh.Spec.NodeName == node:
		return nil
	case fresh.Spec.NodeName != "":
		return AsStatus(fmt.Errorf("scheduler: pod %s/%s is already bound to %s", pod.Namespace, pod.Name, fresh.Spec.NodeName))
	}
	return nil
}

func (b *DefaultBinder) bindInTwoWrites(ctx context.Context, pod *core.Pod, node string) *Status {
	cp := *pod
	cp.Spec.NodeName = node
	updated, err := b.pods.Update(ctx, &cp, store.WriteOptions{Fence: leader.FenceFrom(ctx)})
	if errors.Is(err, store.ErrConflict) {
		fresh, gerr := b.pods.Get(ctx, apis.Key{Namespace: pod.Namespace, Name: pod.Name}, store.GetOptions{})
		if gerr != nil {
			return AsStatus(gerr)
		}
		if st := explainBound(pod, fresh, node); st != nil {
			return st
		}
		if fresh.Spec.NodeName == node {
			updated, err = fresh, nil
		} else {
			fresh.Spec.NodeName = node
			updated, err = b.pods.Update(ctx, fresh, store.WriteOptions{Fence: leader.FenceFrom(ctx)})
		}
	}
	if err != nil {
		return AsStatus(err)
	}
	for range 3 {
		setCondition(&updated.Status, core.PodCondition{Type: core.PodScheduled, Status: apis.ConditionTrue, LastTransitionTime: apis.NewTime(b.now())})
		updated.Status.NominatedNodeName = ""
		_, err = b.pods.UpdateStatus(ctx, updated, store.WriteOptions{Fence: leader.FenceFrom(ctx)})
		if !errors.Is(err, store.ErrConflict) {
			break
		}
		if updated, err = b.pods.Get(ctx, apis.Key{Namespace: pod.Namespace, Name: pod.Name}, store.GetOptions{}); err != nil {
			break
		}
	}
	// The binding stands even if the condition could not be written.
	return nil
}
