package containerd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	tasks "github.com/containerd/containerd/api/services/tasks/v1"
	"github.com/containerd/containerd/api/types"
	tasktypes "github.com/containerd/containerd/api/types/task"
	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/containerd/v2/core/mount"
	"github.com/containerd/containerd/v2/pkg/oci"
	"github.com/containerd/errdefs"
	"github.com/containerd/errdefs/pkg/errgrpc"
	"github.com/containerd/typeurl/v2"
	"github.com/moby/sys/signal"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/gantry-sdk/gantry/kubelet"
)

const keyStopSignal = keyPrefix + "stop-signal"

// CreateContainer implements kubelet.Containers: one record (spec, labels)
// and one snapshot; no process yet.
func (r *Runtime) CreateContainer(ctx context.Context, sandboxID string, cfg kubelet.ContainerConfig) (_ string, err error) {
	if err := cfg.Validate(); err != nil {
		return "", err
	}
	sb, err := r.sandboxRecord(ctx, sandboxID)
	if err != nil {
		return "", err
	}
	if sb.Labels[keyState] != stateReady {
		return "", fmt.Errorf("%w: create container %q: sandbox %s is not ready", kubelet.ErrInvalid, cfg.Name, sandboxID)
	}
	if cfg.Security.Privileged && sb.Labels[keyPrivileged] != "true" {
		// As CRI: only a sandbox created privileged holds privileged containers.
		return "", fmt.Errorf("%w: create container %q: privileged, but sandbox %s is not", kubelet.ErrInvalid, cfg.Name, sandboxID)
	}
	ctx = r.nsCtx(ctx)
	img, err := r.resolveImage(ctx, cfg.Image)
	if err != nil {
		return "", err
	}
	id := randomID()
	spec, err := r.containerSpec(ctx, id, sb, img, cfg)
	if err != nil {
		return "", err
	}
	specAny, err := typeurl.MarshalAny(spec)
	if err != nil {
		return "", fmt.Errorf("containerd: create container %q: spec: %w", cfg.Name, err)
	}
	now := time.Now()
	labels := map[string]string{
		keyKind: kindContainer, keySandbox: sandboxID, keyName: cfg.Name,
		keyAttempt: strconv.FormatUint(uint64(cfg.Attempt), 10), keyImage: cfg.Image, keyImageID: img.id,
		keyCreated: formatTime(now),
	}
	if cfg.LogPath != "" && sb.Labels[keyLogDirectory] != "" {
		labels[keyLogPath] = filepath.Join(sb.Labels[keyLogDirectory], filepath.Clean("/"+cfg.LogPath))
	}
	if img.config.StopSignal != "" {
		labels[keyStopSignal] = img.config.StopSignal
	}
	if spec.Linux != nil && spec.Linux.CgroupsPath != "" {
		// Where a Runtime that missed the OOM event finds the kill (oomFromCgroup).
		labels[keyCgroup] = spec.Linux.CgroupsPath
	}
	user := map[string]string{}
	for k, v := range cfg.Labels {
		user[k] = v
	}
	user[kubelet.LabelContainerName] = cfg.Name
	for _, k := range []string{kubelet.LabelPodName, kubelet.LabelPodNamespace, kubelet.LabelPodUID} {
		user[k] = sb.Labels[userLabelPrefix+k]
	}
	encodeUser(labels, user, cfg.Annotations)
	rec := containers.Container{
		ID: id, Labels: labels, Image: img.name,
		Runtime:     containers.RuntimeInfo{Name: runtimeName},
		Spec:        specAny,
		Snapshotter: r.snapshotter, SnapshotKey: id,
	}
	if r.runtimeOpts != nil {
		if rec.Runtime.Options, err = typeurl.MarshalAny(r.runtimeOpts); err != nil {
			return "", err
		}
	}
	// The record first: it holds the snapshot against containerd's garbage
	// collector from the moment the snapshot exists.
	if _, err := r.c.ContainerService().Create(ctx, rec); err != nil {
		return "", r.wrap("create container", cfg.Name, err)
	}
	mounts, err := r.c.SnapshotService(r.snapshotter).Prepare(ctx, id, img.chainID)
	if err != nil {
		_ = r.deleteRecord(context.WithoutCancel(ctx), id)
		return "", r.wrap("create container "+cfg.Name+": snapshot", id, err)
	}
	r.mu.Lock()
	r.created[id] = createdContainer{mounts: mounts, logPath: labels[keyLogPath]}
	r.mu.Unlock()
	return id, nil
}

func (r *Runtime) containerSpec(ctx context.Context, id string, sb containers.Container, img imageInfo, cfg kubelet.ContainerConfig) (*oci.Spec, error) {
	// Kubernetes semantics: command replaces the entrypoint (and drops the
	// image's cmd), args replace the cmd.
	entry, cmd := img.config.Entrypoint, img.config.Cmd
	if len(cfg.Command) > 0 {
		entry, cmd = cfg.Command, nil
	}
	if len(cfg.Args) > 0 {
		cmd = cfg.Args
	}
	args := append(append([]string{}, entry...), cmd...)
	if len(args) == 0 {
		return nil, fmt.Errorf("%w: container %q: no command and the image has none", kubelet.ErrInvalid, cfg.Name)
	}
	env := append([]string{}, img.config.Env...)
	for _, e := range cfg.Env {
		env = append(env, e.Key+"="+e.Value)
	}
	cwd := cfg.WorkingDir
	if cwd == "" {
		cwd = img.config.WorkingDir
	}
	if cwd == "" {
		cwd = "/"
	}
	hostname := sb.Labels[keyHostname]
	if hostname == "" {
		hostname = sb.Labels[keyName]
	}
	parent := sb.Labels[keyCgroupParent]
	if parent == "" {
		parent = "/gantry"
	}
	opts := []oci.SpecOpts{
		// Kubernetes gives containers no /run tmpfs (CRI drops it too).
		oci.WithoutRunMount,
		oci.WithProcessArgs(args...),
		oci.WithEnv(env),
		oci.WithProcessCwd(cwd),
		oci.WithHostname(hostname),
		oci.WithLinuxNamespace(specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: sb.Labels[keyNetns]}),
		oci.WithCgroup(filepath.Join(parent, id)),
		oci.WithAnnotations(map[string]string{groupAnnotation: sb.ID}),
	}
	if dir := sb.Labels[keyPodDir]; dir != "" {
		opts = append(opts, oci.WithLinuxNamespace(specs.LinuxNamespace{Type: specs.IPCNamespace, Path: filepath.Join(dir, podIPCFile)}))
	}
	if cfg.TTY {
		opts = append(opts, oci.WithTTY)
	}
	if res := cfg.Resources; res.MemoryLimit > 0 {
		opts = append(opts, oci.WithMemoryLimit(uint64(res.MemoryLimit)))
	}
	if res := cfg.Resources; res.CPUShares > 0 {
		opts = append(opts, oci.WithCPUShares(uint64(res.CPUShares)))
	}
	if res := cfg.Resources; res.CPUQuota > 0 || res.CPUPeriod > 0 {
		opts = append(opts, oci.WithCPUCFS(res.CPUQuota, uint64(res.CPUPeriod)))
	}
	if adj := int(cfg.Resources.OOMScoreAdj); adj > 0 { // validated non-negative
		opts = append(opts, func(_ context.Context, _ oci.Client, _ *containers.Container, s *oci.Spec) error {
			s.Process.OOMScoreAdj = &adj
			return nil
		})
	}
	// The container sees its own cgroups (read-only), as under the CRI plugin.
	ms := []specs.Mount{{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"nosuid", "noexec", "nodev", "relatime", "ro"}}}
	{
		for _, m := range cfg.Mounts {
			mode := "rw"
			if m.ReadOnly {
				mode = "ro"
			}
			ms = append(ms, specs.Mount{Destination: m.ContainerPath, Type: "bind", Source: m.HostPath, Options: []string{"rbind", "rprivate", mode}})
		}
	}
	if dir := sb.Labels[keyPodDir]; dir != "" {
		pms, replaceShm := podMounts(dir, cfg)
		if replaceShm {
			opts = append(opts, oci.WithoutMounts("/dev/shm"))
		}
		ms = append(ms, pms...)
	}
	opts = append(opts, oci.WithMounts(ms))
	sec, err := r.securityOpts(ctx, img, cfg)
	if err != nil {
		return nil, err
	}
	opts = append(opts, sec...)
	s, err := oci.GenerateSpec(ctx, nil, &containers.Container{ID: id}, opts...)
	if err != nil {
		return nil, fmt.Errorf("containerd: container %q: spec: %w", cfg.Name, err)
	}
	return s, nil
}

// containerRecord loads a container's record; other kinds of records are not found.
func (r *Runtime) containerRecord(ctx context.Context, id string) (containers.Container, error) {
	return r.record(ctx, kindContainer, id)
}

// record loads the record of id, which must be of the given kind (kindSandbox
// or kindContainer, which name it in errors); other records are not found.
func (r *Runtime) record(ctx context.Context, kind, id string) (containers.Container, error) {
	if !validID(id) {
		return containers.Container{}, fmt.Errorf("containerd: %s %q: %w", kind, id, kubelet.ErrNotFound)
	}
	rec, err := r.c.ContainerService().Get(r.nsCtx(ctx), id)
	if err != nil {
		return rec, r.wrap(kind, id, err)
	}
	if rec.Labels[keyKind] != kind {
		return rec, fmt.Errorf("containerd: %s is not a %s: %w", id, kind, kubelet.ErrNotFound)
	}
	return rec, nil
}

// StartContainer implements kubelet.Containers: the task is created (in the
// pod's shim when one runs) and started, its output copied into the log file.
func (r *Runtime) StartContainer(ctx context.Context, id string) (err error) {
	// A container this Runtime created starts without a lookup; another's
	// (an agent that restarted in between) is read from containerd.
	r.mu.Lock()
	cc, ok := r.created[id]
	r.mu.Unlock()
	if !ok {
		rec, err := r.containerRecord(ctx, id)
		if err != nil {
			return err
		}
		if cc.mounts, err = r.c.SnapshotService(rec.Snapshotter).Mounts(r.nsCtx(ctx), rec.SnapshotKey); err != nil {
			return r.wrap("start container: mounts", id, err)
		}
		cc.logPath = rec.Labels[keyLogPath]
	}
	ctx = r.nsCtx(ctx)
	tl, err := r.newTaskLog(id, cc.logPath)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tl.discard()
		}
	}()
	cfg := tl.io.Config()
	req := &tasks.CreateTaskRequest{ContainerID: id, Stdout: cfg.Stdout, Stderr: cfg.Stderr, Rootfs: rootfs(cc.mounts)}
	if _, err := r.c.TaskService().Create(ctx, req); err != nil {
		return r.wrap("start container: create task", id, errgrpc.ToNative(err))
	}
	if _, err := r.c.TaskService().Start(ctx, &tasks.StartRequest{ContainerID: id}); err != nil {
		_, _ = r.c.TaskService().Delete(context.WithoutCancel(ctx), &tasks.DeleteTaskRequest{ContainerID: id})
		return r.wrap("start container", id, errgrpc.ToNative(err))
	}
	started := time.Now()
	r.mu.Lock()
	delete(r.created, id)
	r.started[id] = started
	r.mu.Unlock()
	r.follow(id, tl)
	// The start time is recorded for a Runtime that restarts; off the
	// caller's path, which has it in memory.
	r.wg.Go(func() {
		upd := containers.Container{ID: id, Labels: map[string]string{keyStarted: formatTime(started)}}
		_, _ = r.c.ContainerService().Update(r.nsCtx(r.ctx), upd, "labels."+keyStarted)
	})
	return nil
}

// createdContainer is what StartContainer needs of a container this Runtime
// created and has not started yet.
type createdContainer struct {
	mounts  []mount.Mount
	logPath string
}

func rootfs(ms []mount.Mount) []*types.Mount {
	out := make([]*types.Mount, 0, len(ms))
	for _, m := range ms {
		out = append(out, &types.Mount{Type: m.Type, Source: m.Source, Target: m.Target, Options: m.Options})
	}
	return out
}

// taskProcess returns the init process of a container's task, ErrNotFound when
// it has none.
func (r *Runtime) taskProcess(ctx context.Context, id string) (*tasktypes.Process, error) {
	resp, err := r.c.TaskService().Get(r.nsCtx(ctx), &tasks.GetRequest{ContainerID: id})
	if err != nil {
		return nil, r.wrap("task", id, errgrpc.ToNative(err))
	}
	return resp.Process, nil
}

// waitTask waits for the task's exit, in the background.
func (r *Runtime) waitTask(ctx context.Context, id, execID string) <-chan error {
	ch := make(chan error, 1)
	go func() {
		_, err := r.c.TaskService().Wait(r.nsCtx(ctx), &tasks.WaitRequest{ContainerID: id, ExecID: execID})
		ch <- errgrpc.ToNative(err)
	}()
	return ch
}

// killTask signals a running task and waits up to grace (zero: no limit but
// ctx) for its exit, then kills it. A container without a running task is done.
func (r *Runtime) killTask(ctx context.Context, id string, sig syscall.Signal, grace time.Duration) error {
	p, err := r.taskProcess(ctx, id)
	if errors.Is(err, kubelet.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if p.Status == tasktypes.Status_STOPPED {
		return nil
	}
	ctx = r.nsCtx(ctx)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	exited := r.waitTask(wctx, id, "")
	kill := func(s syscall.Signal) error {
		_, err := r.c.TaskService().Kill(ctx, &tasks.KillRequest{ContainerID: id, Signal: uint32(s), All: true})
		if err = errgrpc.ToNative(err); err != nil && !errdefs.IsNotFound(err) {
			return r.wrap("kill", id, err)
		}
		return nil
	}
	if err := kill(sig); err != nil {
		return err
	}
	if sig != syscall.SIGKILL {
		var timeout <-chan time.Time
		if grace > 0 {
			t := time.NewTimer(grace)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case err := <-exited:
			return r.wrap("wait", id, err)
		case <-timeout:
		case <-ctx.Done():
			return fmt.Errorf("containerd: stop %s: %w", id, ctx.Err())
		}
		if err := kill(syscall.SIGKILL); err != nil {
			return err
		}
	}
	select {
	case err := <-exited:
		return r.wrap("wait", id, err)
	case <-ctx.Done():
		return fmt.Errorf("containerd: stop %s: %w", id, ctx.Err())
	}
}

// StopContainer implements kubelet.Containers.
func (r *Runtime) StopContainer(ctx context.Context, id string, grace time.Duration) error {
	rec, err := r.containerRecord(ctx, id)
	if err != nil {
		return err
	}
	sig := syscall.SIGTERM
	if s := rec.Labels[keyStopSignal]; s != "" {
		if parsed, err := signal.ParseSignal(s); err == nil {
			sig = parsed
		}
	}
	if grace <= 0 {
		sig = syscall.SIGKILL
	}
	return r.killTask(ctx, id, sig, grace)
}

// RemoveContainer implements kubelet.Containers.
func (r *Runtime) RemoveContainer(ctx context.Context, id string) error {
	rec, err := r.containerRecord(ctx, id)
	if errors.Is(err, kubelet.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	ctx = r.nsCtx(ctx)
	if err := r.killTask(ctx, id, syscall.SIGKILL, 0); err != nil {
		return err
	}
	var fifoStdout string
	if p, err := r.taskProcess(ctx, id); err == nil {
		fifoStdout = p.Stdout
		if _, err := r.c.TaskService().Delete(ctx, &tasks.DeleteTaskRequest{ContainerID: id}); err != nil {
			if err = errgrpc.ToNative(err); !errdefs.IsNotFound(err) {
				return r.wrap("remove container: delete task", id, err)
			}
		}
	}
	r.mu.Lock()
	tl := r.logs[id]
	delete(r.logs, id)
	delete(r.created, id)
	delete(r.started, id)
	delete(r.oom, id)
	delete(r.exitsSeen, id)
	delete(r.oomCgroup, id)
	r.mu.Unlock()
	if tl != nil {
		tl.finish(2 * time.Second)
	} else if dir := filepath.Dir(fifoStdout); fifoStdout != "" && strings.HasPrefix(dir, filepath.Join(r.stateDir, "fifo")+"/") {
		_ = os.RemoveAll(dir)
	}
	if err := r.c.SnapshotService(rec.Snapshotter).Remove(ctx, rec.SnapshotKey); err != nil && !errdefs.IsNotFound(err) {
		return r.wrap("remove container: snapshot", id, err)
	}
	return r.deleteRecord(ctx, id)
}

// ContainerStatus implements kubelet.Containers.
func (r *Runtime) ContainerStatus(ctx context.Context, id string) (kubelet.ContainerStatus, error) {
	rec, err := r.containerRecord(ctx, id)
	if err != nil {
		return kubelet.ContainerStatus{}, err
	}
	p, err := r.taskProcess(ctx, id)
	if err != nil && !errors.Is(err, kubelet.ErrNotFound) {
		return kubelet.ContainerStatus{}, err
	}
	st := r.containerStatus(rec, p)
	if st.State == kubelet.ContainerExited && st.Reason == kubelet.ReasonError && st.ExitCode == 137 && !r.hasOOMVerdict(id) {
		// A kill by the OOM killer: its event may trail the exit a little.
		st.Reason = r.awaitOOM(ctx, id)
	}
	return st, nil
}

func (r *Runtime) containerStatus(rec containers.Container, p *tasktypes.Process) kubelet.ContainerStatus {
	l := rec.Labels
	st := kubelet.ContainerStatus{
		ID: rec.ID, SandboxID: l[keySandbox], Name: l[keyName], Attempt: parseAttempt(l[keyAttempt]),
		Image: l[keyImage], ImageID: l[keyImageID], State: kubelet.ContainerCreated,
		CreatedAt: parseTime(l[keyCreated]), StartedAt: parseTime(l[keyStarted]), LogPath: l[keyLogPath],
	}
	st.Labels, st.Annotations = decodeUser(l)
	r.mu.Lock()
	if st.StartedAt.IsZero() {
		st.StartedAt = r.started[rec.ID]
	}
	oom := r.oom[rec.ID] || l[keyOOM] == "true"
	verdict, checked := r.oomCgroup[rec.ID]
	r.mu.Unlock()
	if p == nil {
		return st
	}
	switch p.Status {
	case tasktypes.Status_CREATED:
		st.State = kubelet.ContainerCreated
	case tasktypes.Status_RUNNING, tasktypes.Status_PAUSED, tasktypes.Status_PAUSING:
		st.State = kubelet.ContainerRunning
	case tasktypes.Status_STOPPED:
		st.State = kubelet.ContainerExited
		st.ExitCode = int32(p.ExitStatus)
		if p.ExitedAt != nil {
			st.FinishedAt = p.ExitedAt.AsTime()
		}
		if !oom && st.ExitCode == 137 {
			// Killed, maybe by the OOM killer while no Runtime watched the
			// events: the container's memory cgroup counts its OOM kills.
			if checked {
				oom = verdict
			} else {
				oom = r.oomFromCgroup(rec.ID, l[keyCgroup])
			}
		}
		switch {
		case oom:
			st.Reason = kubelet.ReasonOOMKilled
		case st.ExitCode == 0:
			st.Reason = kubelet.ReasonCompleted
		default:
			st.Reason = kubelet.ReasonError
		}
	default:
		st.State = kubelet.ContainerUnknown
	}
	return st
}

// ListContainers implements kubelet.Containers: two calls to containerd, the
// records and the tasks.
func (r *Runtime) ListContainers(ctx context.Context, f kubelet.ContainerFilter) ([]kubelet.ContainerStatus, error) {
	filter := `labels."` + keyKind + `"==` + kindContainer
	if f.SandboxID != "" {
		if !validID(f.SandboxID) {
			return nil, nil
		}
		filter += `,labels."` + keySandbox + `"==` + f.SandboxID
	}
	if f.ID != "" {
		if !validID(f.ID) {
			return nil, nil
		}
		filter += ",id==" + f.ID
	}
	ctx = r.nsCtx(ctx)
	recs, err := r.c.ContainerService().List(ctx, filter)
	if err != nil {
		return nil, r.wrap("list containers", "", err)
	}
	resp, err := r.c.TaskService().List(ctx, &tasks.ListTasksRequest{})
	if err != nil {
		return nil, r.wrap("list tasks", "", errgrpc.ToNative(err))
	}
	procs := map[string]*tasktypes.Process{}
	for _, p := range resp.Tasks {
		procs[taskID(p)] = p
	}
	out := make([]kubelet.ContainerStatus, 0, len(recs))
	for _, rec := range recs {
		st := r.containerStatus(rec, procs[rec.ID])
		if f.State != nil && st.State != *f.State {
			continue
		}
		if !kubelet.MatchLabels(f.Labels, st.Labels) {
			continue
		}
		out = append(out, st)
	}
	return out, nil
}

// ExecSync implements kubelet.Containers: an Exec (see stream.go) into
// capped buffers, killed after timeout.
func (r *Runtime) ExecSync(ctx context.Context, id string, cmd []string, timeout time.Duration) (kubelet.ExecResult, error) {
	ectx := ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		ectx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	var stdout, stderr cappedBuffer
	code, err := r.Exec(ectx, id, cmd, kubelet.ExecStreams{Stdout: &stdout, Stderr: &stderr})
	if err != nil {
		if ctx.Err() == nil && ectx.Err() != nil {
			return kubelet.ExecResult{}, fmt.Errorf("containerd: exec in %s: %w after %s", id, kubelet.ErrTimeout, timeout)
		}
		return kubelet.ExecResult{}, err
	}
	return kubelet.ExecResult{Stdout: stdout.Bytes(), Stderr: stderr.Bytes(), ExitCode: code}, nil
}

// taskID is the container ID of a listed task (containerd 1.6 fills only ID).
func taskID(p *tasktypes.Process) string {
	if p.ContainerID != "" {
		return p.ContainerID
	}
	return p.ID
}
