package agent

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/reconcile"
)

// prober runs the probes of running containers on the agent's clock: a timer
// per probe, no goroutine while waiting.
type prober struct {
	a      *Agent
	mu     sync.Mutex
	byID   map[string]*probeSet // by container ID
	client *http.Client
}

type probeSet struct {
	key     apis.Key
	started bool   // startup probe passed (or none)
	ready   bool   // readiness probe passed (or none)
	failed  string // why liveness (or startup) failed: the container must restart
	timers  map[string]reconcile.Timer
	stopped bool
}

func newProber(a *Agent) *prober {
	return &prober{a: a, byID: map[string]*probeSet{}, client: &http.Client{
		// Probes do not follow redirects off the pod, as the kubelet.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// ensure starts the probes of a running container once. A container that
// was running before the agent started (adopted) is taken as started and
// ready until its probes say otherwise, so an agent restart changes no status.
func (p *prober) ensure(pod *core.Pod, c *core.Container, id, ip string, adopted bool) {
	if c.LivenessProbe == nil && c.ReadinessProbe == nil && c.StartupProbe == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.byID[id]; ok {
		return
	}
	ps := &probeSet{key: apis.KeyOf(pod), started: c.StartupProbe == nil || adopted, ready: c.ReadinessProbe == nil || adopted, timers: map[string]reconcile.Timer{}}
	p.byID[id] = ps
	pod = apis.DeepCopy(pod)
	for kind, pr := range map[string]*core.Probe{"Liveness": c.LivenessProbe, "Readiness": c.ReadinessProbe, "Startup": c.StartupProbe} {
		if pr == nil {
			continue
		}
		w := &probeWorker{p: p, ps: ps, kind: kind, probe: pr, pod: pod, c: c, id: id, ip: ip}
		p.scheduleLocked(w, time.Duration(pr.InitialDelaySeconds)*time.Second)
	}
}

func (p *prober) scheduleLocked(w *probeWorker, d time.Duration) {
	if w.ps.stopped {
		return
	}
	w.ps.timers[w.kind] = p.a.clock.AfterFunc(d, w.run)
}

// stop ends the probes of a container.
func (p *prober) stop(id string) {
	if id == "" {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if ps, ok := p.byID[id]; ok {
		ps.stopped = true
		for _, t := range ps.timers {
			t.Stop()
		}
		delete(p.byID, id)
	}
}

func (p *prober) stopAll() {
	p.mu.Lock()
	ids := make([]string, 0, len(p.byID))
	for id := range p.byID {
		ids = append(ids, id)
	}
	p.mu.Unlock()
	for _, id := range ids {
		p.stop(id)
	}
}

// results says whether a container has started and is ready.
func (p *prober) results(id string, c *core.Container) (started, ready bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ps, ok := p.byID[id]
	if !ok {
		return c.StartupProbe == nil, c.ReadinessProbe == nil && c.StartupProbe == nil
	}
	return ps.started, ps.started && ps.ready
}

// livenessFailed returns why the container must be restarted, or "".
func (p *prober) livenessFailed(id string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ps, ok := p.byID[id]; ok {
		return ps.failed
	}
	return ""
}

type probeWorker struct {
	p          *prober
	ps         *probeSet
	kind       string
	probe      *core.Probe
	pod        *core.Pod
	c          *core.Container
	id, ip     string
	successes  int32
	failures   int32
	lastResult *bool
}

func (w *probeWorker) run() {
	pr := w.probe
	period := time.Duration(max(pr.PeriodSeconds, 1)) * time.Second
	w.p.mu.Lock()
	skip := w.ps.stopped || (w.kind != "Startup" && !w.ps.started) || (w.kind == "Startup" && w.ps.started)
	w.p.mu.Unlock()
	if skip {
		w.p.mu.Lock()
		if w.kind != "Startup" || !w.ps.started {
			w.p.scheduleLocked(w, period)
		}
		w.p.mu.Unlock()
		return
	}
	timeout := time.Duration(max(pr.TimeoutSeconds, 1)) * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	ok, detail := w.check(ctx, timeout)
	cancel()

	success := max(pr.SuccessThreshold, 1)
	failure := max(pr.FailureThreshold, 1)
	if ok {
		w.successes++
		w.failures = 0
	} else {
		w.failures++
		w.successes = 0
		w.p.a.events.pod(context.Background(), w.pod, core.EventTypeWarning, "Unhealthy",
			fmt.Sprintf("%s probe failed: %s", w.kind, detail))
	}
	changed := false
	w.p.mu.Lock()
	switch w.kind {
	case "Startup":
		if ok && w.successes >= 1 && !w.ps.started {
			w.ps.started, changed = true, true
		} else if !ok && w.failures >= failure && w.ps.failed == "" {
			w.ps.failed, changed = "startup probe", true
		}
	case "Liveness":
		if !ok && w.failures >= failure && w.ps.failed == "" {
			w.ps.failed, changed = "liveness probe", true
		}
	case "Readiness":
		if ok && w.successes >= success && !w.ps.ready {
			w.ps.ready, changed = true, true
		} else if !ok && w.failures >= failure && w.ps.ready {
			w.ps.ready, changed = false, true
		}
	}
	w.p.scheduleLocked(w, period)
	key := w.ps.key
	w.p.mu.Unlock()
	if changed {
		w.p.a.ctrl.Enqueue(key)
	}
}

// check runs the probe's handler once.
func (w *probeWorker) check(ctx context.Context, timeout time.Duration) (bool, string) {
	h := w.probe.ProbeHandler
	switch {
	case h.Exec != nil:
		res, err := w.p.a.rt.ExecSync(ctx, w.id, h.Exec.Command, timeout)
		if err != nil {
			return false, err.Error()
		}
		if res.ExitCode != 0 {
			return false, fmt.Sprintf("command %q exited with %d: %s", h.Exec.Command, res.ExitCode, res.Stdout)
		}
		return true, ""
	case h.HTTPGet != nil:
		port, err := resolvePort(h.HTTPGet.Port, w.c)
		if err != nil {
			return false, err.Error()
		}
		host := h.HTTPGet.Host
		if host == "" {
			host = w.ip
		}
		scheme := "http"
		if h.HTTPGet.Scheme == core.URISchemeHTTPS {
			scheme = "https"
		}
		url := scheme + "://" + net.JoinHostPort(host, strconv.Itoa(port)) + h.HTTPGet.Path
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return false, err.Error()
		}
		req.Header.Set("User-Agent", "kube-probe/1.33")
		for _, hd := range h.HTTPGet.HTTPHeaders {
			req.Header.Add(hd.Name, hd.Value)
		}
		resp, err := w.p.client.Do(req)
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		if resp.StatusCode < 200 || resp.StatusCode >= 400 {
			return false, fmt.Sprintf("HTTP probe failed with statuscode: %d", resp.StatusCode)
		}
		return true, ""
	case h.TCPSocket != nil:
		port, err := resolvePort(h.TCPSocket.Port, w.c)
		if err != nil {
			return false, err.Error()
		}
		host := h.TCPSocket.Host
		if host == "" {
			host = w.ip
		}
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			return false, err.Error()
		}
		conn.Close()
		return true, ""
	}
	return false, "probe has no handler"
}

// resolvePort turns a number or a named container port into a port number.
func resolvePort(p apis.IntOrString, c *core.Container) (int, error) {
	if p.Type == apis.TypeInt {
		return int(p.IntVal), nil
	}
	for _, cp := range c.Ports {
		if cp.Name == p.StrVal {
			return int(cp.ContainerPort), nil
		}
	}
	if n, err := strconv.Atoi(p.StrVal); err == nil {
		return n, nil
	}
	return 0, fmt.Errorf("%w: port %q is not a port of container %s", ErrInvalid, p.StrVal, c.Name)
}
