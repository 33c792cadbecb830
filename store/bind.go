package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/apis/field"
)

// SubresourceBinding is AdmissionRequest.Subresource for BindPod.
const SubresourceBinding = "binding"

// podGVK is the kind BindPod writes.
var podGVK = apis.GroupVersionKind{Version: "v1", Kind: "Pod"}

// Binding asks for a pending pod to be bound to a node, as a Kubernetes
// Binding (pods/binding) does.
type Binding struct {
	// Pod names the pod.
	Pod apis.Key
	// UID and ResourceVersion, when set, are preconditions: the bind fails
	// with ErrConflict unless the stored pod has them.
	UID             string
	ResourceVersion string
	// NodeName is the node to bind to (the Binding's target).
	NodeName string
}

// PodBinder is implemented by stores that bind a pod in one write. Callers
// type-assert a Store to it and fall back to Update then UpdateStatus.
type PodBinder interface {
	// BindPod sets spec.nodeName and the PodScheduled=True condition (and
	// clears status.nominatedNodeName) in one write that compares on the
	// revision it read, as the binding subresource does. It fails with
	// ErrConflict when the pod is already bound, being deleted or gated, or
	// fails b's preconditions; ErrNotFound when it does not exist; ErrInvalid
	// for a bad node name. It returns the pod's new resourceVersion.
	BindPod(ctx context.Context, b Binding, opts WriteOptions) (int64, error)
}

var _ PodBinder = (*ObjectStore)(nil)

// BindPod implements PodBinder. The pod is neither defaulted nor validated
// again: only nodeName and the condition change, and only nodeName is
// checked (as the API server's binding does); validating admission runs
// with Subresource "binding", mutating admission does not (a Binding has
// no pod to mutate).
func (s *ObjectStore) BindPod(ctx context.Context, b Binding, opts WriteOptions) (int64, error) {
	k, err := s.scheme.Lookup(podGVK)
	if err != nil {
		return 0, fmt.Errorf("store: bind: %w", err)
	}
	if b.Pod.Name == "" {
		return 0, invalid(k, "", field.Required(field.NewPath("metadata", "name"), ""))
	}
	if msgs := apis.IsDNS1123Subdomain(b.NodeName); len(msgs) > 0 || b.NodeName == "" {
		return 0, invalid(k, b.Pod.Name, field.Invalid(field.NewPath("target", "name"), b.NodeName, "must name a node (a DNS-1123 subdomain)"))
	}
	var wantRV int64
	if b.ResourceVersion != "" {
		if wantRV, err = parseResourceVersion(k, b.Pod.Name, b.ResourceVersion); err != nil {
			return 0, err
		}
	}
	kvKey := s.objectKey(k, b.Pod)
	for attempt := 0; attempt < maxAttempts; attempt++ {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		fence, err := s.fenceCompare(ctx, k, b.Pod, opts.Fence)
		if err != nil {
			return 0, err
		}
		curKV, err := s.readKV(ctx, k, b.Pod, 0)
		if err != nil {
			return 0, err
		}
		shared, err := s.shared(k, curKV.Key, curKV.Value, curKV.ModRevision)
		if err != nil {
			return 0, err
		}
		cur, ok := shared.(*core.Pod)
		if !ok {
			return 0, fmt.Errorf("store: bind: the v1 Pod kind decodes to %T, not *core.Pod", shared)
		}
		if err := bindable(k, b, cur, wantRV, curKV.ModRevision); err != nil {
			return 0, err
		}
		// next shares what it does not change with cur: both are shared
		// decoded values, which nobody modifies (callers get deep copies).
		shallow := *cur
		next := &shallow
		next.Status.Conditions = slices.Clone(cur.Status.Conditions)
		next.Spec.NodeName = b.NodeName
		next.Status.NominatedNodeName = ""
		// The time as the JSON codec gives it back (whole seconds, local), so that
		// next equals the decoding of what is written (see cacheWritten).
		now := apis.NewTime(s.now().Truncate(time.Second).Local())
		if c := next.Status.GetPodCondition(core.PodScheduled); c == nil {
			next.Status.Conditions = append(next.Status.Conditions, core.PodCondition{Type: core.PodScheduled, Status: apis.ConditionTrue, LastTransitionTime: now})
		} else if c.Status != apis.ConditionTrue {
			*c = core.PodCondition{Type: core.PodScheduled, Status: apis.ConditionTrue, LastTransitionTime: now}
		}
		req := AdmissionRequest{Operation: OperationUpdate, Subresource: SubresourceBinding, Kind: k, Key: b.Pod, Object: next, OldObject: cur, DryRun: opts.DryRun}
		if err := admit(ctx, s.validating, req); err != nil {
			return 0, err
		}
		data, err := s.encode(k, next)
		if err != nil {
			return 0, err
		}
		if opts.DryRun {
			return curKV.ModRevision, nil
		}
		var expected *pendingWrite
		if s.keepsWritten() {
			expected = s.expectWrite(kvKey, data, next)
		}
		rev, err := s.kv.Txn(ctx, Txn{If: append([]Compare{{Key: kvKey, ModRevision: curKV.ModRevision}}, fence...), Then: []Op{Put(kvKey, data)}})
		if err != nil && expected != nil {
			s.unexpectWrite(kvKey, expected)
		}
		if errors.Is(err, ErrConflict) {
			if ferr := s.fenceFailed(ctx, k, b.Pod, opts.Fence); ferr != nil {
				return 0, ferr
			}
			continue // written in between: look again (preconditions included)
		}
		if err != nil {
			return 0, fmt.Errorf("store: bind %s %q: %w", k.GroupResource(), b.Pod, err)
		}
		if expected != nil {
			s.cacheWritten(k, kvKey, rev, expected)
		}
		return rev, nil
	}
	return 0, conflictf(k, b.Pod, "gave up after %d attempts", maxAttempts)
}

// bindable checks that cur, stored at revision rev, may be bound as b asks.
func bindable(k *apis.KindInfo, b Binding, cur *core.Pod, wantRV, rev int64) error {
	switch {
	case b.UID != "" && cur.UID != b.UID:
		return conflictf(k, b.Pod, "precondition failed: uid %s is not the stored %s", b.UID, cur.UID)
	case wantRV != 0 && wantRV != rev:
		return conflictf(k, b.Pod, "the object has been modified: resourceVersion %d is not the stored %d; read it again and retry", wantRV, rev)
	case cur.DeletionTimestamp != nil:
		return conflictf(k, b.Pod, "pod is being deleted, cannot be assigned to a host")
	case cur.Spec.NodeName != "":
		return conflictf(k, b.Pod, "pod is already assigned to node %q", cur.Spec.NodeName)
	case len(cur.Spec.SchedulingGates) > 0:
		return conflictf(k, b.Pod, "pod has non-empty spec.schedulingGates")
	}
	return nil
}
