package scheduler

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/reconcile"
)

// MaxPermitTimeout caps how long a Permit plugin may hold a pod (as
// kube-scheduler's 15 minutes).
const MaxPermitTimeout = 15 * time.Minute

// WaitingPod is a pod that a Permit plugin holds (Permit returned Wait): it
// is assumed on its node, its resources reserved, but not bound until every
// plugin that made it wait Allows it. Any Reject, or a plugin's timeout,
// rejects it; the scheduler then unreserves it and retries it with backoff.
// Safe for concurrent use.
type WaitingPod struct {
	pod  *core.Pod
	node string

	mu      sync.Mutex
	pending map[string]reconcile.Timer // plugins yet to Allow, with their timeout
	result  chan *Status               // holds the verdict once decided
	decided bool
}

func newWaitingPod(pod *core.Pod, node string, waits map[string]time.Duration, clock reconcile.Clock) *WaitingPod {
	w := &WaitingPod{pod: pod, node: node, pending: make(map[string]reconcile.Timer, len(waits)), result: make(chan *Status, 1)}
	// The lock keeps a timer that fires at once from deciding before every
	// timer is recorded (and so stopped when the pod is decided).
	w.mu.Lock()
	defer w.mu.Unlock()
	for plugin, d := range waits {
		w.pending[plugin] = clock.AfterFunc(d, func() {
			w.Reject(plugin, fmt.Sprintf("rejected due to timeout after waiting %v at plugin %s", d, plugin))
		})
	}
	return w
}

func (w *WaitingPod) isDecided() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.decided
}

// Pod returns the waiting pod (spec.nodeName not yet set).
func (w *WaitingPod) Pod() *core.Pod { return w.pod }

// NodeName returns the node the pod is assumed on.
func (w *WaitingPod) NodeName() string { return w.node }

// PendingPlugins returns the plugins that have not allowed the pod yet, sorted.
func (w *WaitingPod) PendingPlugins() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Sorted(maps.Keys(w.pending))
}

// Allow records that plugin lets the pod through; once every waiting plugin
// has, the pod goes on to binding. Allowing an already decided pod, or for a
// plugin that did not make it wait, does nothing.
func (w *WaitingPod) Allow(plugin string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	t, ok := w.pending[plugin]
	if w.decided || !ok {
		return
	}
	t.Stop()
	delete(w.pending, plugin)
	if len(w.pending) == 0 {
		w.decided = true
		w.result <- nil
	}
}

// Reject fails the pod's permit with msg, naming plugin. Rejecting an
// already decided pod does nothing.
func (w *WaitingPod) Reject(plugin, msg string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.decided {
		return
	}
	w.decided = true
	for _, t := range w.pending {
		t.Stop()
	}
	clear(w.pending)
	w.result <- NewStatus(Unschedulable, msg).withPlugin(plugin)
}

// waitingPods is a profile's set of pods held at Permit.
type waitingPods struct {
	mu   sync.RWMutex
	pods map[apis.Key]*WaitingPod
}

func (wp *waitingPods) add(k apis.Key, w *WaitingPod) {
	wp.mu.Lock()
	defer wp.mu.Unlock()
	if wp.pods == nil {
		wp.pods = map[apis.Key]*WaitingPod{}
	}
	wp.pods[k] = w
}

func (wp *waitingPods) remove(k apis.Key, w *WaitingPod) {
	wp.mu.Lock()
	defer wp.mu.Unlock()
	if wp.pods[k] == w {
		delete(wp.pods, k)
	}
}

func (wp *waitingPods) get(k apis.Key) *WaitingPod {
	wp.mu.RLock()
	defer wp.mu.RUnlock()
	return wp.pods[k]
}

func (wp *waitingPods) list() []*WaitingPod {
	wp.mu.RLock()
	defer wp.mu.RUnlock()
	return slices.Collect(maps.Values(wp.pods))
}

// RunPermit asks every permit plugin. A rejection or error is returned at
// once; if some plugins said Wait (and none rejected), the pod is recorded
// as waiting and a Wait status is returned: the caller must then call
// WaitOnPermit (from another goroutine, so as not to block scheduling).
func (p *Profile) RunPermit(ctx context.Context, state *CycleState, pod *PodInfo, node string) *Status {
	var waits map[string]time.Duration
	for _, pp := range p.permits {
		st, timeout := pp.Permit(ctx, state, pod, node)
		switch {
		case st.IsSuccess():
		case st.Code() == Wait:
			if waits == nil {
				waits = map[string]time.Duration{}
			}
			waits[pp.Name()] = min(max(timeout, 0), MaxPermitTimeout)
		default:
			if !st.IsRejected() && st.Code() != Error {
				st = AsStatus(fmt.Errorf("scheduler: permit %s returned %s", pp.Name(), st.Code()))
			}
			return st.withPlugin(pp.Name())
		}
	}
	if waits == nil {
		return nil
	}
	p.waiting.add(pod.Key(), newWaitingPod(pod.Pod, node, waits, p.clock))
	return NewStatus(Wait, "waiting on permit")
}

// WaitOnPermit blocks until the waiting pod is allowed (nil), rejected or
// timed out (Unschedulable, naming the plugin), or ctx ends (Error). A pod
// that is not waiting returns nil at once.
func (p *Profile) WaitOnPermit(ctx context.Context, pod *PodInfo) *Status {
	k := pod.Key()
	w := p.waiting.get(k)
	if w == nil {
		return nil
	}
	defer p.waiting.remove(k, w)
	select {
	case st := <-w.result:
		return st
	case <-ctx.Done():
		w.Reject("", "scheduler stopped")
		return AsStatus(ctx.Err())
	}
}

// GetWaitingPod returns the pod held at Permit under key, or nil (Handle).
func (p *Profile) GetWaitingPod(key apis.Key) *WaitingPod { return p.waiting.get(key) }

// IterateOverWaitingPods calls fn for every pod held at Permit that is
// still undecided (Handle).
func (p *Profile) IterateOverWaitingPods(fn func(*WaitingPod)) {
	for _, w := range p.waiting.list() {
		if !w.isDecided() {
			fn(w)
		}
	}
}

// RejectWaitingPod rejects the pod held under key, reporting whether there
// was one (Handle). The scheduler calls it when a waiting pod is deleted.
func (p *Profile) RejectWaitingPod(key apis.Key, msg string) bool {
	w := p.waiting.get(key)
	if w == nil {
		return false
	}
	w.Reject("", msg)
	return true
}
