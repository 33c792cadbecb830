package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/kubelet"
	"github.com/gantry-sdk/gantry/reconcile"
	"github.com/gantry-sdk/gantry/store"
)

// podState is what the agent remembers of a pod between syncs; everything in
// it can be rebuilt from the runtime's labels (see adopt).
type podState struct {
	uid            string
	sandboxID, ip  string
	sandboxAttempt uint32
	startTime      time.Time
	ctrs           map[string]*ctrState // by container name
	// done: the pod reached Succeeded or Failed; nothing restarts any more.
	// stopped: its sandbox is stopped but kept, with its containers and logs,
	// until the pod object goes.
	done, stopped bool
	// waitReason/waitMessage explain why containers cannot start (volumes, images).
	waitReason, waitMessage string
	// hostsFile is the pod's managed /etc/hosts ("" when none);
	// hostsWritten what the agent last wrote or found there.
	hostsFile    string
	hostsWritten []byte
}

// ctrState is one container of a pod across its restarts.
type ctrState struct {
	id      string // current attempt's container
	attempt uint32 // restart count
	prevID  string // previous attempt, for lastState
	// backoff is the delay before the next restart after an exit; restartAt
	// is when the exit handled (exitOf) may be restarted.
	backoff   time.Duration
	exitOf    string
	restartAt time.Time
	delay     time.Duration // the back-off applied to exitOf
	// pullErr is the reason an image could not be had (ErrImageNeverPull...).
	pullErr, pullMsg string
}

func (st *podState) ctr(name string) *ctrState {
	c := st.ctrs[name]
	if c == nil {
		c = &ctrState{}
		st.ctrs[name] = c
	}
	return c
}

func kubeletSandboxFilter(node string) kubelet.SandboxFilter {
	return kubelet.SandboxFilter{Labels: map[string]string{LabelNode: node}}
}

// adopt rebuilds the agent's state from what the runtime runs for this node,
// so that a restarted agent restarts nothing.
func (a *Agent) adopt(ctx context.Context) error {
	sbs, err := a.rt.ListPodSandboxes(ctx, kubeletSandboxFilter(a.node))
	if err != nil {
		return fmt.Errorf("agent: adopt: list sandboxes: %w", err)
	}
	ctrs, err := a.rt.ListContainers(ctx, kubelet.ContainerFilter{Labels: map[string]string{LabelNode: a.node}})
	if err != nil {
		return fmt.Errorf("agent: adopt: list containers: %w", err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	bySandbox := map[string]*podState{}
	for _, sb := range sbs {
		key := apis.Key{Namespace: sb.Labels[kubelet.LabelPodNamespace], Name: sb.Labels[kubelet.LabelPodName]}
		st := a.state[key]
		if st == nil || (sb.State == kubelet.SandboxReady && (st.uid != sb.UID || sb.Attempt >= st.sandboxAttempt)) {
			st = &podState{uid: sb.UID, ctrs: map[string]*ctrState{}, startTime: sb.CreatedAt}
			a.state[key] = st
		}
		if sb.State == kubelet.SandboxReady {
			st.sandboxID, st.ip, st.sandboxAttempt = sb.ID, sb.IP, sb.Attempt
			if st.ip == "" {
				// CRI lists sandboxes without their IPs.
				if full, err := a.rt.PodSandboxStatus(ctx, sb.ID); err == nil {
					st.ip = full.IP
				}
			}
		}
		bySandbox[sb.ID] = st
	}
	for _, c := range ctrs {
		st := bySandbox[c.SandboxID]
		if st == nil || st.sandboxID != c.SandboxID {
			continue
		}
		cs := st.ctr(c.Name)
		switch {
		case cs.id == "" || c.Attempt > cs.attempt:
			if cs.id != "" {
				cs.prevID = cs.id
			}
			cs.id, cs.attempt = c.ID, c.Attempt
		case c.Attempt+1 == cs.attempt:
			cs.prevID = c.ID
		}
	}
	for _, st := range a.state {
		for _, cs := range st.ctrs {
			cs.backoff = a.backoffAfter(cs.attempt)
			if s, err := a.rt.ContainerStatus(ctx, cs.id); err == nil && s.State == kubelet.ContainerExited {
				cs.exitOf, cs.restartAt, cs.delay = cs.id, s.FinishedAt.Add(cs.backoff), cs.backoff
				cs.backoff = min(2*cs.backoff, a.opts.BackoffMax)
			}
		}
	}
	for key := range a.state {
		a.ctrl.Enqueue(key)
	}
	return nil
}

// backoffAfter is the back-off due after the restarts-th restart: none before
// the first restart, then base doubling to max.
func (a *Agent) backoffAfter(restarts uint32) time.Duration {
	if restarts == 0 {
		return 0
	}
	d := a.opts.BackoffBase
	for i := uint32(1); i < restarts && d < a.opts.BackoffMax; i++ {
		d *= 2
	}
	return min(d, a.opts.BackoffMax)
}

// relistLoop notices container state changes (exits above all) and queues
// their pods: the agent's pod lifecycle event generator.
func (a *Agent) relistLoop(ctx context.Context) {
	last := map[string]kubelet.ContainerState{}
	filter := kubelet.ContainerFilter{Labels: map[string]string{LabelNode: a.node}}
	for a.sleep(ctx, a.opts.RelistInterval) {
		cs, err := a.rt.ListContainers(ctx, filter)
		if err != nil {
			a.log.Error(err, "relist")
			continue
		}
		seen := make(map[string]kubelet.ContainerState, len(cs))
		for _, c := range cs {
			seen[c.ID] = c.State
			if old, ok := last[c.ID]; !ok || old != c.State {
				a.ctrl.Enqueue(apis.Key{Namespace: c.Labels[kubelet.LabelPodNamespace], Name: c.Labels[kubelet.LabelPodName]})
			}
		}
		last = seen
	}
}

func (a *Agent) getState(key apis.Key) *podState {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.state[key]
}

func (a *Agent) setState(key apis.Key, st *podState) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if st == nil {
		delete(a.state, key)
	} else {
		a.state[key] = st
	}
}

// syncPod makes the runtime match one pod and writes the pod's status.
func (a *Agent) syncPod(ctx context.Context, key apis.Key) (reconcile.Result, error) {
	pod, ok := a.pods.Get(key)
	st := a.getState(key)
	if handled, err := a.syncShuttingDown(ctx, key, pod, ok, st); handled {
		return reconcile.Result{}, err
	}
	if !ok || (st != nil && st.uid != string(pod.UID)) {
		if st != nil {
			if err := a.killPod(ctx, nil, st, 0); err != nil {
				return reconcile.Result{}, err
			}
			a.setState(key, nil)
		}
		if !ok {
			return reconcile.Result{}, nil
		}
		st = nil
	}
	if st == nil {
		st = &podState{uid: string(pod.UID), ctrs: map[string]*ctrState{}, startTime: a.clock.Now()}
		if pod.Status.StartTime != nil {
			st.startTime = pod.Status.StartTime.Time
		}
		a.setState(key, st)
	}
	if pod.Status.StartTime != nil {
		st.startTime = pod.Status.StartTime.Time
	}
	if pod.DeletionTimestamp != nil {
		return reconcile.Result{}, a.deletePod(ctx, pod, st)
	}
	if pod.Status.Phase == core.PodSucceeded || pod.Status.Phase == core.PodFailed {
		st.done = true
	}
	if st.done {
		// Terminal pods keep their sandbox torn down and their status as written.
		if st.sandboxID != "" && !st.stopped {
			if err := a.killPod(ctx, pod, st, 0); err != nil {
				return reconcile.Result{}, err
			}
		}
		return reconcile.Result{}, nil
	}
	requeue, runErr := a.runPod(ctx, pod, st)
	if err := a.writeStatus(ctx, pod, st); err != nil {
		return reconcile.Result{}, errors.Join(runErr, err)
	}
	if runErr != nil {
		return reconcile.Result{}, runErr
	}
	if st.done {
		if err := a.killPod(ctx, pod, st, 0); err != nil {
			return reconcile.Result{}, err
		}
	}
	return reconcile.Result{RequeueAfter: requeue}, nil
}

// deletePod stops a pod being deleted gracefully, then removes its object.
func (a *Agent) deletePod(ctx context.Context, pod *core.Pod, st *podState) error {
	grace := time.Duration(0)
	if g := pod.DeletionGracePeriodSeconds; g != nil {
		grace = time.Duration(*g) * time.Second
	}
	if err := a.killPod(ctx, pod, st, grace); err != nil {
		return err
	}
	zero := int64(0)
	_, err := store.For[*core.Pod](a.s).Delete(ctx, apis.KeyOf(pod), store.DeleteOptions{UID: string(pod.UID), GracePeriodSeconds: &zero})
	if err != nil && !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("agent: delete pod %s: %w", apis.KeyOf(pod), err)
	}
	a.setState(apis.KeyOf(pod), nil)
	return nil
}

// killPod stops every container of a pod (SIGTERM, grace, SIGKILL; in
// parallel), then its sandbox, and forgets its probes. pod may be nil when the
// object is gone.
func (a *Agent) killPod(ctx context.Context, pod *core.Pod, st *podState, grace time.Duration) error {
	var wg sync.WaitGroup
	errs := make(chan error, len(st.ctrs))
	for name, cs := range st.ctrs {
		a.probes.stop(cs.id)
		if cs.id == "" {
			continue
		}
		s, err := a.rt.ContainerStatus(ctx, cs.id)
		if err != nil || s.State == kubelet.ContainerExited {
			continue
		}
		if pod != nil {
			a.events.pod(ctx, pod, core.EventTypeNormal, "Killing", fmt.Sprintf("Stopping container %s", name))
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := a.rt.StopContainer(ctx, cs.id, grace); err != nil && !errors.Is(err, kubelet.ErrNotFound) {
				errs <- fmt.Errorf("agent: stop container %s: %w", name, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	if st.sandboxID != "" {
		if err := a.rt.StopPodSandbox(ctx, st.sandboxID); err != nil && !errors.Is(err, kubelet.ErrNotFound) {
			return fmt.Errorf("agent: stop sandbox: %w", err)
		}
		st.stopped = true
	}
	// A finished pod keeps its stopped sandbox (containers, logs) while its
	// object exists; a deleted one, or a dead sandbox being replaced, goes.
	if st.sandboxID != "" && (pod == nil || pod.DeletionTimestamp != nil || !st.done) {
		if err := a.rt.RemovePodSandbox(ctx, st.sandboxID); err != nil && !errors.Is(err, kubelet.ErrNotFound) {
			return fmt.Errorf("agent: remove sandbox: %w", err)
		}
		st.sandboxID, st.stopped = "", false
	}
	if pod == nil || pod.DeletionTimestamp != nil {
		_ = os.RemoveAll(a.podDir(st.uid))
	}
	return nil
}

func (a *Agent) podDir(uid string) string { return filepath.Join(a.opts.RootDir, "pods", uid) }

// runPod drives the runtime one step towards the pod's spec: sandbox, init
// containers one by one, app containers in parallel, restarts after back-off.
// It returns when to look again (0: on the next event).
func (a *Agent) runPod(ctx context.Context, pod *core.Pod, st *podState) (time.Duration, error) {
	key := apis.KeyOf(pod)
	if st.sandboxID != "" {
		sb, err := a.rt.PodSandboxStatus(ctx, st.sandboxID)
		if err != nil || sb.State != kubelet.SandboxReady {
			// The sandbox died: make a new one and every container anew.
			_ = a.killPod(ctx, pod, st, 0)
			st.sandboxAttempt++
			for _, cs := range st.ctrs {
				cs.prevID, cs.id = cs.id, ""
			}
		}
	}
	if st.sandboxID == "" {
		logDir := ""
		if a.opts.RootDir != "" {
			logDir = filepath.Join(a.opts.RootDir, "logs", pod.Namespace+"_"+pod.Name+"_"+string(pod.UID))
		}
		hostname, domain := a.podHostname(pod)
		if isTrue(pod.Spec.SetHostnameAsFQDN) && domain != "" {
			hostname += "." + domain
			if len(hostname) > 64 {
				err := fmt.Errorf("%w: failed to construct FQDN from pod hostname and cluster domain, FQDN %s is too long (64 characters is the max, %d characters requested)", ErrInvalid, hostname, len(hostname))
				a.events.pod(ctx, pod, core.EventTypeWarning, "FailedCreatePodSandBox", err.Error())
				return 0, err
			}
		}
		dns, dnsEvents, err := a.podDNS(pod)
		if err != nil {
			a.events.pod(ctx, pod, core.EventTypeWarning, "FailedCreatePodSandBox", err.Error())
			return 0, fmt.Errorf("agent: sandbox of %s: %w", key, err)
		}
		for _, e := range dnsEvents {
			a.events.pod(ctx, pod, e.typ, e.reason, e.message)
		}
		sb, err := a.rt.RunPodSandbox(ctx, kubelet.SandboxConfig{
			Name: pod.Name, Namespace: pod.Namespace, UID: string(pod.UID), Attempt: st.sandboxAttempt,
			Hostname: hostname, LogDirectory: logDir, CgroupParent: a.opts.CgroupParent,
			Labels: map[string]string{
				kubelet.LabelPodName: pod.Name, kubelet.LabelPodNamespace: pod.Namespace,
				kubelet.LabelPodUID: string(pod.UID), LabelNode: a.node,
			},
			DNS: dns, Privileged: podPrivileged(pod),
		})
		if errors.Is(err, kubelet.ErrAlreadyExists) {
			st.sandboxAttempt++
			return 0, fmt.Errorf("agent: sandbox of %s: %w", key, err)
		}
		if err != nil {
			a.events.pod(ctx, pod, core.EventTypeWarning, "FailedCreatePodSandBox", err.Error())
			return 0, fmt.Errorf("agent: sandbox of %s: %w", key, err)
		}
		st.sandboxID, st.ip = sb.ID, sb.IP
	}
	mounts, err := a.setupVolumes(pod, st)
	if err == nil {
		st.hostsFile, err = a.ensureHostsFile(pod, st)
	}
	if err != nil {
		st.waitReason, st.waitMessage = "ContainerCreating", err.Error()
		a.events.pod(ctx, pod, core.EventTypeWarning, "FailedMount", err.Error())
		return 10 * time.Second, nil
	}
	st.waitReason, st.waitMessage = "", ""
	now := a.clock.Now()
	var requeue time.Duration
	later := func(d time.Duration) {
		if d > 0 && (requeue == 0 || d < requeue) {
			requeue = d
		}
	}

	// Init containers, one at a time, in order.
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		cs := st.ctr(c.Name)
		if cs.id == "" {
			return 0, a.startContainer(ctx, pod, st, c, true, mounts)
		}
		s, err := a.rt.ContainerStatus(ctx, cs.id)
		if err != nil {
			cs.id = ""
			return 0, fmt.Errorf("agent: init container %s: %w", c.Name, err)
		}
		if s.State != kubelet.ContainerExited {
			return 0, nil // running: the relist tells us when it exits
		}
		if s.ExitCode == 0 {
			continue
		}
		if pod.Spec.RestartPolicy == core.RestartPolicyNever {
			st.done = true
			return 0, nil
		}
		if wait := a.restartDelay(ctx, pod, c.Name, cs, s, now); wait > 0 {
			return wait, nil
		}
		return 0, a.startContainer(ctx, pod, st, c, true, mounts)
	}

	// App containers: decide for each, then start those due in parallel.
	var due []*core.Container
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		cs := st.ctr(c.Name)
		if cs.id == "" {
			due = append(due, c)
			continue
		}
		s, err := a.rt.ContainerStatus(ctx, cs.id)
		if err != nil {
			cs.prevID, cs.id = "", ""
			due = append(due, c)
			continue
		}
		if s.State == kubelet.ContainerRunning {
			a.probes.ensure(pod, c, cs.id, st.ip, s.StartedAt.Before(a.startedAt))
			if why := a.probes.livenessFailed(cs.id); why != "" {
				a.events.pod(ctx, pod, core.EventTypeNormal, "Killing",
					fmt.Sprintf("Container %s failed %s, will be restarted", c.Name, why))
				a.probes.stop(cs.id)
				if err := a.rt.StopContainer(ctx, cs.id, terminationGrace(pod)); err != nil {
					return 0, fmt.Errorf("agent: stop unhealthy %s: %w", c.Name, err)
				}
				if s, err = a.rt.ContainerStatus(ctx, cs.id); err != nil {
					return 0, err
				}
			}
		}
		if s.State != kubelet.ContainerExited {
			continue
		}
		a.probes.stop(cs.id)
		if !shouldRestart(pod.Spec.RestartPolicy, s.ExitCode) {
			continue
		}
		if wait := a.restartDelay(ctx, pod, c.Name, cs, s, now); wait > 0 {
			later(wait)
			continue
		}
		due = append(due, c)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(due))
	for i, c := range due {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = a.startContainer(ctx, pod, st, c, false, mounts)
		}()
	}
	wg.Wait()
	return requeue, errors.Join(errs...)
}

func terminationGrace(pod *core.Pod) time.Duration {
	if g := pod.Spec.TerminationGracePeriodSeconds; g != nil {
		return time.Duration(*g) * time.Second
	}
	return 30 * time.Second
}

func shouldRestart(p core.RestartPolicy, exitCode int32) bool {
	switch p {
	case core.RestartPolicyNever:
		return false
	case core.RestartPolicyOnFailure:
		return exitCode != 0
	}
	return true
}

// restartDelay applies crash-loop back-off to an exited container: the first
// restart is immediate, then 10 s doubling to 5 min; a container that ran 10
// minutes starts over. It returns how long to wait (0: restart now).
func (a *Agent) restartDelay(ctx context.Context, pod *core.Pod, name string, cs *ctrState, s kubelet.ContainerStatus, now time.Time) time.Duration {
	if cs.exitOf != cs.id {
		if !s.StartedAt.IsZero() && s.FinishedAt.Sub(s.StartedAt) >= 10*time.Minute {
			cs.backoff = 0
		}
		cs.exitOf = cs.id
		cs.restartAt, cs.delay = s.FinishedAt.Add(cs.backoff), cs.backoff
		if cs.backoff == 0 {
			cs.backoff = a.opts.BackoffBase
		} else {
			cs.backoff = min(2*cs.backoff, a.opts.BackoffMax)
		}
		if wait := cs.restartAt.Sub(now); wait > 0 {
			a.events.pod(ctx, pod, core.EventTypeWarning, "BackOff",
				fmt.Sprintf("Back-off restarting failed container %s in pod %s_%s(%s)", name, pod.Name, pod.Namespace, pod.UID))
		}
	}
	return cs.restartAt.Sub(now)
}

// startContainer pulls the image as its policy says, then creates and starts
// the next attempt of container c.
func (a *Agent) startContainer(ctx context.Context, pod *core.Pod, st *podState, c *core.Container, init bool, mounts map[string]string) error {
	cs := st.ctr(c.Name)
	image, err := a.ensureImage(ctx, pod, c)
	if err == nil {
		err = a.checkNonRoot(ctx, pod, c, cs, image)
	}
	if errors.Is(err, ErrRunAsNonRoot) {
		return err
	}
	if err != nil {
		cs.pullErr, cs.pullMsg = "ErrImagePull", err.Error()
		if errors.Is(err, ErrImageNeverPull) {
			cs.pullErr = "ErrImageNeverPull"
		}
		return err
	}
	cs.pullErr, cs.pullMsg = "", ""
	a.imageGC.touch(image, a.clock.Now()) // before the create: a collection running now spares it
	env, err := a.containerEnv(pod, c, st.ip)
	if err != nil {
		cs.pullErr, cs.pullMsg = "CreateContainerConfigError", err.Error()
		a.events.pod(ctx, pod, core.EventTypeWarning, "Failed", err.Error())
		return err
	}
	var ms []kubelet.Mount
	for _, vm := range c.VolumeMounts {
		host, ok := mounts[vm.Name]
		if !ok {
			return fmt.Errorf("%w: container %s: volumeMounts %s: no such volume", ErrInvalid, c.Name, vm.Name)
		}
		if vm.SubPath != "" {
			host = filepath.Join(host, vm.SubPath)
		}
		ms = append(ms, kubelet.Mount{ContainerPath: vm.MountPath, HostPath: host, ReadOnly: vm.ReadOnly})
	}
	if st.hostsFile != "" && !slices.ContainsFunc(ms, func(m kubelet.Mount) bool { return m.ContainerPath == "/etc/hosts" }) {
		ms = append(ms, kubelet.Mount{ContainerPath: "/etc/hosts", HostPath: st.hostsFile})
	}
	attempt := uint32(0)
	if cs.id != "" || cs.prevID != "" {
		attempt = cs.attempt + 1
	}
	labels := map[string]string{
		kubelet.LabelPodName: pod.Name, kubelet.LabelPodNamespace: pod.Namespace,
		kubelet.LabelPodUID: string(pod.UID), kubelet.LabelContainerName: c.Name, LabelNode: a.node,
	}
	if init {
		labels[LabelInit] = "true"
	}
	id, err := a.rt.CreateContainer(ctx, st.sandboxID, kubelet.ContainerConfig{
		Name: c.Name, Attempt: attempt, Image: image, Command: c.Command, Args: c.Args,
		WorkingDir: c.WorkingDir, Env: env, Mounts: ms,
		LogPath: filepath.Join(c.Name, strconv.FormatUint(uint64(attempt), 10)+".log"),
		Labels:  labels, Resources: containerResources(pod, c), Stdin: c.Stdin, TTY: c.TTY,
		Security: containerSecurity(pod, c),
	})
	if err != nil {
		a.events.pod(ctx, pod, core.EventTypeWarning, "Failed", fmt.Sprintf("Error: %v", err))
		return fmt.Errorf("agent: create container %s: %w", c.Name, err)
	}
	// Keep one exited attempt (for lastState and --previous logs).
	if cs.prevID != "" && cs.id != "" {
		_ = a.rt.RemoveContainer(ctx, cs.prevID)
	}
	if cs.id != "" {
		cs.prevID = cs.id
	}
	cs.id, cs.attempt = id, attempt
	a.events.pod(ctx, pod, core.EventTypeNormal, "Created", "Created container "+c.Name)
	if err := a.rt.StartContainer(ctx, id); err != nil {
		a.events.pod(ctx, pod, core.EventTypeWarning, "Failed", fmt.Sprintf("Error: %v", err))
		return fmt.Errorf("agent: start container %s: %w", c.Name, err)
	}
	a.events.pod(ctx, pod, core.EventTypeNormal, "Started", "Started container "+c.Name)
	return nil
}

// checkNonRoot verifies runAsNonRoot before the container is created, as the
// kubelet does; a violation shows as CreateContainerConfigError with the
// kubelet's message and a Failed event, and the pod retries with back-off.
func (a *Agent) checkNonRoot(ctx context.Context, pod *core.Pod, c *core.Container, cs *ctrState, image string) error {
	if !runAsNonRoot(pod, c) {
		return nil
	}
	sec := containerSecurity(pod, c)
	imageUser := ""
	if sec.RunAsUser == nil {
		img, err := a.rt.ImageStatus(ctx, image)
		if err != nil {
			return fmt.Errorf("agent: image %s: %w", c.Image, err)
		}
		imageUser = img.User
	}
	if msg := verifyNonRoot(pod, c, sec.RunAsUser, imageUser); msg != "" {
		cs.pullErr, cs.pullMsg = "CreateContainerConfigError", msg
		a.events.pod(ctx, pod, core.EventTypeWarning, "Failed", "Error: "+msg)
		return fmt.Errorf("%w: container %s: %s", ErrRunAsNonRoot, c.Name, msg)
	}
	return nil
}

// ensureImage honours the pull policy: Never uses what is present, IfNotPresent
// pulls when absent, Always pulls every time (":latest" or no tag defaults to Always).
func (a *Agent) ensureImage(ctx context.Context, pod *core.Pod, c *core.Container) (string, error) {
	policy := c.ImagePullPolicy
	if policy == "" {
		policy = core.PullIfNotPresent
		if tagOf(c.Image) == "latest" {
			policy = core.PullAlways
		}
	}
	if policy != core.PullAlways {
		img, err := a.rt.ImageStatus(ctx, c.Image)
		if err == nil {
			return img.ID, nil
		}
		if !errors.Is(err, kubelet.ErrNotFound) {
			return "", fmt.Errorf("agent: image %s: %w", c.Image, err)
		}
		if policy == core.PullNever {
			a.events.pod(ctx, pod, core.EventTypeWarning, "ErrImageNeverPull",
				fmt.Sprintf("Container image %q is not present with pull policy of Never", c.Image))
			return "", fmt.Errorf("%w: %s", ErrImageNeverPull, c.Image)
		}
	}
	a.events.pod(ctx, pod, core.EventTypeNormal, "Pulling", fmt.Sprintf("Pulling image %q", c.Image))
	start := a.clock.Now()
	id, err := a.rt.PullImage(ctx, c.Image)
	if err != nil {
		a.events.pod(ctx, pod, core.EventTypeWarning, "Failed", fmt.Sprintf("Failed to pull image %q: %v", c.Image, err))
		return "", fmt.Errorf("agent: pull %s: %w", c.Image, err)
	}
	a.events.pod(ctx, pod, core.EventTypeNormal, "Pulled",
		fmt.Sprintf("Successfully pulled image %q in %s", c.Image, a.clock.Now().Sub(start)))
	return id, nil
}

// tagOf returns the tag of an image reference ("latest" when none; "" for a digest).
func tagOf(ref string) string {
	if i := lastIndex(ref, '@'); i >= 0 {
		return ""
	}
	slash := lastIndex(ref, '/')
	if i := lastIndex(ref, ':'); i > slash {
		return ref[i+1:]
	}
	return "latest"
}

func lastIndex(s string, b byte) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == b {
			return i
		}
	}
	return -1
}

// containerResources maps requests and limits to cgroup settings as the
// kubelet does: shares from the CPU request (2 minimum), CFS quota from the
// CPU limit over a 100 ms period, the memory limit as is.
func containerResources(pod *core.Pod, c *core.Container) kubelet.Resources {
	var r kubelet.Resources
	cpuReq, hasReq := c.Resources.Requests[core.ResourceCPU]
	cpuLim, hasLim := c.Resources.Limits[core.ResourceCPU]
	if !hasReq && hasLim {
		cpuReq, hasReq = cpuLim, true
	}
	r.CPUShares = 2
	if hasReq {
		r.CPUShares = max(cpuReq.MilliValue()*1024/1000, 2)
	}
	if hasLim {
		r.CPUPeriod = 100000
		r.CPUQuota = max(cpuLim.MilliValue()*r.CPUPeriod/1000, 1000)
	}
	if m, ok := c.Resources.Limits[core.ResourceMemory]; ok {
		r.MemoryLimit = m.Value()
	}
	// OOM score: Guaranteed pods are protected most, BestEffort least; never
	// negative (see kubelet.Resources).
	switch core.QOSClassOf(&pod.Spec) {
	case core.PodQOSGuaranteed:
		r.OOMScoreAdj = 0
	case core.PodQOSBestEffort:
		r.OOMScoreAdj = 1000
	default:
		r.OOMScoreAdj = 500
	}
	return r
}
