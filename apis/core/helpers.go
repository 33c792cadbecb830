package core

import (
	"time"

	"github.com/gantry-sdk/gantry/apis"
)

// Add adds every amount of other to l (creating entries as needed).
func (l ResourceList) Add(other ResourceList) {
	for name, q := range other {
		cur := l[name]
		cur.Add(q)
		l[name] = cur
	}
}

// SetMax raises every amount of l to at least the one in other.
func (l ResourceList) SetMax(other ResourceList) {
	for name, q := range other {
		if cur, ok := l[name]; !ok || q.Cmp(cur) > 0 {
			l[name] = q
		}
	}
}

// Clone returns a copy of l (Quantities are values).
func (l ResourceList) Clone() ResourceList {
	if l == nil {
		return nil
	}
	out := make(ResourceList, len(l))
	for k, v := range l {
		out[k] = v
	}
	return out
}

// PodRequests returns what a pod needs reserved on a node, as the scheduler
// and kubelet account it: the sum of its containers' requests, plus sidecars
// (init containers with restartPolicy Always, which keep running), or the
// largest need of any init container phase if that is higher, plus overhead.
func PodRequests(s *PodSpec) ResourceList {
	return podResources(s, func(r *ResourceRequirements) ResourceList { return r.Requests })
}

// PodLimits is PodRequests for limits.
func PodLimits(s *PodSpec) ResourceList {
	return podResources(s, func(r *ResourceRequirements) ResourceList { return r.Limits })
}

func podResources(s *PodSpec, pick func(*ResourceRequirements) ResourceList) ResourceList {
	total := ResourceList{}
	for i := range s.Containers {
		total.Add(pick(&s.Containers[i].Resources))
	}
	sidecars := ResourceList{}
	initPeak := ResourceList{}
	for i := range s.InitContainers {
		c := &s.InitContainers[i]
		need := pick(&c.Resources).Clone()
		if need == nil {
			need = ResourceList{}
		}
		if c.RestartPolicy != nil && *c.RestartPolicy == ContainerRestartPolicyAlways {
			// A sidecar runs alongside the app containers and every later init container.
			total.Add(need)
			sidecars.Add(need)
			need = sidecars.Clone()
		} else {
			need.Add(sidecars)
		}
		initPeak.SetMax(need)
	}
	total.SetMax(initPeak)
	total.Add(s.Overhead)
	return total
}

// GetPodCondition returns the pod's condition of type t, or nil.
func (s *PodStatus) GetPodCondition(t PodConditionType) *PodCondition {
	for i := range s.Conditions {
		if s.Conditions[i].Type == t {
			return &s.Conditions[i]
		}
	}
	return nil
}

// IsPodReady reports whether the pod's Ready condition is True.
func IsPodReady(p *Pod) bool {
	c := p.Status.GetPodCondition(PodReady)
	return c != nil && c.Status == apis.ConditionTrue
}

// IsPodAvailable reports whether the pod has been ready for at least
// minReadySeconds at now (the clock is the caller's).
func IsPodAvailable(p *Pod, minReadySeconds int32, now time.Time) bool {
	c := p.Status.GetPodCondition(PodReady)
	if c == nil || c.Status != apis.ConditionTrue {
		return false
	}
	if minReadySeconds == 0 {
		return true
	}
	return !c.LastTransitionTime.IsZero() && !c.LastTransitionTime.Add(time.Duration(minReadySeconds)*time.Second).After(now)
}

// IsPodTerminal reports whether the pod has finished (Succeeded or Failed).
func IsPodTerminal(p *Pod) bool {
	return p.Status.Phase == PodSucceeded || p.Status.Phase == PodFailed
}
