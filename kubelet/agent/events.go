package agent

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/reconcile"
	"github.com/gantry-sdk/gantry/store"
)

// recorder writes core/v1 Events about pods, as the kubelet component of a node.
type recorder struct {
	events store.Typed[*core.Event]
	node   string
	clock  reconcile.Clock
	seq    atomic.Uint64
}

func newRecorder(s store.Store, node string, clock reconcile.Clock) *recorder {
	return &recorder{events: store.For[*core.Event](s), node: node, clock: clock}
}

// pod records an event about pod; failures are not the pod's problem and are dropped.
func (r *recorder) pod(ctx context.Context, pod *core.Pod, typ, reason, msg string) {
	r.record(ctx, core.ObjectReference{
		Kind: "Pod", APIVersion: "v1", Namespace: pod.Namespace, Name: pod.Name, UID: string(pod.UID),
	}, pod.Namespace, typ, reason, msg)
}

// nodeEvent records an event about the agent's Node (in namespace default, as
// the kubelet's); failures are dropped.
func (r *recorder) nodeEvent(ctx context.Context, typ, reason, msg string) {
	r.record(ctx, core.ObjectReference{Kind: "Node", APIVersion: "v1", Name: r.node, UID: r.node}, "default", typ, reason, msg)
}

func (r *recorder) record(ctx context.Context, about core.ObjectReference, namespace, typ, reason, msg string) {
	now := r.clock.Now()
	e := &core.Event{
		InvolvedObject: about,
		Reason:         reason, Message: msg, EventType: typ, Count: 1,
		Source:         core.EventSource{Component: "kubelet", Host: r.node},
		FirstTimestamp: apis.NewTime(now), LastTimestamp: apis.NewTime(now),
		ReportingController: "kubelet", ReportingInstance: r.node,
	}
	e.Namespace = namespace
	e.Name = fmt.Sprintf("%s.%x%04x", about.Name, now.UnixNano(), r.seq.Add(1)&0xffff)
	_, _ = r.events.Create(ctx, e, store.WriteOptions{})
}
