package agent

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/coordination"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/store"
)

func TestNodeRegistrationAndLease(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, Options{})
		ctx := context.Background()
		var node *core.Node
		h.eventually(time.Second, "node registered", func() bool {
			n, err := store.For[*core.Node](h.s).Get(ctx, apis.Key{Name: "n1"}, store.GetOptions{})
			node = n
			return err == nil && len(n.Status.Conditions) == 5
		})
		assert.Equal(t, int64(110), node.Status.Capacity.Pods().Value())
		assert.Equal(t, int64(4), node.Status.Capacity.Cpu().Value())
		assert.Equal(t, int64(8<<30), node.Status.Capacity.Memory().Value())
		assert.Less(t, node.Status.Allocatable.Memory().Value(), int64(8<<30))
		assert.Contains(t, node.Status.Addresses, core.NodeAddress{Type: core.NodeInternalIP, Address: "192.0.2.10"})
		assert.Contains(t, node.Status.Addresses, core.NodeAddress{Type: core.NodeHostName, Address: "n1.test"})
		assert.Equal(t, Version, node.Status.NodeInfo.KubeletVersion)
		for _, c := range node.Status.Conditions {
			want := apis.ConditionFalse
			if c.Type == core.NodeReady {
				want = apis.ConditionTrue
			}
			assert.Equal(t, want, c.Status, c.Type)
		}

		leases := store.For[*coordination.Lease](h.s)
		var l1 *coordination.Lease
		h.eventually(time.Second, "lease created", func() bool {
			l, err := leases.Get(ctx, apis.Key{Namespace: "kube-node-lease", Name: "n1"}, store.GetOptions{})
			l1 = l
			return err == nil
		})
		assert.Equal(t, "n1", *l1.Spec.HolderIdentity)
		time.Sleep(5*time.Second + 10*time.Millisecond)
		l2, err := leases.Get(ctx, apis.Key{Namespace: "kube-node-lease", Name: "n1"}, store.GetOptions{})
		require.NoError(t, err)
		assert.Equal(t, 5*time.Second, l2.Spec.RenewTime.Sub(l1.Spec.RenewTime.Time).Round(time.Second))
		n2, err := store.For[*core.Node](h.s).Get(ctx, apis.Key{Name: "n1"}, store.GetOptions{})
		require.NoError(t, err)
		ready := n2.Status.Condition(core.NodeReady)
		assert.True(t, ready.LastHeartbeatTime.After(node.Status.Condition(core.NodeReady).LastHeartbeatTime.Time))
		assert.Equal(t, node.Status.Condition(core.NodeReady).LastTransitionTime, ready.LastTransitionTime)
	})
}

func TestNodePressureConditions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := testMachine()
		m.MemoryAvailableBytes = 50 << 20
		m.DiskAvailableBytes = 1 << 30
		m.PIDs = m.PIDMax
		m.NetworkReady = false
		h := newHarness(t, Options{Machine: MachineFunc(func() (MachineInfo, error) { return m, nil })})
		h.eventually(time.Second, "node registered", func() bool {
			n, err := store.For[*core.Node](h.s).Get(context.Background(), apis.Key{Name: "n1"}, store.GetOptions{})
			if err != nil || len(n.Status.Conditions) != 5 {
				return false
			}
			for _, c := range n.Status.Conditions {
				if c.Status != apis.ConditionTrue && c.Type != core.NodeReady {
					return false
				}
			}
			return n.Status.Condition(core.NodeReady).Status == apis.ConditionFalse
		})
	})
}
