package agent

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/kubelet"
	"github.com/gantry-sdk/gantry/store"
)

// containerID is how statuses name a runtime container.
func containerID(id string) string {
	if id == "" {
		return ""
	}
	return "cri://" + id
}

func terminated(s kubelet.ContainerStatus) *core.ContainerStateTerminated {
	reason := s.Reason
	if reason == "" {
		reason = kubelet.ReasonCompleted
		if s.ExitCode != 0 {
			reason = kubelet.ReasonError
		}
	}
	return &core.ContainerStateTerminated{
		ExitCode: s.ExitCode, Reason: reason, Message: s.Message,
		StartedAt: apis.NewTime(s.StartedAt), FinishedAt: apis.NewTime(s.FinishedAt), ContainerID: containerID(s.ID),
	}
}

// containerStatus reports one container. blockedBy names why a container that
// never ran waits ("PodInitializing" for app containers behind init ones).
func (a *Agent) containerStatus(ctx context.Context, pod *core.Pod, st *podState, c *core.Container, blockedBy string, isInit bool, now time.Time) (core.ContainerStatus, kubelet.ContainerState, bool) {
	out := core.ContainerStatus{Name: c.Name, Image: c.Image}
	cs := st.ctrs[c.Name]
	f := false
	out.Started = &f
	if cs == nil || cs.id == "" {
		reason := blockedBy
		if reason == "" {
			reason = "ContainerCreating"
		}
		w := &core.ContainerStateWaiting{Reason: reason}
		if cs != nil && cs.pullErr != "" {
			w.Reason, w.Message = cs.pullErr, cs.pullMsg
		} else if st.waitReason != "" {
			w.Reason, w.Message = st.waitReason, st.waitMessage
		}
		out.State.Waiting = w
		if cs != nil && cs.prevID != "" {
			if p, err := a.rt.ContainerStatus(ctx, cs.prevID); err == nil && p.State == kubelet.ContainerExited {
				out.LastTerminationState.Terminated = terminated(p)
				out.RestartCount = int32(cs.attempt) + 1
			}
		}
		return out, kubelet.ContainerUnknown, false
	}
	out.RestartCount = int32(cs.attempt)
	out.ContainerID = containerID(cs.id)
	if cs.prevID != "" {
		if p, err := a.rt.ContainerStatus(ctx, cs.prevID); err == nil && p.State == kubelet.ContainerExited {
			out.LastTerminationState.Terminated = terminated(p)
		}
	}
	s, err := a.rt.ContainerStatus(ctx, cs.id)
	if err != nil {
		out.State.Waiting = &core.ContainerStateWaiting{Reason: "ContainerCreating"}
		return out, kubelet.ContainerUnknown, false
	}
	out.ImageID = s.ImageID
	restarting := false
	switch s.State {
	case kubelet.ContainerRunning:
		out.State.Running = &core.ContainerStateRunning{StartedAt: apis.NewTime(s.StartedAt)}
		started, ready := a.probes.results(cs.id, c)
		out.Started = &started
		out.Ready = started && ready
	case kubelet.ContainerExited:
		restarting = shouldRestart(pod.Spec.RestartPolicy, s.ExitCode) && !st.done
		if isInit {
			restarting = restarting && s.ExitCode != 0
		}
		if restarting && cs.exitOf == cs.id && cs.restartAt.After(now) {
			out.LastTerminationState.Terminated = terminated(s)
			out.State.Waiting = &core.ContainerStateWaiting{Reason: "CrashLoopBackOff",
				Message: fmt.Sprintf("back-off %s restarting failed container=%s pod=%s_%s(%s)",
					cs.backoffShown(), c.Name, pod.Name, pod.Namespace, pod.UID)}
		} else {
			out.State.Terminated = terminated(s)
		}
	default:
		out.State.Waiting = &core.ContainerStateWaiting{Reason: "ContainerCreating"}
	}
	return out, s.State, restarting
}

// backoffShown is the back-off the container is serving now.
func (cs *ctrState) backoffShown() time.Duration { return cs.delay }

// podStatus computes the whole status of a pod from the runtime.
func (a *Agent) podStatus(ctx context.Context, pod *core.Pod, st *podState) core.PodStatus {
	now := a.clock.Now()
	out := core.PodStatus{
		QOSClass: core.QOSClassOf(&pod.Spec), HostIP: a.hostIP, ObservedGeneration: pod.Generation,
	}
	if a.hostIP != "" {
		out.HostIPs = []core.HostIP{{IP: a.hostIP}}
	}
	start := apis.NewTime(st.startTime)
	out.StartTime = &start
	if st.ip != "" {
		out.PodIP, out.PodIPs = st.ip, []core.PodIP{{IP: st.ip}}
	}
	initDone, initFailed := true, false
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		cs, state, restarting := a.containerStatus(ctx, pod, st, c, "PodInitializing", true, now)
		if cs.State.Terminated != nil && cs.State.Terminated.ExitCode == 0 {
			cs.State.Terminated.Reason = kubelet.ReasonCompleted
		} else {
			if state == kubelet.ContainerExited && !restarting {
				initFailed = true
			}
			initDone = false
		}
		out.InitContainerStatuses = append(out.InitContainerStatuses, cs)
	}
	blocked := ""
	if !initDone {
		blocked = "PodInitializing"
	}
	running, waiting, succeeded, failed, restartingN := 0, 0, 0, 0, 0
	allReady := len(pod.Spec.Containers) > 0
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		cs, state, restarting := a.containerStatus(ctx, pod, st, c, blocked, false, now)
		switch {
		case state == kubelet.ContainerRunning:
			running++
		case state == kubelet.ContainerExited && restarting:
			restartingN++
		case state == kubelet.ContainerExited && cs.State.Terminated != nil && cs.State.Terminated.ExitCode == 0:
			succeeded++
		case state == kubelet.ContainerExited:
			failed++
		default:
			waiting++
			if cs.LastTerminationState.Terminated != nil {
				restartingN++
				waiting--
			}
		}
		if !cs.Ready {
			allReady = false
		}
		out.ContainerStatuses = append(out.ContainerStatuses, cs)
	}
	switch {
	case initFailed || (st.done && pod.Status.Phase == core.PodFailed):
		out.Phase = core.PodFailed
	case !initDone:
		out.Phase = core.PodPending
	case waiting == 0 && running == 0 && restartingN == 0:
		if failed > 0 {
			out.Phase = core.PodFailed
		} else {
			out.Phase = core.PodSucceeded
		}
	case running > 0 || restartingN > 0:
		out.Phase = core.PodRunning
	default:
		out.Phase = core.PodPending
	}
	if out.Phase == core.PodSucceeded || out.Phase == core.PodFailed {
		st.done = true
	}
	cond := func(t core.PodConditionType, ok bool, reason string) core.PodCondition {
		c := core.PodCondition{Type: t, Status: apis.ConditionFalse, LastTransitionTime: apis.NewTime(now)}
		if ok {
			c.Status = apis.ConditionTrue
		} else {
			c.Reason = reason
		}
		return c
	}
	terminal := out.Phase == core.PodSucceeded || out.Phase == core.PodFailed
	containersReady := allReady && !terminal
	notReady := "ContainersNotReady"
	if terminal {
		notReady = "PodCompleted"
	}
	out.Conditions = []core.PodCondition{
		cond(core.PodReadyToStartContainers, st.sandboxID != "", ""),
		cond(core.PodInitialized, initDone, "ContainersNotInitialized"),
		cond(core.PodReady, containersReady, notReady),
		cond(core.ContainersReady, containersReady, notReady),
		cond(core.PodScheduled, true, ""),
	}
	for i := range out.Conditions {
		if old := pod.Status.GetPodCondition(out.Conditions[i].Type); old != nil && old.Status == out.Conditions[i].Status {
			out.Conditions[i].LastTransitionTime = old.LastTransitionTime
		}
	}
	return out
}

// writeStatus writes the pod's status when it changed.
func (a *Agent) writeStatus(ctx context.Context, pod *core.Pod, st *podState) error {
	status := a.podStatus(ctx, pod, st)
	if apis.SemanticEqual(status, pod.Status) {
		return nil
	}
	next := apis.DeepCopy(pod)
	next.Status = status
	next.ResourceVersion = "" // the agent is the status' only writer
	_, err := store.For[*core.Pod](a.s).UpdateStatus(ctx, next, store.WriteOptions{})
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("agent: pod %s status: %w", apis.KeyOf(pod), err)
	}
	return nil
}
