package scheduler

import (
	"context"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/reconcile"
)

// manualClock fires AfterFunc callbacks only when Advance passes their time.
type manualClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*manualTimer
}

type manualTimer struct {
	c       *manualClock
	at      time.Time
	f       func()
	stopped bool
}

func (t *manualTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := !t.stopped
	t.stopped = true
	return was
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) AfterFunc(d time.Duration, f func()) reconcile.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &manualTimer{c: c, at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return t
}

// Advance moves the clock and runs the timers due, in time order.
func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	sort.SliceStable(c.timers, func(i, j int) bool { return c.timers[i].at.Before(c.timers[j].at) })
	var due []*manualTimer
	rest := c.timers[:0]
	for _, t := range c.timers {
		switch {
		case t.stopped:
		case !t.at.After(c.now):
			t.stopped = true
			due = append(due, t)
		default:
			rest = append(rest, t)
		}
	}
	c.timers = rest
	c.mu.Unlock()
	for _, t := range due {
		t.f()
	}
}

// permitFunc is a permit plugin whose verdict a test sets.
type permitFunc struct {
	name    string
	code    Code
	timeout time.Duration
}

func (p permitFunc) Name() string { return p.name }
func (p permitFunc) Permit(context.Context, *CycleState, *PodInfo, string) (*Status, time.Duration) {
	if p.code == Success {
		return nil, 0
	}
	return NewStatus(p.code, p.name+" says "+p.code.String()), p.timeout
}

func permitProfile(t *testing.T, clock reconcile.Clock, plugins ...permitFunc) *Profile {
	t.Helper()
	reg := Registry{}
	var cfg []PluginConfig
	for _, pl := range plugins {
		reg[pl.name] = func(any, Handle) (Plugin, error) { return pl, nil }
		cfg = append(cfg, PluginConfig{Name: pl.name})
	}
	p, err := NewProfile(ProfileConfig{Plugins: cfg}, reg, ProfileOptions{Clock: clock})
	require.NoError(t, err)
	return p
}

func TestRunPermit(t *testing.T) {
	type step func(t *testing.T, p *Profile, w *WaitingPod, clock *manualClock)
	allow := func(plugin string) step {
		return func(_ *testing.T, _ *Profile, w *WaitingPod, _ *manualClock) { w.Allow(plugin) }
	}
	reject := func(plugin, msg string) step {
		return func(_ *testing.T, _ *Profile, w *WaitingPod, _ *manualClock) { w.Reject(plugin, msg) }
	}
	advance := func(d time.Duration) step {
		return func(_ *testing.T, _ *Profile, _ *WaitingPod, c *manualClock) { c.Advance(d) }
	}
	tests := []struct {
		name    string
		plugins []permitFunc
		// want from RunPermit
		wantCode   Code
		wantPlugin string
		// then, for a Wait: the steps and the verdict WaitOnPermit gives
		steps       []step
		wantPending []string
		wantVerdict Code
		wantMsg     string
		verdictFrom string
	}{
		{name: "all allow", plugins: []permitFunc{{name: "a"}, {name: "b"}}, wantCode: Success},
		{name: "reject wins over wait", plugins: []permitFunc{{name: "a", code: Wait, timeout: time.Second}, {name: "b", code: Unschedulable}},
			wantCode: Unschedulable, wantPlugin: "b"},
		{name: "error", plugins: []permitFunc{{name: "a", code: Error}}, wantCode: Error, wantPlugin: "a"},
		{name: "skip is an error", plugins: []permitFunc{{name: "a", code: Skip}}, wantCode: Error, wantPlugin: "a"},
		{name: "wait then allow", plugins: []permitFunc{{name: "a", code: Wait, timeout: time.Minute}},
			wantCode: Wait, steps: []step{allow("a")}, wantVerdict: Success},
		{name: "two waits need two allows", plugins: []permitFunc{{name: "a", code: Wait, timeout: time.Minute}, {name: "b", code: Wait, timeout: time.Minute}, {name: "c"}},
			wantCode: Wait, steps: []step{allow("a"), allow("a"), allow("c")}, wantPending: []string{"b"}},
		{name: "two waits allowed", plugins: []permitFunc{{name: "a", code: Wait, timeout: time.Minute}, {name: "b", code: Wait, timeout: time.Minute}},
			wantCode: Wait, steps: []step{allow("b"), allow("a")}, wantVerdict: Success},
		{name: "reject", plugins: []permitFunc{{name: "a", code: Wait, timeout: time.Minute}},
			wantCode: Wait, steps: []step{reject("gang", "group broken"), allow("a")}, wantVerdict: Unschedulable, wantMsg: "group broken", verdictFrom: "gang"},
		{name: "one allowed, the other still within its timeout", plugins: []permitFunc{{name: "a", code: Wait, timeout: time.Minute}, {name: "b", code: Wait, timeout: time.Hour}},
			wantCode: Wait, steps: []step{allow("a"), advance(14 * time.Minute)}, wantPending: []string{"b"}},
		{name: "timeout after the other allowed", plugins: []permitFunc{{name: "a", code: Wait, timeout: time.Minute}, {name: "b", code: Wait, timeout: time.Hour}},
			wantCode: Wait, steps: []step{allow("a"), advance(time.Hour)}, wantVerdict: Unschedulable,
			wantMsg: "rejected due to timeout after waiting 15m0s at plugin b", verdictFrom: "b"},
		{name: "zero timeout rejects at once", plugins: []permitFunc{{name: "a", code: Wait}},
			wantCode: Wait, steps: []step{advance(0)}, wantVerdict: Unschedulable, wantMsg: "rejected due to timeout after waiting 0s at plugin a", verdictFrom: "a"},
		{name: "allow after timeout is too late", plugins: []permitFunc{{name: "a", code: Wait, timeout: time.Second}},
			wantCode: Wait, steps: []step{advance(time.Second), allow("a")}, wantVerdict: Unschedulable, wantMsg: "timeout", verdictFrom: "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &manualClock{now: time.Unix(1e9, 0)}
			p := permitProfile(t, clock, tt.plugins...)
			pod := NewPodInfo(mkPod("gang-0", "1", ""))
			st := p.RunPermit(context.Background(), NewCycleState(), pod, "n1")
			require.Equal(t, tt.wantCode, st.Code(), "%v", st.Reasons())
			assert.Equal(t, tt.wantPlugin, st.Plugin())
			w := p.GetWaitingPod(pod.Key())
			if tt.wantCode != Wait {
				assert.Nil(t, w, "only waiting pods are recorded")
				return
			}
			require.NotNil(t, w)
			assert.Equal(t, "n1", w.NodeName())
			assert.Same(t, pod.Pod, w.Pod())
			for _, s := range tt.steps {
				s(t, p, w, clock)
			}
			if tt.wantPending != nil {
				assert.Equal(t, tt.wantPending, w.PendingPlugins())
				var seen []*WaitingPod
				p.IterateOverWaitingPods(func(w *WaitingPod) { seen = append(seen, w) })
				assert.Equal(t, []*WaitingPod{w}, seen)
				// Still undecided: WaitOnPermit ends with its context.
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				assert.Equal(t, Error, p.WaitOnPermit(ctx, pod).Code())
				assert.Nil(t, p.GetWaitingPod(pod.Key()), "a pod is forgotten once its wait ends")
				return
			}
			verdict := p.WaitOnPermit(context.Background(), pod)
			assert.Equal(t, tt.wantVerdict, verdict.Code())
			if tt.wantMsg != "" {
				require.Len(t, verdict.Reasons(), 1)
				assert.Contains(t, verdict.Reasons()[0], tt.wantMsg)
				assert.Equal(t, tt.verdictFrom, verdict.Plugin())
			}
			assert.Nil(t, p.GetWaitingPod(pod.Key()))
			assert.False(t, p.RejectWaitingPod(pod.Key(), "gone"))
		})
	}
}

// TestWaitingPodConcurrentVerdicts races Allow, Reject and the timeout: the
// pod gets exactly one verdict and WaitOnPermit returns it.
func TestWaitingPodConcurrentVerdicts(t *testing.T) {
	for range 50 {
		clock := &manualClock{now: time.Unix(1e9, 0)}
		p := permitProfile(t, clock, permitFunc{name: "a", code: Wait, timeout: time.Second}, permitFunc{name: "b", code: Wait, timeout: time.Second})
		pod := NewPodInfo(mkPod("x", "", ""))
		require.Equal(t, Wait, p.RunPermit(context.Background(), NewCycleState(), pod, "n1").Code())
		w := p.GetWaitingPod(pod.Key())
		var wg sync.WaitGroup
		wg.Go(func() { w.Allow("a") })
		wg.Go(func() { w.Allow("b") })
		wg.Go(func() { p.RejectWaitingPod(pod.Key(), "deleted") })
		wg.Go(func() { clock.Advance(time.Second) })
		st := p.WaitOnPermit(context.Background(), pod)
		wg.Wait()
		if !st.IsSuccess() {
			assert.Equal(t, Unschedulable, st.Code())
		}
		assert.Empty(t, w.PendingPlugins())
	}
}
