package agent

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/builtin"
	"github.com/gantry-sdk/gantry/apis/coordination"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/kubelet"
	"github.com/gantry-sdk/gantry/kubelet/fake"
	"github.com/gantry-sdk/gantry/store"
	"github.com/gantry-sdk/gantry/store/memory"
)

func withGrace(p *core.Pod, seconds int64) *core.Pod {
	p.Spec.TerminationGracePeriodSeconds = &seconds
	return p
}

// finishedAt is when the container of pod named ctr exited in the runtime.
func (h *harness) finishedAt(pod, ctr string) time.Time {
	h.t.Helper()
	for _, c := range h.containers(ctr) {
		if c.Labels[kubelet.LabelPodName] == pod {
			s, err := h.run.ContainerStatus(context.Background(), c.ID)
			require.NoError(h.t, err)
			require.Equal(h.t, kubelet.ContainerExited, s.State, "%s/%s", pod, ctr)
			return s.FinishedAt
		}
	}
	h.t.Fatalf("no container %s in pod %s", ctr, pod)
	return time.Time{}
}

func (h *harness) nodeReady() *core.NodeCondition {
	n, err := store.For[*core.Node](h.s).Get(context.Background(), apis.Key{Name: h.node}, store.GetOptions{})
	if err != nil {
		return nil
	}
	return n.Status.Condition(core.NodeReady)
}

// assertTerminatedByShutdown checks the kubelet's status of a pod terminated
// by a node shutdown.
func assertTerminatedByShutdown(t *testing.T, p *core.Pod) {
	t.Helper()
	require.NotNil(t, p)
	assert.Equal(t, core.PodFailed, p.Status.Phase, p.Name)
	assert.Equal(t, "Terminated", p.Status.Reason, p.Name)
	assert.Equal(t, "Pod was terminated in response to imminent node shutdown.", p.Status.Message, p.Name)
	c := p.Status.GetPodCondition(core.DisruptionTarget)
	require.NotNil(t, c, p.Name)
	assert.Equal(t, apis.ConditionTrue, c.Status)
	assert.Equal(t, "TerminationByKubelet", c.Reason)
	assert.Equal(t, "Pod was terminated in response to imminent node shutdown.", c.Message)
	assert.False(t, core.IsPodReady(p), p.Name)
	for _, cs := range p.Status.ContainerStatuses {
		assert.NotNil(t, cs.State.Terminated, "%s/%s", p.Name, cs.Name)
	}
}

func TestGracefulNodeShutdown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, Options{ShutdownGracePeriod: 30 * time.Second, ShutdownGracePeriodCriticalPods: 10 * time.Second})
		ctx := context.Background()
		h.rt.Script("stubborn", fake.Behavior{OnSIGTERM: fake.TermIgnored})
		h.rt.Script("polite", fake.Behavior{OnSIGTERM: fake.TermExits})
		h.rt.Script("crit", fake.Behavior{OnSIGTERM: fake.TermIgnored})
		h.create(withGrace(simplePod("regular", "stubborn"), 60)) // grace capped to 30-10 s
		h.create(withGrace(simplePod("short", "stubborn"), 5))    // its own 5 s is shorter
		h.create(withGrace(simplePod("quick", "polite"), 60))     // exits on SIGTERM
		critical := withGrace(simplePod("critical", "crit"), 60)
		critical.Spec.PriorityClassName = "system-node-critical"
		h.create(critical)
		for _, n := range []string{"regular", "short", "quick", "critical"} {
			h.eventually(5*time.Second, n+" running", h.phase(n, core.PodRunning))
		}
		require.Equal(t, apis.ConditionTrue, h.nodeReady().Status)

		start := time.Now()
		errc := make(chan error, 1)
		go func() { errc <- h.agent.Shutdown(ctx) }()

		h.eventually(time.Second, "node NotReady", func() bool {
			r := h.nodeReady()
			return r != nil && r.Status == apis.ConditionFalse
		})
		r := h.nodeReady()
		assert.Equal(t, "KubeletNotReady", r.Reason)
		assert.Equal(t, "node is shutting down", r.Message)
		shutdownEvents := h.events("Shutdown")
		require.Len(t, shutdownEvents, 1)
		assert.Equal(t, core.ObjectReference{Kind: "Node", APIVersion: "v1", Name: "n1", UID: "n1"}, shutdownEvents[0].InvolvedObject)
		assert.Equal(t, "Shutdown manager detected shutdown event", shutdownEvents[0].Message)

		// A pod bound during the shutdown is rejected and never started.
		h.create(simplePod("late", "app"))
		h.eventually(time.Second, "late rejected", h.phase("late", core.PodFailed))
		late := h.pod("late")
		assert.Equal(t, "NodeShutdown", late.Status.Reason)
		assert.Equal(t, "Pod was rejected: Pod was rejected as the node is shutting down.", late.Status.Message)
		assert.Empty(t, h.containers("app"))
		rejected := h.events("NodeShutdown")
		require.Len(t, rejected, 1)
		assert.Equal(t, core.EventTypeWarning, rejected[0].EventType)
		assert.Equal(t, "late", rejected[0].InvolvedObject.Name)
		assert.Equal(t, "Pod was rejected as the node is shutting down.", rejected[0].Message)

		// Regular pods first: the critical one outlives them, still running.
		h.eventually(25*time.Second, "regular terminated", h.phase("regular", core.PodFailed))
		assert.Equal(t, core.PodRunning, h.pod("critical").Status.Phase)
		for _, c := range h.containers("crit") {
			assert.Equal(t, kubelet.ContainerRunning, c.State, "the critical pod runs while the regular ones end")
		}

		require.NoError(t, <-errc)
		elapsed := time.Since(start)
		assert.GreaterOrEqual(t, elapsed, 30*time.Second)
		assert.Less(t, elapsed, 32*time.Second)

		// Each container got SIGTERM, then SIGKILL after min(its grace, its group's period).
		since := func(pod, ctr string) time.Duration { return h.finishedAt(pod, ctr).Sub(start).Round(time.Second) }
		assert.Equal(t, 0*time.Second, since("quick", "polite"))
		assert.Equal(t, 5*time.Second, since("short", "stubborn"))
		assert.Equal(t, 20*time.Second, since("regular", "stubborn"))
		assert.Equal(t, 30*time.Second, since("critical", "crit"))
		for _, n := range []string{"regular", "short", "quick", "critical"} {
			assertTerminatedByShutdown(t, h.pod(n))
		}
		assert.Equal(t, int32(137), cstatus(h.pod("regular"), "stubborn").State.Terminated.ExitCode)
		assert.Equal(t, int32(0), cstatus(h.pod("quick"), "polite").State.Terminated.ExitCode)
		assert.Equal(t, int32(137), cstatus(h.pod("critical"), "crit").State.Terminated.ExitCode)
		assert.Len(t, h.events("Killing"), 4)
		for _, name := range []string{"stubborn", "polite", "crit"} {
			for _, c := range h.containers(name) {
				assert.Equal(t, kubelet.ContainerExited, c.State, "no container left running")
			}
		}

		// The agent stopped: the Lease is no longer renewed, pods stay as written.
		leases := store.For[*coordination.Lease](h.s)
		l1, err := leases.Get(ctx, apis.Key{Namespace: "kube-node-lease", Name: "n1"}, store.GetOptions{})
		require.NoError(t, err)
		time.Sleep(20 * time.Second)
		l2, err := leases.Get(ctx, apis.Key{Namespace: "kube-node-lease", Name: "n1"}, store.GetOptions{})
		require.NoError(t, err)
		assert.Equal(t, l1.Spec.RenewTime, l2.Spec.RenewTime)
		assert.Equal(t, apis.ConditionFalse, h.nodeReady().Status)
		assertTerminatedByShutdown(t, h.pod("regular"))

		// A second call returns the first one's result; the agent runs no more.
		assert.NoError(t, h.agent.Shutdown(ctx))
		assert.ErrorIs(t, h.agent.Run(ctx), ErrNotRunning)
	})
}

func TestNodeShutdownByPodPriority(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, Options{ShutdownGracePeriodByPodPriority: []ShutdownGracePeriodByPodPriority{
			{Priority: SystemCriticalPriority, ShutdownGracePeriod: 2 * time.Second},
			{Priority: 0, ShutdownGracePeriod: 3 * time.Second},
			{Priority: 1000, ShutdownGracePeriod: 5 * time.Second},
		}})
		h.rt.Script("app", fake.Behavior{OnSIGTERM: fake.TermIgnored})
		prio := func(name string, p *int32, class string) {
			pod := withGrace(simplePod(name, "app"), 100)
			pod.Spec.Priority, pod.Spec.PriorityClassName = p, class
			h.create(pod)
		}
		i32 := func(v int32) *int32 { return &v }
		prio("none", nil, "")                           // priority 0
		prio("negative", i32(-5), "")                   // below every group: the lowest
		prio("mid", i32(1500), "")                      // group 1000
		prio("cluster", nil, "system-cluster-critical") // class resolved to 2000000000
		prio("explicit", i32(SystemCriticalPriority+1000), "")
		names := []string{"none", "negative", "mid", "cluster", "explicit"}
		for _, n := range names {
			h.eventually(5*time.Second, n+" running", h.phase(n, core.PodRunning))
		}
		start := time.Now()
		require.NoError(t, h.agent.Shutdown(context.Background()))
		assert.Equal(t, 10*time.Second, time.Since(start).Round(time.Second))
		want := map[string]time.Duration{"none": 3 * time.Second, "negative": 3 * time.Second, "mid": 8 * time.Second,
			"cluster": 10 * time.Second, "explicit": 10 * time.Second}
		for _, n := range names {
			assert.Equal(t, want[n], h.finishedAt(n, "app").Sub(start).Round(time.Second), n)
			assertTerminatedByShutdown(t, h.pod(n))
		}
	})
}

func TestNodeShutdownPodDeletedWhileTerminating(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, Options{ShutdownGracePeriod: 30 * time.Second})
		h.rt.Script("app", fake.Behavior{OnSIGTERM: fake.TermIgnored})
		h.create(withGrace(simplePod("del", "app"), 60))
		h.eventually(5*time.Second, "running", h.phase("del", core.PodRunning))
		start := time.Now()
		errc := make(chan error, 1)
		go func() { errc <- h.agent.Shutdown(context.Background()) }()
		time.Sleep(2 * time.Second)
		zero := int64(0)
		_, err := store.For[*core.Pod](h.s).Delete(context.Background(), apis.Key{Namespace: "default", Name: "del"}, store.DeleteOptions{GracePeriodSeconds: &zero})
		require.NoError(t, err)
		require.NoError(t, <-errc)
		assert.Less(t, time.Since(start), 3*time.Second, "a pod gone from the store is not waited for")
		assert.Empty(t, h.containers("app"), "its containers are removed as for any deleted pod")
	})
}

func TestNodeShutdownDisabled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, Options{})
		h.create(simplePod("keep", "app"))
		h.eventually(5*time.Second, "running", h.phase("keep", core.PodRunning))
		start := time.Now()
		require.NoError(t, h.agent.Shutdown(context.Background()))
		assert.Less(t, time.Since(start), time.Second, "no grace: the agent just stops")
		assert.Equal(t, core.PodRunning, h.pod("keep").Status.Phase)
		assert.Equal(t, kubelet.ContainerRunning, h.containers("app")[0].State, "pods are left to the machine")
		assert.Empty(t, h.events("Shutdown"))
		assert.Equal(t, apis.ConditionTrue, h.nodeReady().Status)
	})
}

func TestNodeShutdownWithoutPods(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, Options{ShutdownGracePeriod: 30 * time.Second, ShutdownGracePeriodCriticalPods: 10 * time.Second})
		h.eventually(time.Second, "node registered", func() bool { return h.nodeReady() != nil })
		start := time.Now()
		require.NoError(t, h.agent.Shutdown(context.Background()))
		assert.Less(t, time.Since(start), time.Second, "no pods: nothing to wait for")
		r := h.nodeReady()
		assert.Equal(t, apis.ConditionFalse, r.Status, "NotReady is posted before the agent stops")
		assert.Equal(t, "node is shutting down", r.Message)
	})
}

func TestNodeShutdownNotRunning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, Options{ShutdownGracePeriod: time.Second})
		a, err := New("n2", h.s, h.run, h.opts)
		require.NoError(t, err)
		assert.ErrorIs(t, a.Shutdown(context.Background()), ErrNotRunning)
	})
}

func TestNodeShutdownContextEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, Options{ShutdownGracePeriod: time.Minute})
		h.rt.Script("app", fake.Behavior{OnSIGTERM: fake.TermIgnored})
		h.create(withGrace(simplePod("slow", "app"), 60))
		h.eventually(5*time.Second, "running", h.phase("slow", core.PodRunning))
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		start := time.Now()
		assert.ErrorIs(t, h.agent.Shutdown(ctx), context.DeadlineExceeded)
		assert.Equal(t, 5*time.Second, time.Since(start).Round(time.Second), "the agent stops when ctx ends")
	})
}

func TestShutdownOptionsValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
		want string // "" when valid
	}{
		{"off", Options{}, ""},
		{"both periods", Options{ShutdownGracePeriod: 30 * time.Second, ShutdownGracePeriodCriticalPods: 10 * time.Second}, ""},
		{"all critical", Options{ShutdownGracePeriod: 30 * time.Second, ShutdownGracePeriodCriticalPods: 30 * time.Second}, ""},
		{"negative", Options{ShutdownGracePeriod: -time.Second}, "shutdownGracePeriod"},
		{"negative critical", Options{ShutdownGracePeriodCriticalPods: -time.Second}, "shutdownGracePeriodCriticalPods"},
		{"critical above total", Options{ShutdownGracePeriod: time.Second, ShutdownGracePeriodCriticalPods: 2 * time.Second}, "must not exceed shutdownGracePeriod"},
		{"by priority and period", Options{ShutdownGracePeriod: time.Second,
			ShutdownGracePeriodByPodPriority: []ShutdownGracePeriodByPodPriority{{Priority: 0, ShutdownGracePeriod: time.Second}}}, "cannot be set together"},
		{"negative by priority", Options{ShutdownGracePeriodByPodPriority: []ShutdownGracePeriodByPodPriority{{Priority: 0, ShutdownGracePeriod: -1}}},
			"shutdownGracePeriodByPodPriority[0].shutdownGracePeriod"},
		{"repeated priority", Options{ShutdownGracePeriodByPodPriority: []ShutdownGracePeriodByPodPriority{
			{Priority: 5, ShutdownGracePeriod: time.Second}, {Priority: 5, ShutdownGracePeriod: time.Second}}}, "shutdownGracePeriodByPodPriority[1].priority"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			scheme, err := builtin.NewScheme()
			require.NoError(t, err)
			kv := memory.New(memory.Options{})
			defer kv.Close()
			s, err := store.New(kv, scheme, store.Options{})
			require.NoError(t, err)
			_, err = New("n1", s, fake.New(fake.Options{}), tc.opts)
			if tc.want == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, ErrInvalid)
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

func TestShutdownGroups(t *testing.T) {
	s, err := newNodeShutdown(Options{ShutdownGracePeriod: 30 * time.Second, ShutdownGracePeriodCriticalPods: 10 * time.Second})
	require.NoError(t, err)
	assert.Equal(t, []ShutdownGracePeriodByPodPriority{
		{Priority: 0, ShutdownGracePeriod: 20 * time.Second}, {Priority: SystemCriticalPriority, ShutdownGracePeriod: 10 * time.Second},
	}, s.groups)
	pod := func(p *int32, class string) *core.Pod {
		return &core.Pod{Spec: core.PodSpec{Priority: p, PriorityClassName: class}}
	}
	i32 := func(v int32) *int32 { return &v }
	for _, tc := range []struct {
		pod   *core.Pod
		group int
	}{
		{pod(nil, ""), 0},
		{pod(i32(-1), ""), 0},
		{pod(i32(SystemCriticalPriority-1), ""), 0},
		{pod(i32(SystemCriticalPriority), ""), 1},
		{pod(nil, "system-cluster-critical"), 1},
		{pod(nil, "system-node-critical"), 1},
		{pod(nil, "high"), 0},
		{pod(i32(7), "system-node-critical"), 0}, // spec.priority, once resolved, wins
	} {
		assert.Equal(t, tc.group, s.groupOf(podPriority(tc.pod)), "%v %q", tc.pod.Spec.Priority, tc.pod.Spec.PriorityClassName)
	}
}

func withShutdown(o *Options) {
	o.ShutdownGracePeriod, o.ShutdownGracePeriodCriticalPods = 4*time.Second, 2*time.Second
}

func TestRealGracefulNodeShutdown(t *testing.T) {
	gracefulNodeShutdown(t, newRealHarness(t, "real-shutdown", withShutdown))
}

func TestNativeGracefulNodeShutdown(t *testing.T) {
	h, _ := newNativeHarness(t, "native-shutdown", withShutdown)
	gracefulNodeShutdown(t, h)
}

// gracefulNodeShutdown runs on every real runtime: a regular and a critical
// pod whose sleep (PID 1, no handler) ignores SIGTERM, and a regular one
// that exits on it. The regular ones end first (SIGKILL after 4-2 s), the
// critical one after them (2 s more), all with the kubelet's statuses.
func gracefulNodeShutdown(t *testing.T, h *harness) {
	regular := withGrace(busyboxPod("regular", "exec sleep 1000"), 30)
	polite := withGrace(busyboxPod("polite", "trap 'exit 0' TERM; while true; do sleep 0.1; done"), 30)
	critical := withGrace(busyboxPod("critical", "exec sleep 1000"), 30)
	critical.Spec.PriorityClassName = "system-cluster-critical"
	for _, p := range []*core.Pod{regular, polite, critical} {
		h.create(p)
	}
	for _, n := range []string{"regular", "polite", "critical"} {
		h.eventually(30*time.Second, n+" running", h.phase(n, core.PodRunning))
	}
	start := time.Now()
	require.NoError(t, h.agent.Shutdown(context.Background()))

	for _, n := range []string{"regular", "polite", "critical"} {
		assertTerminatedByShutdown(t, h.pod(n))
	}
	assert.Equal(t, int32(137), cstatus(h.pod("regular"), "c0").State.Terminated.ExitCode)
	assert.Equal(t, int32(0), cstatus(h.pod("polite"), "c0").State.Terminated.ExitCode, "SIGTERM reached the container")
	assert.Equal(t, int32(137), cstatus(h.pod("critical"), "c0").State.Terminated.ExitCode)
	regularEnd, politeEnd, criticalEnd := h.finishedAt("regular", "c0"), h.finishedAt("polite", "c0"), h.finishedAt("critical", "c0")
	assert.GreaterOrEqual(t, regularEnd.Sub(start), 2*time.Second, "SIGKILL only after the regular pods' 2 s")
	assert.True(t, politeEnd.Before(regularEnd), "a container exiting on SIGTERM ends before the grace")
	assert.GreaterOrEqual(t, criticalEnd.Sub(regularEnd), 2*time.Second-100*time.Millisecond,
		"the critical pod is stopped after the regular ones, with its own 2 s")
	for _, c := range h.containers("c0") {
		assert.Equal(t, kubelet.ContainerExited, c.State, "no container left running: %s", c.Labels[kubelet.LabelPodName])
	}
}
