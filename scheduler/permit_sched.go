package scheduler

import (
	"context"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/core"
)

// waitOnPermit waits, in the background, for the verdict on a pod held at
// Permit, so that the scheduling loop goes on with other pods (those a
// co-scheduling plugin waits for among them). Allowed, the pod is bound
// (bind takes a binding slot only then); rejected or timed out, it is
// unreserved, forgotten and retried after its backoff, and pods that the
// room it held kept out get another try.
func (sc *Scheduler) waitOnPermit(ctx context.Context, prof *Profile, state *CycleState, qp *QueuedPod, assumed *PodInfo, bind func(context.Context)) {
	sc.inflight.Go(func() {
		st := prof.WaitOnPermit(ctx, assumed)
		if st.IsSuccess() {
			sc.async(ctx, bind)
			return
		}
		node := assumed.Pod.Spec.NodeName
		key := assumed.Key()
		prof.RunUnreserve(ctx, state, assumed, node)
		sc.cache.ForgetPod(key)
		sc.queue.MoveAllToActiveOrBackoff(EventAssignedPodDelete)
		if ctx.Err() != nil {
			return
		}
		cur, ok := sc.podInformer.Get(key)
		if !ok || !pending(cur) {
			sc.queue.Done(key)
			return
		}
		sc.failed.Add(1)
		sc.log.Info("permit rejected", "pod", key, "node", node, "plugin", st.Plugin(), "err", st.Err())
		sc.reportFailure(ctx, cur, "", "Unschedulable", st.Err().Error())
		sc.queue.AddBackoff(qp)
	})
}

// rejectWaiting rejects a deleted pod held at Permit, freeing its room.
func (sc *Scheduler) rejectWaiting(p *core.Pod) {
	k := apis.Key{Namespace: p.Namespace, Name: p.Name}
	for _, prof := range sc.profiles {
		prof.RejectWaitingPod(k, "pod deleted while waiting on permit")
	}
}
