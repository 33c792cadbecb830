package agent

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/kubelet"
	"github.com/gantry-sdk/gantry/store"
)

// ErrNotRunning: Shutdown was called on an agent whose Run is not running, or
// Run ended while the shutdown was under way.
var ErrNotRunning = errors.New("agent: not running")

// Graceful node shutdown, as the kubelet's GracefulNodeShutdown: the reasons
// and messages are the kubelet's, so tools written for Kubernetes read them.
const (
	// ReasonNodeShutdown is the status reason of a pod rejected because the
	// node is shutting down (and of the Warning event about it).
	ReasonNodeShutdown = "NodeShutdown"
	// ReasonTerminated is the status reason of a pod terminated by a node shutdown.
	ReasonTerminated = "Terminated"
	// ReasonTerminationByKubelet is the reason of the DisruptionTarget
	// condition on a pod terminated by a node shutdown.
	ReasonTerminationByKubelet = "TerminationByKubelet"
	// MessageNodeShutdown is the message of a pod terminated by a node shutdown.
	MessageNodeShutdown = "Pod was terminated in response to imminent node shutdown."
	// MessageNodeShutdownRejected is why a pod is rejected during a node shutdown.
	MessageNodeShutdownRejected = "Pod was rejected as the node is shutting down."
	// MessageNodeShuttingDown is the Ready condition's message during a node shutdown.
	MessageNodeShuttingDown = "node is shutting down"
	// EventNodeShutdown is the reason of the Node event recorded when a shutdown begins.
	EventNodeShutdown = "Shutdown"

	// SystemCriticalPriority is the lowest priority of a critical pod
	// (system-cluster-critical); system-node-critical is 1000 above it.
	SystemCriticalPriority int32 = 2000000000
	systemNodeCritical     int32 = SystemCriticalPriority + 1000
)

// ShutdownGracePeriodByPodPriority gives the pods of one priority range their
// time during a node shutdown, as the kubelet's field of that name: a pod
// belongs to the entry with the highest Priority not above its own (the
// lowest entry when its priority is below all of them).
type ShutdownGracePeriodByPodPriority struct {
	Priority            int32
	ShutdownGracePeriod time.Duration
}

// nodeShutdown is the agent's graceful node shutdown: its configuration, the
// handle on Run it needs to stop the agent at the end, and the plan of the
// shutdown under way.
type nodeShutdown struct {
	groups []ShutdownGracePeriodByPodPriority // ascending priority; empty: feature off

	mu        sync.Mutex
	runCtx    context.Context
	runCancel context.CancelFunc
	runDone   chan struct{}
	// active: a shutdown began; new pods are rejected and the node is NotReady.
	active bool
	// current is the index of the group being terminated (-1 before the first).
	current int
	pods    map[apis.Key]*podTermination
	done    chan struct{} // closed when the shutdown finished, err is its result
	err     error
	workers sync.WaitGroup // terminatePod goroutines
}

// termPhase is where a pod is in its shutdown termination.
type termPhase int

const (
	termPending  termPhase = iota // runs as usual until its group's turn
	termStopping                  // containers being stopped; syncs leave it alone
	termStopped                   // containers stopped; the next sync finalizes it
	termFinished                  // status written (or nothing left to do)
)

// podTermination is one pod of the shutdown plan.
type podTermination struct {
	uid   string
	group int
	phase termPhase
	done  chan struct{} // closed on termFinished
}

// newNodeShutdown validates the shutdown options (as the kubelet validates
// its configuration) and turns them into priority groups.
func newNodeShutdown(o Options) (*nodeShutdown, error) {
	if o.ShutdownGracePeriod < 0 {
		return nil, fmt.Errorf("%w: shutdownGracePeriod %s must not be negative", ErrInvalid, o.ShutdownGracePeriod)
	}
	if o.ShutdownGracePeriodCriticalPods < 0 {
		return nil, fmt.Errorf("%w: shutdownGracePeriodCriticalPods %s must not be negative", ErrInvalid, o.ShutdownGracePeriodCriticalPods)
	}
	if o.ShutdownGracePeriodCriticalPods > o.ShutdownGracePeriod {
		return nil, fmt.Errorf("%w: shutdownGracePeriodCriticalPods %s must not exceed shutdownGracePeriod %s",
			ErrInvalid, o.ShutdownGracePeriodCriticalPods, o.ShutdownGracePeriod)
	}
	s := &nodeShutdown{current: -1, pods: map[apis.Key]*podTermination{}}
	if len(o.ShutdownGracePeriodByPodPriority) > 0 {
		if o.ShutdownGracePeriod != 0 || o.ShutdownGracePeriodCriticalPods != 0 {
			return nil, fmt.Errorf("%w: shutdownGracePeriodByPodPriority and shutdownGracePeriod or shutdownGracePeriodCriticalPods cannot be set together", ErrInvalid)
		}
		seen := map[int32]bool{}
		for i, g := range o.ShutdownGracePeriodByPodPriority {
			if g.ShutdownGracePeriod < 0 {
				return nil, fmt.Errorf("%w: shutdownGracePeriodByPodPriority[%d].shutdownGracePeriod %s must not be negative", ErrInvalid, i, g.ShutdownGracePeriod)
			}
			if seen[g.Priority] {
				return nil, fmt.Errorf("%w: shutdownGracePeriodByPodPriority[%d].priority %d is repeated", ErrInvalid, i, g.Priority)
			}
			seen[g.Priority] = true
		}
		s.groups = slices.Clone(o.ShutdownGracePeriodByPodPriority)
		slices.SortFunc(s.groups, func(a, b ShutdownGracePeriodByPodPriority) int { return int(a.Priority) - int(b.Priority) })
		return s, nil
	}
	if o.ShutdownGracePeriod > 0 {
		// The kubelet's two groups: every pod below critical priority first,
		// then the critical ones.
		s.groups = []ShutdownGracePeriodByPodPriority{
			{Priority: 0, ShutdownGracePeriod: o.ShutdownGracePeriod - o.ShutdownGracePeriodCriticalPods},
			{Priority: SystemCriticalPriority, ShutdownGracePeriod: o.ShutdownGracePeriodCriticalPods},
		}
	}
	return s, nil
}

// podPriority is the pod's spec.priority; without it (no priority admission
// resolved its class) the two built-in critical classes count, others are 0.
func podPriority(p *core.Pod) int32 {
	if p.Spec.Priority != nil {
		return *p.Spec.Priority
	}
	switch p.Spec.PriorityClassName {
	case "system-node-critical":
		return systemNodeCritical
	case "system-cluster-critical":
		return SystemCriticalPriority
	}
	return 0
}

// groupOf is the index of the group a pod of priority p belongs to.
func (s *nodeShutdown) groupOf(p int32) int {
	g := 0
	for i, gr := range s.groups {
		if gr.Priority <= p {
			g = i
		}
	}
	return g
}

// runStarted and runEnded bracket Run, so that Shutdown can stop it.
func (s *nodeShutdown) runStarted(ctx context.Context, cancel context.CancelFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.runCtx, s.runCancel, s.runDone = ctx, cancel, make(chan struct{})
}

func (s *nodeShutdown) runEnded() {
	s.mu.Lock()
	defer s.mu.Unlock()
	close(s.runDone)
	s.runCtx, s.runCancel = nil, nil
}

// shutDown reports whether a Shutdown was called: such an agent runs no more.
func (s *nodeShutdown) shutDown() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.done != nil
}

// shuttingDown reports whether a node shutdown began.
func (s *nodeShutdown) shuttingDown() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.active
}

// Shutdown shuts the node down gracefully, as the kubelet does on a systemd
// shutdown with GracefulNodeShutdown: the node turns NotReady ("node is
// shutting down"), pods not yet admitted are rejected (Failed, NodeShutdown),
// and the running pods are terminated group by group in ascending priority —
// with ShutdownGracePeriod and ShutdownGracePeriodCriticalPods, regular pods
// within ShutdownGracePeriod - ShutdownGracePeriodCriticalPods, then critical
// ones within ShutdownGracePeriodCriticalPods — each container getting
// SIGTERM and, after min(terminationGracePeriodSeconds, its group's period),
// SIGKILL. Terminated pods end Failed with reason Terminated and a
// DisruptionTarget condition. A group's pods get its period and no more
// before the next group starts; after the last one, pods still terminating
// get 2 s more to write their statuses. Then Run stops (and with it the
// Lease) and Shutdown returns.
//
// With the feature off (every shutdown period zero) Shutdown only stops Run,
// leaving the pods to the machine's fate, as the kubelet does. If ctx ends
// first, Run is stopped at once and ctx's error returned. Calling Shutdown
// again waits for the first call's result. A shut down agent cannot Run again.
func (a *Agent) Shutdown(ctx context.Context) error {
	s := a.shut
	s.mu.Lock()
	if s.done != nil {
		done := s.done
		s.mu.Unlock()
		select {
		case <-done:
			return s.err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if s.runCtx == nil {
		s.mu.Unlock()
		return fmt.Errorf("%w: shutdown of node %s", ErrNotRunning, a.node)
	}
	s.done = make(chan struct{})
	runCtx, cancelRun, runDone := s.runCtx, s.runCancel, s.runDone
	s.active = len(s.groups) > 0
	s.mu.Unlock()

	err := a.terminateAll(ctx, runCtx)
	cancelRun()
	<-runDone
	s.workers.Wait()
	s.mu.Lock()
	s.err = err
	close(s.done)
	s.mu.Unlock()
	return err
}

// terminateAll runs the shutdown plan: node NotReady, then each group in turn.
func (a *Agent) terminateAll(ctx, runCtx context.Context) error {
	s := a.shut
	if len(s.groups) == 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(runCtx, cancel)()

	a.log.Info("node shutting down", "node", a.node)
	a.events.nodeEvent(ctx, core.EventTypeNormal, EventNodeShutdown, "Shutdown manager detected shutdown event")
	// The plan: every pod admitted so far. Pods admitted while it is being
	// made join it when they next sync (see syncShuttingDown).
	a.mu.Lock()
	admitted := make(map[apis.Key]string, len(a.state))
	for key, st := range a.state {
		admitted[key] = st.uid
	}
	a.mu.Unlock()
	s.mu.Lock()
	for key, uid := range admitted {
		pod, ok := a.pods.Get(key)
		if !ok || string(pod.UID) != uid || isTerminal(pod) {
			continue
		}
		s.pods[key] = &podTermination{uid: uid, group: s.groupOf(podPriority(pod)), done: make(chan struct{})}
	}
	s.mu.Unlock()
	// Every pod bound here syncs once more: the new ones are rejected now.
	for _, p := range a.pods.List() {
		a.ctrl.Enqueue(apis.KeyOf(p))
	}
	// Post NotReady now rather than at the next heartbeat (the node loop
	// keeps posting it), without holding the shutdown up.
	nodeDone := make(chan struct{})
	s.workers.Add(1)
	go func() {
		defer s.workers.Done()
		defer close(nodeDone)
		a.retry(ctx, "node status", a.syncNode)
	}()

	for g, group := range s.groups {
		s.mu.Lock()
		s.current = g
		var waits []chan struct{}
		for key, t := range s.pods {
			if t.group == g && t.phase == termPending {
				waits = append(waits, t.done)
				a.startTermination(ctx, key, t)
			}
		}
		s.mu.Unlock()
		if len(waits) == 0 {
			continue
		}
		a.log.Info("terminating pods for node shutdown", "priority", group.Priority, "pods", len(waits), "period", group.ShutdownGracePeriod)
		done, err := a.waitAll(ctx, runCtx, waits, group.ShutdownGracePeriod)
		if err != nil {
			return err
		}
		if !done {
			a.log.Info("node shutdown: pods outlived their group's period", "priority", group.Priority)
		}
	}
	// SIGKILLs fall due right at the end of a group's period: give the pods
	// still terminating (and the NotReady status) a moment to be written
	// before Run stops.
	s.mu.Lock()
	waits := []chan struct{}{nodeDone}
	for _, t := range s.pods {
		if t.phase == termStopping || t.phase == termStopped {
			waits = append(waits, t.done)
		}
	}
	s.mu.Unlock()
	done, err := a.waitAll(ctx, runCtx, waits, shutdownStatusSlack)
	if err == nil && !done {
		a.log.Info("node shutdown: pods still terminating as the agent stops", "node", a.node)
	}
	return err
}

// waitAll waits until every channel of waits is closed (true) or d has passed
// on the agent's clock (false); an error if ctx ends first, ErrNotRunning when
// that is because the agent's run (runCtx) stopped.
func (a *Agent) waitAll(ctx, runCtx context.Context, waits []chan struct{}, d time.Duration) (bool, error) {
	timeout := make(chan struct{})
	defer a.clock.AfterFunc(d, func() { close(timeout) }).Stop()
	for _, w := range waits {
		select {
		case <-w:
		case <-timeout:
			return false, nil
		case <-ctx.Done():
			if runCtx.Err() != nil {
				return false, fmt.Errorf("%w: node %s stopped during its shutdown", ErrNotRunning, a.node)
			}
			return false, ctx.Err()
		}
	}
	return true, nil
}

// shutdownStatusSlack is how long after the last group's period a shutdown
// waits for pods still terminating to write their statuses.
const shutdownStatusSlack = 2 * time.Second

// startTermination starts stopping the containers of a pod of the plan;
// s.mu is held.
func (a *Agent) startTermination(ctx context.Context, key apis.Key, t *podTermination) {
	t.phase = termStopping
	a.shut.workers.Add(1)
	go func() {
		defer a.shut.workers.Done()
		a.terminatePod(ctx, key, t)
	}()
}

// terminatePod stops the running containers of one pod (SIGTERM, the
// shutdown's grace, SIGKILL) and hands the pod back to its sync to finish.
// It works on the runtime's containers only: the pod's state belongs to the
// sync, which leaves a stopping pod alone.
func (a *Agent) terminatePod(ctx context.Context, key apis.Key, t *podTermination) {
	s := a.shut
	pod, ok := a.pods.Get(key)
	if !ok || string(pod.UID) != t.uid || isTerminal(pod) {
		s.mu.Lock()
		s.finish(t)
		s.mu.Unlock()
		return
	}
	grace := s.groups[t.group].ShutdownGracePeriod
	if g := pod.Spec.TerminationGracePeriodSeconds; g != nil && time.Duration(*g)*time.Second <= grace {
		grace = time.Duration(*g) * time.Second
	}
	a.log.Info("terminating pod for node shutdown", "pod", key, "grace", grace)
	ctrs, err := a.rt.ListContainers(ctx, kubelet.ContainerFilter{Labels: map[string]string{LabelNode: a.node, kubelet.LabelPodUID: t.uid}})
	if err != nil {
		// The sync's finalization kills what is left at once.
		a.log.Error(err, "node shutdown: list containers", "pod", key)
	}
	var wg sync.WaitGroup
	for _, c := range ctrs {
		if c.State == kubelet.ContainerExited {
			continue
		}
		a.events.pod(ctx, pod, core.EventTypeNormal, "Killing", "Stopping container "+c.Labels[kubelet.LabelContainerName])
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := a.rt.StopContainer(ctx, c.ID, grace); err != nil && !errors.Is(err, kubelet.ErrNotFound) {
				a.log.Error(err, "node shutdown: stop container", "pod", key, "container", c.Labels[kubelet.LabelContainerName])
			}
		}()
	}
	wg.Wait()
	s.mu.Lock()
	if t.phase == termStopping {
		t.phase = termStopped
	}
	s.mu.Unlock()
	a.ctrl.Enqueue(key)
}

// finish marks a pod's termination done; s.mu is held.
func (s *nodeShutdown) finish(t *podTermination) {
	if t.phase != termFinished {
		t.phase = termFinished
		close(t.done)
	}
}

func isTerminal(p *core.Pod) bool {
	return p.Status.Phase == core.PodSucceeded || p.Status.Phase == core.PodFailed
}

// syncShuttingDown is syncPod's part during a node shutdown. It reports
// whether it handled the pod; if not, the sync goes on as usual (pods whose
// group's turn has not come run on, restarts and probes included).
func (a *Agent) syncShuttingDown(ctx context.Context, key apis.Key, pod *core.Pod, ok bool, st *podState) (bool, error) {
	s := a.shut
	s.mu.Lock()
	if !s.active {
		s.mu.Unlock()
		return false, nil
	}
	t := s.pods[key]
	if !ok {
		// Gone from the store: the usual sync removes what is left.
		if t != nil {
			s.finish(t)
		}
		s.mu.Unlock()
		return false, nil
	}
	if t != nil && t.uid != string(pod.UID) {
		t = nil
	}
	if t == nil {
		if st == nil || st.uid != string(pod.UID) {
			s.mu.Unlock()
			if isTerminal(pod) || pod.DeletionTimestamp != nil {
				return false, nil
			}
			return true, a.rejectPod(ctx, key, pod, st)
		}
		if st.done || isTerminal(pod) {
			s.mu.Unlock()
			return false, nil
		}
		// Admitted while the plan was being made: it joins it, and is
		// terminated at once if its group's turn came already.
		t = &podTermination{uid: st.uid, group: s.groupOf(podPriority(pod)), done: make(chan struct{})}
		s.pods[key] = t
		if t.group <= s.current && s.runCtx != nil {
			a.startTermination(s.runCtx, key, t)
		}
	}
	phase := t.phase
	s.mu.Unlock()
	switch phase {
	case termStopping:
		return true, nil // terminatePod enqueues the pod when its containers stopped
	case termStopped:
		return true, a.finishTermination(ctx, pod, st, t)
	}
	return false, nil
}

// rejectPod fails a pod the node will not run since it is shutting down, as
// the kubelet's admission does.
func (a *Agent) rejectPod(ctx context.Context, key apis.Key, pod *core.Pod, st *podState) error {
	if st != nil {
		// An older pod of that name: it goes first, as in syncPod.
		if err := a.killPod(ctx, nil, st, 0); err != nil {
			return err
		}
		a.setState(key, nil)
	}
	a.events.pod(ctx, pod, core.EventTypeWarning, ReasonNodeShutdown, MessageNodeShutdownRejected)
	next := apis.DeepCopy(pod)
	next.Status.Phase = core.PodFailed
	next.Status.Reason = ReasonNodeShutdown
	next.Status.Message = "Pod was rejected: " + MessageNodeShutdownRejected
	next.ResourceVersion = ""
	if _, err := store.For[*core.Pod](a.s).UpdateStatus(ctx, next, store.WriteOptions{}); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("agent: reject pod %s: %w", key, err)
	}
	a.setState(key, &podState{uid: string(pod.UID), ctrs: map[string]*ctrState{}, startTime: a.clock.Now(), done: true})
	return nil
}

// finishTermination stops what is left of a pod whose containers were stopped
// for the shutdown (its sandbox, stragglers at once) and writes its final
// status: Failed, Terminated, DisruptionTarget.
func (a *Agent) finishTermination(ctx context.Context, pod *core.Pod, st *podState, t *podTermination) error {
	done := func() {
		a.shut.mu.Lock()
		a.shut.finish(t)
		a.shut.mu.Unlock()
	}
	if st == nil || st.uid != t.uid || (st.done && isTerminal(pod)) {
		done() // gone, or finished by itself meanwhile: its status stands
		return nil
	}
	st.done = true
	if err := a.killPod(ctx, pod, st, 0); err != nil {
		return err
	}
	status := a.podStatus(ctx, pod, st)
	status.Phase, status.Reason, status.Message = core.PodFailed, ReasonTerminated, MessageNodeShutdown
	cond := core.PodCondition{
		Type: core.DisruptionTarget, Status: apis.ConditionTrue, LastTransitionTime: apis.NewTime(a.clock.Now()),
		Reason: ReasonTerminationByKubelet, Message: MessageNodeShutdown,
	}
	status.Conditions = slices.DeleteFunc(status.Conditions, func(c core.PodCondition) bool { return c.Type == core.DisruptionTarget })
	status.Conditions = append(status.Conditions, cond)
	next := apis.DeepCopy(pod)
	next.Status = status
	next.ResourceVersion = ""
	if _, err := store.For[*core.Pod](a.s).UpdateStatus(ctx, next, store.WriteOptions{}); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("agent: pod %s status: %w", apis.KeyOf(pod), err)
	}
	done()
	return nil
}
