package scheduler_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/scheduler"
	"github.com/gantry-sdk/gantry/store"
)

type gangCluster struct {
	t    *testing.T
	s    store.Store
	gang *Coscheduling
}

func newGangCluster(t *testing.T, minMember int, timeout time.Duration, nodes ...string) *gangCluster {
	s, gang, stop := newGangScheduler(minMember, timeout)
	t.Cleanup(stop)
	for _, n := range nodes {
		_, err := store.For[*core.Node](s).Create(context.Background(), gangNode(n), store.WriteOptions{})
		require.NoError(t, err)
	}
	return &gangCluster{t: t, s: s, gang: gang}
}

func (c *gangCluster) add(name, group string) {
	_, err := store.For[*core.Pod](c.s).Create(context.Background(), gangPod(name, group), store.WriteOptions{})
	require.NoError(c.t, err)
}

func (c *gangCluster) waiting(name string) *scheduler.WaitingPod {
	var w *scheduler.WaitingPod
	require.Eventually(c.t, func() bool {
		w = c.gang.Handle.GetWaitingPod(apis.Key{Namespace: "default", Name: name})
		return w != nil
	}, 20*time.Second, 5*time.Millisecond, "%s never waited at Permit", name)
	return w
}

func (c *gangCluster) bound(names ...string) []string {
	var nodes []string
	require.Eventually(c.t, func() bool {
		nodes = boundNodes(context.Background(), c.s, names...)
		return !slices.Contains(nodes, "")
	}, 20*time.Second, 5*time.Millisecond, "pods %v not all bound", names)
	return nodes
}

func (c *gangCluster) event(pod, reason, contains string) {
	require.Eventually(c.t, func() bool {
		l, err := store.For[*core.Event](c.s).List(context.Background(), store.ListOptions{Namespace: "default"})
		require.NoError(c.t, err)
		for _, e := range l.Items {
			if e.InvolvedObject.Name == pod && e.Reason == reason && strings.Contains(e.Message, contains) {
				return true
			}
		}
		return false
	}, 20*time.Second, 5*time.Millisecond, "no %s event for %s containing %q", reason, pod, contains)
}

// TestScenarioGangHoldsRoomWithoutBlocking: pods waiting at Permit keep
// their nodes (a pod scheduled meanwhile goes elsewhere, so the loop is not
// blocked by the wait) and bind where they were reserved once the group forms.
func TestScenarioGangHoldsRoomWithoutBlocking(t *testing.T) {
	c := newGangCluster(t, 3, time.Minute, "n1", "n2", "n3", "n4")
	c.add("worker-0", "train")
	c.add("worker-1", "train")
	w0, w1 := c.waiting("worker-0"), c.waiting("worker-1")
	require.NotEqual(t, w0.NodeName(), w1.NodeName())
	assert.Equal(t, []string{"Coscheduling"}, w0.PendingPlugins())

	c.add("solo", "")
	solo := c.bound("solo")[0]
	assert.NotContains(t, []string{w0.NodeName(), w1.NodeName()}, solo, "a waiting pod's node is reserved")
	assert.Equal(t, []string{"", ""}, boundNodes(context.Background(), c.s, "worker-0", "worker-1"))

	c.add("worker-2", "train")
	nodes := c.bound("worker-0", "worker-1", "worker-2")
	assert.Equal(t, w0.NodeName(), nodes[0])
	assert.Equal(t, w1.NodeName(), nodes[1])
	assert.NotContains(t, nodes, solo)
	c.event("worker-2", "Scheduled", "Successfully assigned")
}

// TestScenarioGangTimeoutRequeues: a group that does not form in time is
// rejected (FailedScheduling naming the plugin and the wait), retried with
// backoff, and binds once the missing member arrives.
func TestScenarioGangTimeoutRequeues(t *testing.T) {
	c := newGangCluster(t, 2, 50*time.Millisecond, "n1", "n2")
	c.add("worker-0", "train")
	c.event("worker-0", "FailedScheduling", "rejected due to timeout after waiting 50ms at plugin Coscheduling")
	require.Eventually(t, func() bool {
		p, err := store.For[*core.Pod](c.s).Get(context.Background(), apis.Key{Namespace: "default", Name: "worker-0"}, store.GetOptions{})
		require.NoError(t, err)
		cond := p.Status.GetPodCondition(core.PodScheduled)
		return cond != nil && cond.Status == apis.ConditionFalse && cond.Reason == "Unschedulable"
	}, 20*time.Second, 5*time.Millisecond)
	// Retried: it waits again after its backoff.
	c.waiting("worker-0")
	c.add("worker-1", "train")
	nodes := c.bound("worker-0", "worker-1")
	assert.NotEqual(t, nodes[0], nodes[1])
}

// TestScenarioDeletingWaitingPodFreesRoom: deleting a pod held at Permit
// rejects it and gives its reserved room to a pod that did not fit.
func TestScenarioDeletingWaitingPodFreesRoom(t *testing.T) {
	c := newGangCluster(t, 2, time.Minute, "n1")
	c.add("worker-0", "train")
	c.waiting("worker-0")
	c.add("solo", "")
	c.event("solo", "FailedScheduling", "0/1 nodes are available: 1 Insufficient cpu.")
	_, err := store.For[*core.Pod](c.s).Delete(context.Background(), apis.Key{Namespace: "default", Name: "worker-0"}, store.DeleteOptions{})
	require.NoError(t, err)
	assert.Equal(t, []string{"n1"}, c.bound("solo"))
}
