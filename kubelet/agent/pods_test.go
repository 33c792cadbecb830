package agent

import (
	"context"
	"sort"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/apis/resource"
	"github.com/gantry-sdk/gantry/kubelet"
	"github.com/gantry-sdk/gantry/kubelet/fake"
	"github.com/gantry-sdk/gantry/store"
)

func TestPodRunsWithFullStatus(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, Options{})
		h.rt.Script("init1", fake.Behavior{Exit: true, ExitAfter: 2 * time.Second})
		h.rt.Script("init2", fake.Behavior{Exit: true, ExitAfter: 3 * time.Second})
		p := simplePod("web", "a", "b")
		p.Spec.InitContainers = []core.Container{{Name: "init1", Image: "app:v1"}, {Name: "init2", Image: "app:v1"}}
		p.Spec.Containers[0].Resources = core.ResourceRequirements{
			Limits: core.ResourceList{core.ResourceCPU: resource.MustParse("500m"), core.ResourceMemory: resource.MustParse("64Mi")},
		}
		h.create(p)
		h.eventually(time.Second, "pending while init runs", func() bool {
			p := h.pod("web")
			return p != nil && p.Status.Phase == core.PodPending && cstatus(p, "a").State.Waiting != nil &&
				cstatus(p, "a").State.Waiting.Reason == "PodInitializing"
		})
		h.eventually(10*time.Second, "running", h.phase("web", core.PodRunning))
		got := h.pod("web")
		assert.Equal(t, core.PodQOSBurstable, got.Status.QOSClass)
		assert.NotEmpty(t, got.Status.PodIP)
		assert.Equal(t, "192.0.2.10", got.Status.HostIP)
		assert.NotNil(t, got.Status.StartTime)
		for _, ct := range []core.PodConditionType{core.PodScheduled, core.PodReadyToStartContainers, core.PodInitialized, core.ContainersReady, core.PodReady} {
			c := got.Status.GetPodCondition(ct)
			require.NotNil(t, c, ct)
			assert.Equal(t, apis.ConditionTrue, c.Status, ct)
		}
		assert.True(t, core.IsPodReady(got))
		assert.Equal(t, "Completed", cstatus(got, "init1").State.Terminated.Reason)
		assert.NotNil(t, cstatus(got, "a").State.Running)
		assert.True(t, cstatus(got, "b").Ready)

		// Init containers ran one after the other, app containers after both.
		i1, i2, a := h.containers("init1")[0], h.containers("init2")[0], h.containers("a")[0]
		assert.False(t, i2.StartedAt.Before(i1.FinishedAt))
		assert.False(t, a.StartedAt.Before(i2.FinishedAt))
		// Limits reached the runtime as cgroup settings (the fake keeps none, so check the mapping).
		r := containerResources(got, &got.Spec.Containers[0])
		assert.Equal(t, kubelet.Resources{CPUShares: 512, CPUQuota: 50000, CPUPeriod: 100000, MemoryLimit: 64 << 20, OOMScoreAdj: 500}, r)

		for _, reason := range []string{"Created", "Started"} {
			assert.Len(t, h.events(reason), 4, reason)
		}
	})
}

func TestCrashLoopBackOffGrows(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, Options{})
		h.rt.Script("app", fake.Behavior{Exit: true, ExitAfter: time.Second, ExitCode: 2})
		h.create(simplePod("crash", "app"))
		h.eventually(3*time.Minute, "five restarts", func() bool { return len(h.containers("app")) >= 2 && cstatus(h.pod("crash"), "app").RestartCount >= 5 })
		p := h.pod("crash")
		assert.Equal(t, core.PodRunning, p.Status.Phase)
		cs := cstatus(p, "app")
		require.NotNil(t, cs.LastTerminationState.Terminated)
		assert.Equal(t, int32(2), cs.LastTerminationState.Terminated.ExitCode)
		assert.Equal(t, "Error", cs.LastTerminationState.Terminated.Reason)

		// Watch the gaps between an exit and the next start.
		var gaps []time.Duration
		var lastFinish time.Time
		var lastID string
		h.eventually(10*time.Minute, "gaps observed", func() bool {
			for _, c := range h.containers("app") {
				if c.State == kubelet.ContainerExited && c.ID != lastID && c.FinishedAt.After(lastFinish) {
					lastFinish, lastID = c.FinishedAt, c.ID
				}
				if c.ID != lastID && !lastFinish.IsZero() && c.StartedAt.After(lastFinish) && c.State == kubelet.ContainerRunning {
					gaps = append(gaps, c.StartedAt.Sub(lastFinish).Round(time.Second))
					lastFinish, lastID = time.Time{}, ""
				}
			}
			p := h.pod("crash")
			if w := cstatus(p, "app").State.Waiting; w != nil {
				assert.Equal(t, "CrashLoopBackOff", w.Reason)
			}
			return len(gaps) >= 3
		})
		sort.Slice(gaps, func(i, j int) bool { return gaps[i] < gaps[j] })
		assert.GreaterOrEqual(t, gaps[0], 80*time.Second, "after five restarts the back-off is 80 s or more: %v", gaps)
		assert.LessOrEqual(t, gaps[len(gaps)-1], 5*time.Minute+2*time.Second, "capped at 5 min: %v", gaps)
		assert.NotEmpty(t, h.events("BackOff"))
	})
}

func TestBackoffSequence(t *testing.T) {
	a := &Agent{opts: Options{BackoffBase: 10 * time.Second, BackoffMax: 5 * time.Minute}}
	var got []time.Duration
	for i := uint32(0); i < 8; i++ {
		got = append(got, a.backoffAfter(i))
	}
	assert.Equal(t, []time.Duration{0, 10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second,
		160 * time.Second, 300 * time.Second, 300 * time.Second}, got)
}

func TestOOMKilled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, Options{})
		h.rt.Script("hog", fake.Behavior{OOM: true, Exit: true, ExitAfter: time.Second})
		p := simplePod("oom", "hog")
		p.Spec.RestartPolicy = core.RestartPolicyNever
		h.create(p)
		h.eventually(10*time.Second, "failed", h.phase("oom", core.PodFailed))
		term := cstatus(h.pod("oom"), "hog").State.Terminated
		require.NotNil(t, term)
		assert.Equal(t, "OOMKilled", term.Reason)
		assert.Equal(t, int32(137), term.ExitCode)
	})
}

func TestRestartPolicies(t *testing.T) {
	for _, tc := range []struct {
		policy   core.RestartPolicy
		code     int32
		phase    core.PodPhase
		restarts bool
	}{
		{core.RestartPolicyNever, 0, core.PodSucceeded, false},
		{core.RestartPolicyNever, 1, core.PodFailed, false},
		{core.RestartPolicyOnFailure, 0, core.PodSucceeded, false},
		{core.RestartPolicyOnFailure, 1, core.PodRunning, true},
		{core.RestartPolicyAlways, 0, core.PodRunning, true},
	} {
		t.Run(string(tc.policy)+"/"+string(rune('0'+tc.code)), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness(t, Options{})
				h.rt.Script("app", fake.Behavior{Exit: true, ExitAfter: time.Second, ExitCode: tc.code})
				p := simplePod("p", "app")
				p.Spec.RestartPolicy = tc.policy
				h.create(p)
				time.Sleep(30 * time.Second)
				got := h.pod("p")
				assert.Equal(t, tc.phase, got.Status.Phase)
				assert.Equal(t, tc.restarts, cstatus(got, "app").RestartCount > 0)
				if !tc.restarts {
					cs := h.containers("app")
					require.Len(t, cs, 1, "a finished pod keeps its container (logs) until deleted")
					assert.Equal(t, kubelet.ContainerExited, cs[0].State)
					sbs, err := h.rt.ListPodSandboxes(context.Background(), kubeletSandboxFilter("n1"))
					require.NoError(t, err)
					require.Len(t, sbs, 1)
					assert.Equal(t, kubelet.SandboxNotReady, sbs[0].State, "its sandbox is stopped")
					zero := int64(0)
					_, err = store.For[*core.Pod](h.s).Delete(context.Background(), apis.Key{Namespace: "default", Name: "p"}, store.DeleteOptions{GracePeriodSeconds: &zero})
					require.NoError(t, err)
					h.eventually(5*time.Second, "removed after delete", func() bool { return len(h.containers("app")) == 0 })
				}
			})
		})
	}
}

func TestLivenessFailureRestarts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, Options{})
		var healthy atomic.Bool
		h.rt.Script("app", fake.Behavior{Exec: func([]string) kubelet.ExecResult {
			if healthy.Load() {
				return kubelet.ExecResult{}
			}
			return kubelet.ExecResult{ExitCode: 1}
		}})
		healthy.Store(true)
		p := simplePod("live", "app")
		p.Spec.Containers[0].LivenessProbe = &core.Probe{
			ProbeHandler:  core.ProbeHandler{Exec: &core.ExecAction{Command: []string{"check"}}},
			PeriodSeconds: 2, FailureThreshold: 3, InitialDelaySeconds: 1,
		}
		grace := int64(1)
		p.Spec.TerminationGracePeriodSeconds = &grace
		h.create(p)
		h.eventually(5*time.Second, "running", h.phase("live", core.PodRunning))
		time.Sleep(20 * time.Second)
		assert.Equal(t, int32(0), cstatus(h.pod("live"), "app").RestartCount, "healthy: no restart")
		healthy.Store(false)
		h.eventually(20*time.Second, "restarted", func() bool { return cstatus(h.pod("live"), "app").RestartCount == 1 })
		assert.Len(t, h.events("Unhealthy"), 3)
		assert.NotEmpty(t, h.events("Killing"))
	})
}

func TestReadinessGatesReady(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, Options{})
		var ready atomic.Bool
		h.rt.Script("app", fake.Behavior{Exec: func([]string) kubelet.ExecResult {
			if ready.Load() {
				return kubelet.ExecResult{}
			}
			return kubelet.ExecResult{ExitCode: 1}
		}})
		p := simplePod("ready", "app")
		p.Spec.Containers[0].ReadinessProbe = &core.Probe{
			ProbeHandler: core.ProbeHandler{Exec: &core.ExecAction{Command: []string{"ready"}}}, PeriodSeconds: 1,
		}
		h.create(p)
		h.eventually(5*time.Second, "running", h.phase("ready", core.PodRunning))
		time.Sleep(5 * time.Second)
		assert.False(t, core.IsPodReady(h.pod("ready")))
		ready.Store(true)
		h.eventually(5*time.Second, "ready", func() bool { return core.IsPodReady(h.pod("ready")) })
		ready.Store(false)
		h.eventually(5*time.Second, "not ready again", func() bool { return !core.IsPodReady(h.pod("ready")) })
		assert.Equal(t, int32(0), cstatus(h.pod("ready"), "app").RestartCount, "readiness never restarts")
	})
}

func TestStartupProbeHoldsLiveness(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, Options{})
		var started atomic.Bool
		h.rt.Script("app", fake.Behavior{Exec: func(cmd []string) kubelet.ExecResult {
			if cmd[0] == "live" || started.Load() {
				return kubelet.ExecResult{}
			}
			return kubelet.ExecResult{ExitCode: 1}
		}})
		p := simplePod("slow", "app")
		p.Spec.Containers[0].StartupProbe = &core.Probe{ProbeHandler: core.ProbeHandler{Exec: &core.ExecAction{Command: []string{"start"}}}, PeriodSeconds: 1, FailureThreshold: 30}
		p.Spec.Containers[0].LivenessProbe = &core.Probe{ProbeHandler: core.ProbeHandler{Exec: &core.ExecAction{Command: []string{"live"}}}, PeriodSeconds: 1}
		h.create(p)
		h.eventually(5*time.Second, "running", h.phase("slow", core.PodRunning))
		time.Sleep(5 * time.Second)
		cs := cstatus(h.pod("slow"), "app")
		assert.False(t, *cs.Started)
		assert.False(t, cs.Ready)
		started.Store(true)
		h.eventually(5*time.Second, "started", func() bool { return *cstatus(h.pod("slow"), "app").Started })
	})
}

func TestDeletionGracePeriod(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, Options{})
		h.rt.Script("app", fake.Behavior{OnSIGTERM: fake.TermIgnored})
		h.create(simplePod("del", "app"))
		h.eventually(5*time.Second, "running", h.phase("del", core.PodRunning))
		id := h.containers("app")[0].ID
		grace := int64(7)
		start := time.Now()
		_, err := store.For[*core.Pod](h.s).Delete(context.Background(), apis.Key{Namespace: "default", Name: "del"}, store.DeleteOptions{GracePeriodSeconds: &grace})
		require.NoError(t, err)
		h.eventually(20*time.Second, "pod gone", func() bool { return h.pod("del") == nil })
		assert.GreaterOrEqual(t, time.Since(start), 7*time.Second)
		_, err = h.rt.ContainerStatus(context.Background(), id)
		assert.ErrorIs(t, err, kubelet.ErrNotFound, "sandbox and containers removed")
		assert.NotEmpty(t, h.events("Killing"))
	})
}

func TestImagePullPolicy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, Options{})
		never := simplePod("never", "app")
		never.Spec.Containers[0].Image = "absent:v1"
		never.Spec.Containers[0].ImagePullPolicy = core.PullNever
		h.create(never)
		h.eventually(5*time.Second, "ErrImageNeverPull", func() bool {
			p := h.pod("never")
			w := cstatus(p, "app").State.Waiting
			return w != nil && w.Reason == "ErrImageNeverPull"
		})
		present := simplePod("present", "app")
		h.create(present)
		always := simplePod("always", "app")
		always.Spec.Containers[0].ImagePullPolicy = core.PullAlways
		h.create(always)
		h.eventually(5*time.Second, "running", h.phase("always", core.PodRunning))
		h.eventually(5*time.Second, "running", h.phase("present", core.PodRunning))
		pulls := h.events("Pulling")
		require.Len(t, pulls, 1, "IfNotPresent with the image present pulls nothing")
		assert.Equal(t, "always", pulls[0].InvolvedObject.Name)
		assert.Len(t, h.events("Pulled"), 1)
	})
}

func TestAdoptionRestartsNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, Options{})
		h.rt.Script("crash", fake.Behavior{Exit: true, ExitAfter: time.Second, ExitCode: 1})
		h.create(simplePod("keep", "app", "crash"))
		h.eventually(time.Minute, "a restart", func() bool { return cstatus(h.pod("keep"), "crash").RestartCount >= 2 })
		before := h.pod("keep")
		ids := map[string]bool{}
		for _, c := range h.containers("app") {
			ids[c.ID] = true
		}
		h.restart()
		time.Sleep(3 * time.Second)
		after := h.pod("keep")
		for _, c := range h.containers("app") {
			assert.True(t, ids[c.ID], "app container %s is new", c.ID)
		}
		assert.Len(t, h.containers("app"), 1)
		assert.Equal(t, int32(0), cstatus(after, "app").RestartCount)
		assert.Equal(t, cstatus(before, "app").ContainerID, cstatus(after, "app").ContainerID)
		assert.GreaterOrEqual(t, cstatus(after, "crash").RestartCount, cstatus(before, "crash").RestartCount, "restart counts continue")
		assert.Equal(t, before.Status.StartTime.Time, after.Status.StartTime.Time)
		assert.Equal(t, core.PodRunning, after.Status.Phase)
	})
}

func TestAdoptionRemovesOrphans(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, Options{})
		h.create(simplePod("gone", "app"))
		h.eventually(5*time.Second, "running", h.phase("gone", core.PodRunning))
		h.stop()
		zero := int64(0)
		_, err := store.For[*core.Pod](h.s).Delete(context.Background(), apis.Key{Namespace: "default", Name: "gone"}, store.DeleteOptions{GracePeriodSeconds: &zero})
		require.NoError(t, err)
		h.start()
		h.eventually(5*time.Second, "orphan removed", func() bool { return len(h.containers("app")) == 0 })
	})
}
