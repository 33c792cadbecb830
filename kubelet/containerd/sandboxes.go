package containerd

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"syscall"
	"time"

	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/containerd/v2/pkg/namespaces"

	"github.com/gantry-sdk/gantry/kubelet"
)

func (r *Runtime) nsCtx(ctx context.Context) context.Context {
	return namespaces.WithNamespace(ctx, r.ns)
}

// RunPodSandbox implements kubelet.Sandboxes. A pool hit costs one update of
// the slot's record; a miss sets the network up first (namespace, CNI).
func (r *Runtime) RunPodSandbox(ctx context.Context, cfg kubelet.SandboxConfig) (kubelet.SandboxStatus, error) {
	if err := cfg.Validate(); err != nil {
		return kubelet.SandboxStatus{}, err
	}
	// Rendered before a network is taken: a bad DNS setting costs no slot.
	resolv, err := resolvConf(cfg.DNS, r.hostResolvConf)
	if err != nil {
		return kubelet.SandboxStatus{}, fmt.Errorf("containerd: sandbox %s/%s: %w", cfg.Namespace, cfg.Name, err)
	}
	ctx = r.nsCtx(ctx)
	var s slot
	hit := false
	if r.pool != nil {
		s, hit = r.pool.take()
	}
	if !hit {
		var err error
		// No warm shim on a miss: starting one costs the caller what it saves.
		if s, err = r.provision(ctx, false); err != nil {
			return kubelet.SandboxStatus{}, err
		}
	}
	now := time.Now()
	labels := map[string]string{
		keyKind: kindSandbox, keyName: cfg.Name, keyNamespace: cfg.Namespace, keyUID: cfg.UID,
		keyAttempt: strconv.FormatUint(uint64(cfg.Attempt), 10), keyState: stateReady,
		keyIP: s.ip, keyNetns: s.netns, keyPodDir: s.podDir, keyCreated: formatTime(now),
	}
	if cfg.Hostname != "" {
		labels[keyHostname] = cfg.Hostname
	}
	if cfg.LogDirectory != "" {
		labels[keyLogDirectory] = cfg.LogDirectory
	}
	if cfg.CgroupParent != "" {
		labels[keyCgroupParent] = cfg.CgroupParent
	}
	if cfg.Privileged {
		labels[keyPrivileged] = "true"
	}
	user := map[string]string{}
	for k, v := range cfg.Labels {
		user[k] = v
	}
	// The pod's identity wins over the caller's labels: adoption relies on it.
	user[kubelet.LabelPodName], user[kubelet.LabelPodNamespace], user[kubelet.LabelPodUID] = cfg.Name, cfg.Namespace, cfg.UID
	encodeUser(labels, user, cfg.Annotations)
	rec := containers.Container{ID: s.id, Labels: labels}
	// The files are written while the record's update is on the wire.
	written := make(chan error, 1)
	go func() { written <- writePodFiles(s.podDir, resolv, podHostname(cfg.Name, cfg.Hostname)) }()
	_, err = r.c.ContainerService().Update(ctx, rec, "labels")
	err = errors.Join(r.wrap("run pod sandbox", cfg.Namespace+"/"+cfg.Name, err), <-written)
	if err != nil {
		_ = r.removeWarmShim(context.WithoutCancel(ctx), s.id)
		_ = r.teardownNetwork(context.WithoutCancel(ctx), s.id, s.netns)
		_ = releasePodDir(s.podDir)
		_ = r.deleteRecord(context.WithoutCancel(ctx), s.id)
		return kubelet.SandboxStatus{}, err
	}
	rec.CreatedAt = now
	return sandboxStatus(rec), nil
}

// sandboxRecord loads a sandbox's record; other kinds of records are not found.
func (r *Runtime) sandboxRecord(ctx context.Context, id string) (containers.Container, error) {
	return r.record(ctx, kindSandbox, id)
}

func sandboxStatus(rec containers.Container) kubelet.SandboxStatus {
	l := rec.Labels
	st := kubelet.SandboxStatus{
		ID: rec.ID, Name: l[keyName], Namespace: l[keyNamespace], UID: l[keyUID],
		Attempt: parseAttempt(l[keyAttempt]), State: kubelet.SandboxNotReady,
		CreatedAt: parseTime(l[keyCreated]),
	}
	if st.CreatedAt.IsZero() {
		st.CreatedAt = rec.CreatedAt
	}
	if l[keyState] == stateReady {
		st.State = kubelet.SandboxReady
		st.IP = podIP(l[keyIP])
	}
	st.Labels, st.Annotations = decodeUser(l)
	return st
}

// StopPodSandbox implements kubelet.Sandboxes: it kills the pod's containers
// and tears its network down.
func (r *Runtime) StopPodSandbox(ctx context.Context, id string) error {
	rec, err := r.sandboxRecord(ctx, id)
	if err != nil {
		return err
	}
	ctx = r.nsCtx(ctx)
	ctrs, err := r.containerRecords(ctx, id)
	if err != nil {
		return err
	}
	var errs []error
	for _, c := range ctrs {
		if err := r.killTask(ctx, c.ID, syscall.SIGKILL, 0); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if err := r.removeWarmShim(ctx, id); err != nil {
		return err
	}
	if rec.Labels[keyState] == stateNotReady {
		return nil
	}
	if err := r.teardownNetwork(ctx, id, rec.Labels[keyNetns]); err != nil {
		return err
	}
	upd := containers.Container{ID: id, Labels: map[string]string{keyState: stateNotReady, keyIP: "", keyNetns: ""}}
	// Deleting label keys takes an update of each "labels.<key>" path.
	_, err = r.c.ContainerService().Update(ctx, upd, "labels."+keyState, "labels."+keyIP, "labels."+keyNetns)
	return r.wrap("stop pod sandbox", id, err)
}

// RemovePodSandbox implements kubelet.Sandboxes.
func (r *Runtime) RemovePodSandbox(ctx context.Context, id string) error {
	rec, err := r.sandboxRecord(ctx, id)
	if errors.Is(err, kubelet.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	ctx = r.nsCtx(ctx)
	ctrs, err := r.containerRecords(ctx, id)
	if err != nil {
		return err
	}
	for _, c := range ctrs {
		if err := r.RemoveContainer(ctx, c.ID); err != nil {
			return err
		}
	}
	if err := r.removeWarmShim(ctx, id); err != nil {
		return err
	}
	if err := r.teardownNetwork(ctx, id, rec.Labels[keyNetns]); err != nil {
		return err
	}
	if err := releasePodDir(rec.Labels[keyPodDir]); err != nil {
		return err
	}
	return r.deleteRecord(ctx, id)
}

// PodSandboxStatus implements kubelet.Sandboxes.
func (r *Runtime) PodSandboxStatus(ctx context.Context, id string) (kubelet.SandboxStatus, error) {
	rec, err := r.sandboxRecord(ctx, id)
	if err != nil {
		return kubelet.SandboxStatus{}, err
	}
	return sandboxStatus(rec), nil
}

// ListPodSandboxes implements kubelet.Sandboxes.
func (r *Runtime) ListPodSandboxes(ctx context.Context, f kubelet.SandboxFilter) ([]kubelet.SandboxStatus, error) {
	filter := `labels."` + keyKind + `"==` + kindSandbox
	if f.ID != "" {
		if !validID(f.ID) {
			return nil, nil
		}
		filter += ",id==" + f.ID
	}
	recs, err := r.c.ContainerService().List(r.nsCtx(ctx), filter)
	if err != nil {
		return nil, r.wrap("list pod sandboxes", "", err)
	}
	out := make([]kubelet.SandboxStatus, 0, len(recs))
	for _, rec := range recs {
		st := sandboxStatus(rec)
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

// containerRecords lists the container records of a sandbox.
func (r *Runtime) containerRecords(ctx context.Context, sandboxID string) ([]containers.Container, error) {
	recs, err := r.c.ContainerService().List(r.nsCtx(ctx), `labels."`+keyKind+`"==`+kindContainer+`,labels."`+keySandbox+`"==`+sandboxID)
	if err != nil {
		return nil, r.wrap("list containers of", sandboxID, err)
	}
	return recs, nil
}
