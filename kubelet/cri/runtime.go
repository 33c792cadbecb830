package cri

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/gantry-sdk/gantry/kubelet"
)

// AnnotationLogDirectory records a sandbox's log directory on the sandbox
// itself: CreateContainer must send the sandbox's config again, and a client that
// restarted (adoption) has only the status to rebuild it from.
const AnnotationLogDirectory = "gantry.dev/log-directory"

// AnnotationPrivileged marks a privileged sandbox, for the same reason: CRI
// checks a privileged container against its sandbox's config.
const AnnotationPrivileged = "gantry.dev/privileged"

// Options tune a Runtime; the zero value works.
type Options struct {
	// Importer loads image archives (ImportImage). Nil: ImportImage fails with
	// ErrNoImporter (CRI has no import call).
	Importer Importer
	// MaxMessageSize bounds gRPC messages (list of many containers, exec output);
	// zero means 16 MiB.
	MaxMessageSize int
}

// ErrNoImporter: the Runtime was built without an Importer.
var ErrNoImporter = errors.New("cri: no image importer configured")

// Importer loads an image archive into the runtime's image store and returns
// the names it contains.
type Importer interface {
	Import(ctx context.Context, archive io.Reader) (names []string, err error)
}

// ImporterFunc adapts a function to Importer.
type ImporterFunc func(ctx context.Context, archive io.Reader) ([]string, error)

// Import calls f.
func (f ImporterFunc) Import(ctx context.Context, archive io.Reader) ([]string, error) {
	return f(ctx, archive)
}

// Runtime is a kubelet.Runtime over the CRI gRPC API of a runtime such as
// containerd or CRI-O.
type Runtime struct {
	conn     *grpc.ClientConn
	rt       runtimeapi.RuntimeServiceClient
	img      runtimeapi.ImageServiceClient
	importer Importer

	mu        sync.Mutex
	sandboxes map[string]*runtimeapi.PodSandboxConfig // by sandbox ID
	// sandboxOf maps container IDs to their sandbox: CRI's container status
	// lacks it, and a listing per status call would double the calls.
	sandboxOf map[string]string
}

var _ kubelet.Runtime = (*Runtime)(nil)

// Dial connects to the CRI endpoint at address (a unix socket path, or
// "unix://path") and checks that it answers the v1 API.
func Dial(ctx context.Context, address string, o Options) (*Runtime, error) {
	if !strings.Contains(address, "://") {
		address = "unix://" + address
	}
	size := o.MaxMessageSize
	if size == 0 {
		size = 16 << 20
	}
	conn, err := grpc.NewClient(address,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(size), grpc.MaxCallSendMsgSize(size)))
	if err != nil {
		return nil, fmt.Errorf("cri: dial %s: %w", address, err)
	}
	r := &Runtime{
		conn:      conn,
		rt:        runtimeapi.NewRuntimeServiceClient(conn),
		img:       runtimeapi.NewImageServiceClient(conn),
		importer:  o.Importer,
		sandboxes: map[string]*runtimeapi.PodSandboxConfig{},
		sandboxOf: map[string]string{},
	}
	if _, err := r.Version(ctx); err != nil {
		conn.Close()
		return nil, err
	}
	return r, nil
}

// Close closes the connection; containers keep running.
func (r *Runtime) Close() error { return r.conn.Close() }

// Version returns the runtime's name and version ("containerd v1.6.20").
func (r *Runtime) Version(ctx context.Context) (string, error) {
	v, err := r.rt.Version(ctx, &runtimeapi.VersionRequest{})
	if err != nil {
		return "", wrap("version", "", err)
	}
	return v.RuntimeName + " " + v.RuntimeVersion, nil
}

// wrap maps a gRPC status to the kubelet sentinels, keeping the runtime's message.
func wrap(op, id string, err error) error {
	if err == nil {
		return nil
	}
	what := op
	if id != "" {
		what = op + " " + id
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("cri: %s: %w", what, err)
	}
	st, ok := status.FromError(err)
	if !ok {
		return fmt.Errorf("cri: %s: %w", what, err)
	}
	var sentinel error
	switch st.Code() {
	case codes.NotFound:
		sentinel = kubelet.ErrNotFound
	case codes.AlreadyExists:
		sentinel = kubelet.ErrAlreadyExists
	case codes.InvalidArgument:
		sentinel = kubelet.ErrInvalid
	case codes.Unavailable:
		sentinel = kubelet.ErrUnavailable
	case codes.DeadlineExceeded:
		sentinel = kubelet.ErrTimeout
	case codes.Canceled:
		sentinel = context.Canceled
	default:
		// containerd 1.6 reports some missing objects as Unknown with "not found".
		if strings.Contains(st.Message(), "not found") {
			sentinel = kubelet.ErrNotFound
		} else {
			return fmt.Errorf("cri: %s: %s: %w", what, st.Code(), err)
		}
	}
	return fmt.Errorf("cri: %s: %w: %s", what, sentinel, st.Message())
}

// --- sandboxes

func sandboxConfig(c kubelet.SandboxConfig) *runtimeapi.PodSandboxConfig {
	// The pod's identity labels win over the caller's: adoption relies on them.
	labels := map[string]string{}
	for k, v := range c.Labels {
		labels[k] = v
	}
	labels[kubelet.LabelPodName], labels[kubelet.LabelPodNamespace], labels[kubelet.LabelPodUID] = c.Name, c.Namespace, c.UID
	annotations := map[string]string{}
	for k, v := range c.Annotations {
		annotations[k] = v
	}
	if c.LogDirectory != "" {
		annotations[AnnotationLogDirectory] = c.LogDirectory
	}
	if c.Privileged {
		annotations[AnnotationPrivileged] = "true"
	}
	var dns *runtimeapi.DNSConfig
	if !c.DNS.IsZero() {
		// nil, not empty, when unset: the runtime then copies the host's file.
		dns = &runtimeapi.DNSConfig{Servers: c.DNS.Servers, Searches: c.DNS.Searches, Options: c.DNS.Options}
	}
	return &runtimeapi.PodSandboxConfig{
		Metadata:     &runtimeapi.PodSandboxMetadata{Name: c.Name, Namespace: c.Namespace, Uid: c.UID, Attempt: c.Attempt},
		Hostname:     c.Hostname,
		LogDirectory: c.LogDirectory,
		DnsConfig:    dns,
		Labels:       labels,
		Annotations:  annotations,
		Linux: &runtimeapi.LinuxPodSandboxConfig{
			CgroupParent: c.CgroupParent,
			SecurityContext: &runtimeapi.LinuxSandboxSecurityContext{
				Privileged: c.Privileged,
				NamespaceOptions: &runtimeapi.NamespaceOption{
					Network: runtimeapi.NamespaceMode_POD,
					Pid:     runtimeapi.NamespaceMode_CONTAINER,
					Ipc:     runtimeapi.NamespaceMode_POD,
				},
			},
		},
	}
}

// RunPodSandbox implements kubelet.Sandboxes.
func (r *Runtime) RunPodSandbox(ctx context.Context, c kubelet.SandboxConfig) (kubelet.SandboxStatus, error) {
	if err := c.Validate(); err != nil {
		return kubelet.SandboxStatus{}, err
	}
	cfg := sandboxConfig(c)
	resp, err := r.rt.RunPodSandbox(ctx, &runtimeapi.RunPodSandboxRequest{Config: cfg})
	if err != nil {
		return kubelet.SandboxStatus{}, wrap("run pod sandbox", c.Namespace+"/"+c.Name, err)
	}
	r.mu.Lock()
	r.sandboxes[resp.PodSandboxId] = cfg
	r.mu.Unlock()
	return r.PodSandboxStatus(ctx, resp.PodSandboxId)
}

// StopPodSandbox implements kubelet.Sandboxes.
func (r *Runtime) StopPodSandbox(ctx context.Context, id string) error {
	_, err := r.rt.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: id})
	return wrap("stop pod sandbox", id, err)
}

// RemovePodSandbox implements kubelet.Sandboxes.
func (r *Runtime) RemovePodSandbox(ctx context.Context, id string) error {
	_, err := r.rt.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: id})
	if err = wrap("remove pod sandbox", id, err); err != nil && !errors.Is(err, kubelet.ErrNotFound) {
		return err
	}
	r.mu.Lock()
	delete(r.sandboxes, id)
	for c, sb := range r.sandboxOf {
		if sb == id {
			delete(r.sandboxOf, c)
		}
	}
	r.mu.Unlock()
	return nil
}

// PodSandboxStatus implements kubelet.Sandboxes.
func (r *Runtime) PodSandboxStatus(ctx context.Context, id string) (kubelet.SandboxStatus, error) {
	resp, err := r.rt.PodSandboxStatus(ctx, &runtimeapi.PodSandboxStatusRequest{PodSandboxId: id})
	if err != nil {
		return kubelet.SandboxStatus{}, wrap("pod sandbox status", id, err)
	}
	s := resp.Status
	if s == nil {
		return kubelet.SandboxStatus{}, fmt.Errorf("cri: pod sandbox status %s: %w", id, kubelet.ErrNotFound)
	}
	out := kubelet.SandboxStatus{
		ID:          s.Id,
		State:       sandboxState(s.State),
		CreatedAt:   fromNanos(s.CreatedAt),
		Labels:      s.Labels,
		Annotations: s.Annotations,
	}
	if m := s.Metadata; m != nil {
		out.Name, out.Namespace, out.UID, out.Attempt = m.Name, m.Namespace, m.Uid, m.Attempt
	}
	if s.Network != nil && out.State == kubelet.SandboxReady {
		out.IP = s.Network.Ip
	}
	return out, nil
}

// ListPodSandboxes implements kubelet.Sandboxes.
func (r *Runtime) ListPodSandboxes(ctx context.Context, f kubelet.SandboxFilter) ([]kubelet.SandboxStatus, error) {
	filter := &runtimeapi.PodSandboxFilter{Id: f.ID, LabelSelector: f.Labels}
	if f.State != nil {
		st := runtimeapi.PodSandboxState_SANDBOX_NOTREADY
		if *f.State == kubelet.SandboxReady {
			st = runtimeapi.PodSandboxState_SANDBOX_READY
		}
		filter.State = &runtimeapi.PodSandboxStateValue{State: st}
	}
	resp, err := r.rt.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{Filter: filter})
	if err != nil {
		return nil, wrap("list pod sandboxes", "", err)
	}
	out := make([]kubelet.SandboxStatus, 0, len(resp.Items))
	for _, s := range resp.Items {
		st := kubelet.SandboxStatus{
			ID: s.Id, State: sandboxState(s.State), CreatedAt: fromNanos(s.CreatedAt),
			Labels: s.Labels, Annotations: s.Annotations,
		}
		if m := s.Metadata; m != nil {
			st.Name, st.Namespace, st.UID, st.Attempt = m.Name, m.Namespace, m.Uid, m.Attempt
		}
		out = append(out, st)
	}
	return out, nil
}

func sandboxState(s runtimeapi.PodSandboxState) kubelet.SandboxState {
	if s == runtimeapi.PodSandboxState_SANDBOX_READY {
		return kubelet.SandboxReady
	}
	return kubelet.SandboxNotReady
}

// sandboxConfigOf returns the config a sandbox was created with, rebuilt from
// its status when this client did not create it.
func (r *Runtime) sandboxConfigOf(ctx context.Context, id string) (*runtimeapi.PodSandboxConfig, error) {
	r.mu.Lock()
	cfg, ok := r.sandboxes[id]
	r.mu.Unlock()
	if ok {
		return cfg, nil
	}
	st, err := r.PodSandboxStatus(ctx, id)
	if err != nil {
		return nil, err
	}
	c := kubelet.SandboxConfig{
		Name: st.Name, Namespace: st.Namespace, UID: st.UID, Attempt: st.Attempt,
		Labels: st.Labels, Annotations: st.Annotations,
		LogDirectory: st.Annotations[AnnotationLogDirectory],
		Privileged:   st.Annotations[AnnotationPrivileged] == "true",
	}
	cfg = sandboxConfig(c)
	r.mu.Lock()
	r.sandboxes[id] = cfg
	r.mu.Unlock()
	return cfg, nil
}

// --- containers

// CreateContainer implements kubelet.Containers.
func (r *Runtime) CreateContainer(ctx context.Context, sandboxID string, c kubelet.ContainerConfig) (string, error) {
	if err := c.Validate(); err != nil {
		return "", err
	}
	sb, err := r.sandboxConfigOf(ctx, sandboxID)
	if err != nil {
		return "", err
	}
	labels := map[string]string{}
	for k, v := range c.Labels {
		labels[k] = v
	}
	labels[kubelet.LabelContainerName] = c.Name
	for _, k := range []string{kubelet.LabelPodName, kubelet.LabelPodNamespace, kubelet.LabelPodUID} {
		labels[k] = sb.Labels[k]
	}
	sec, err := r.securityContext(ctx, c, sb)
	if err != nil {
		return "", err
	}
	cfg := &runtimeapi.ContainerConfig{
		Metadata:    &runtimeapi.ContainerMetadata{Name: c.Name, Attempt: c.Attempt},
		Image:       &runtimeapi.ImageSpec{Image: c.Image},
		Command:     c.Command,
		Args:        c.Args,
		WorkingDir:  c.WorkingDir,
		Labels:      labels,
		Annotations: c.Annotations,
		LogPath:     c.LogPath,
		Stdin:       c.Stdin,
		Tty:         c.TTY,
		Linux: &runtimeapi.LinuxContainerConfig{
			Resources: &runtimeapi.LinuxContainerResources{
				CpuShares:          c.Resources.CPUShares,
				CpuQuota:           c.Resources.CPUQuota,
				CpuPeriod:          c.Resources.CPUPeriod,
				MemoryLimitInBytes: c.Resources.MemoryLimit,
				OomScoreAdj:        c.Resources.OOMScoreAdj, // validated non-negative
			},
			SecurityContext: sec,
		},
	}
	for _, e := range c.Env {
		cfg.Envs = append(cfg.Envs, &runtimeapi.KeyValue{Key: e.Key, Value: e.Value})
	}
	for _, m := range c.Mounts {
		cfg.Mounts = append(cfg.Mounts, &runtimeapi.Mount{ContainerPath: m.ContainerPath, HostPath: m.HostPath, Readonly: m.ReadOnly})
	}
	resp, err := r.rt.CreateContainer(ctx, &runtimeapi.CreateContainerRequest{PodSandboxId: sandboxID, Config: cfg, SandboxConfig: sb})
	if err != nil {
		return "", wrap("create container", sandboxID+"/"+c.Name, err)
	}
	r.mu.Lock()
	r.sandboxOf[resp.ContainerId] = sandboxID
	r.mu.Unlock()
	return resp.ContainerId, nil
}

// securityContext maps the container's security context to CRI's.
func (r *Runtime) securityContext(ctx context.Context, c kubelet.ContainerConfig, sb *runtimeapi.PodSandboxConfig) (*runtimeapi.LinuxContainerSecurityContext, error) {
	s := c.Security
	out := &runtimeapi.LinuxContainerSecurityContext{
		NamespaceOptions:   sb.Linux.SecurityContext.NamespaceOptions,
		SupplementalGroups: s.SupplementalGroups,
		Privileged:         s.Privileged,
		ReadonlyRootfs:     s.ReadOnlyRootFilesystem,
		NoNewPrivs:         s.NoNewPrivileges,
	}
	if len(s.CapAdd) > 0 || len(s.CapDrop) > 0 {
		out.Capabilities = &runtimeapi.Capability{AddCapabilities: s.CapAdd, DropCapabilities: s.CapDrop}
	}
	if s.RunAsUser != nil {
		out.RunAsUser = &runtimeapi.Int64Value{Value: *s.RunAsUser}
	}
	if s.RunAsGroup != nil {
		out.RunAsGroup = &runtimeapi.Int64Value{Value: *s.RunAsGroup}
		if s.RunAsUser == nil {
			// CRI wants a user with a group: the image's, as the kubelet sends.
			resp, err := r.img.ImageStatus(ctx, &runtimeapi.ImageStatusRequest{Image: &runtimeapi.ImageSpec{Image: c.Image}})
			if err != nil {
				return nil, wrap("create container "+c.Name+": image status", c.Image, err)
			}
			if resp.Image == nil {
				return nil, fmt.Errorf("cri: create container %s: image %s: %w", c.Name, c.Image, kubelet.ErrNotFound)
			}
			switch {
			case resp.Image.Uid != nil:
				out.RunAsUser = &runtimeapi.Int64Value{Value: resp.Image.Uid.Value}
			case resp.Image.Username != "":
				out.RunAsUsername = resp.Image.Username
			default:
				out.RunAsUser = &runtimeapi.Int64Value{Value: 0}
			}
		}
	}
	return out, nil
}

// StartContainer implements kubelet.Containers.
func (r *Runtime) StartContainer(ctx context.Context, id string) error {
	_, err := r.rt.StartContainer(ctx, &runtimeapi.StartContainerRequest{ContainerId: id})
	return wrap("start container", id, err)
}

// StopContainer implements kubelet.Containers. CRI counts the grace period in
// whole seconds: it is rounded up.
func (r *Runtime) StopContainer(ctx context.Context, id string, grace time.Duration) error {
	secs := int64((grace + time.Second - 1) / time.Second)
	_, err := r.rt.StopContainer(ctx, &runtimeapi.StopContainerRequest{ContainerId: id, Timeout: secs})
	return wrap("stop container", id, err)
}

// RemoveContainer implements kubelet.Containers.
func (r *Runtime) RemoveContainer(ctx context.Context, id string) error {
	_, err := r.rt.RemoveContainer(ctx, &runtimeapi.RemoveContainerRequest{ContainerId: id})
	if err = wrap("remove container", id, err); err != nil && !errors.Is(err, kubelet.ErrNotFound) {
		return err
	}
	r.mu.Lock()
	delete(r.sandboxOf, id)
	r.mu.Unlock()
	return nil
}

// ContainerStatus implements kubelet.Containers.
func (r *Runtime) ContainerStatus(ctx context.Context, id string) (kubelet.ContainerStatus, error) {
	resp, err := r.rt.ContainerStatus(ctx, &runtimeapi.ContainerStatusRequest{ContainerId: id})
	if err != nil {
		return kubelet.ContainerStatus{}, wrap("container status", id, err)
	}
	s := resp.Status
	if s == nil {
		return kubelet.ContainerStatus{}, fmt.Errorf("cri: container status %s: %w", id, kubelet.ErrNotFound)
	}
	out := kubelet.ContainerStatus{
		ID:          s.Id,
		ImageID:     s.ImageRef,
		State:       containerState(s.State),
		CreatedAt:   fromNanos(s.CreatedAt),
		StartedAt:   fromNanos(s.StartedAt),
		FinishedAt:  fromNanos(s.FinishedAt),
		ExitCode:    s.ExitCode,
		Reason:      s.Reason,
		Message:     s.Message,
		LogPath:     s.LogPath,
		Labels:      s.Labels,
		Annotations: s.Annotations,
	}
	if s.Image != nil {
		out.Image = s.Image.Image
	}
	if m := s.Metadata; m != nil {
		out.Name, out.Attempt = m.Name, m.Attempt
	}
	r.mu.Lock()
	out.SandboxID = r.sandboxOf[id]
	r.mu.Unlock()
	if out.SandboxID == "" {
		// CRI's status has no sandbox ID; one listing call finds it, once.
		list, err := r.rt.ListContainers(ctx, &runtimeapi.ListContainersRequest{Filter: &runtimeapi.ContainerFilter{Id: id}})
		if err == nil && len(list.Containers) == 1 {
			out.SandboxID = list.Containers[0].PodSandboxId
			r.mu.Lock()
			r.sandboxOf[id] = out.SandboxID
			r.mu.Unlock()
		}
	}
	return out, nil
}

// ListContainers implements kubelet.Containers. CRI lists only identity, image,
// state, creation time, labels and annotations; ContainerStatus has the rest
// (times, exit code, reason, log path).
func (r *Runtime) ListContainers(ctx context.Context, f kubelet.ContainerFilter) ([]kubelet.ContainerStatus, error) {
	filter := &runtimeapi.ContainerFilter{Id: f.ID, PodSandboxId: f.SandboxID, LabelSelector: f.Labels}
	if f.State != nil {
		filter.State = &runtimeapi.ContainerStateValue{State: criContainerState(*f.State)}
	}
	resp, err := r.rt.ListContainers(ctx, &runtimeapi.ListContainersRequest{Filter: filter})
	if err != nil {
		return nil, wrap("list containers", "", err)
	}
	out := make([]kubelet.ContainerStatus, 0, len(resp.Containers))
	r.mu.Lock()
	for _, c := range resp.Containers {
		r.sandboxOf[c.Id] = c.PodSandboxId
	}
	r.mu.Unlock()
	for _, c := range resp.Containers {
		st := kubelet.ContainerStatus{
			ID: c.Id, SandboxID: c.PodSandboxId, ImageID: c.ImageRef, State: containerState(c.State),
			CreatedAt: fromNanos(c.CreatedAt), Labels: c.Labels, Annotations: c.Annotations,
		}
		if c.Image != nil {
			st.Image = c.Image.Image
		}
		if m := c.Metadata; m != nil {
			st.Name, st.Attempt = m.Name, m.Attempt
		}
		out = append(out, st)
	}
	return out, nil
}

// ExecSync implements kubelet.Containers. CRI counts the timeout in whole
// seconds: it is rounded up.
func (r *Runtime) ExecSync(ctx context.Context, id string, cmd []string, timeout time.Duration) (kubelet.ExecResult, error) {
	if len(cmd) == 0 {
		return kubelet.ExecResult{}, fmt.Errorf("%w: exec in %s: command is empty", kubelet.ErrInvalid, id)
	}
	secs := int64((timeout + time.Second - 1) / time.Second)
	resp, err := r.rt.ExecSync(ctx, &runtimeapi.ExecSyncRequest{ContainerId: id, Cmd: cmd, Timeout: secs})
	if err != nil {
		err = wrap("exec sync", id, err)
		// containerd reports an exec timeout as Unknown "timeout ... exceeded".
		if !errors.Is(err, kubelet.ErrTimeout) && strings.Contains(err.Error(), "timeout") && strings.Contains(err.Error(), "exceeded") {
			err = fmt.Errorf("%w: %w", kubelet.ErrTimeout, err)
		}
		return kubelet.ExecResult{}, err
	}
	return kubelet.ExecResult{Stdout: resp.Stdout, Stderr: resp.Stderr, ExitCode: resp.ExitCode}, nil
}

func containerState(s runtimeapi.ContainerState) kubelet.ContainerState {
	switch s {
	case runtimeapi.ContainerState_CONTAINER_CREATED:
		return kubelet.ContainerCreated
	case runtimeapi.ContainerState_CONTAINER_RUNNING:
		return kubelet.ContainerRunning
	case runtimeapi.ContainerState_CONTAINER_EXITED:
		return kubelet.ContainerExited
	}
	return kubelet.ContainerUnknown
}

func criContainerState(s kubelet.ContainerState) runtimeapi.ContainerState {
	switch s {
	case kubelet.ContainerCreated:
		return runtimeapi.ContainerState_CONTAINER_CREATED
	case kubelet.ContainerRunning:
		return runtimeapi.ContainerState_CONTAINER_RUNNING
	case kubelet.ContainerExited:
		return runtimeapi.ContainerState_CONTAINER_EXITED
	}
	return runtimeapi.ContainerState_CONTAINER_UNKNOWN
}

func fromNanos(ns int64) time.Time {
	if ns <= 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

// --- images

// PullImage implements kubelet.Images.
func (r *Runtime) PullImage(ctx context.Context, ref string) (string, error) {
	if ref == "" {
		return "", fmt.Errorf("%w: pull image: reference is empty", kubelet.ErrInvalid)
	}
	resp, err := r.img.PullImage(ctx, &runtimeapi.PullImageRequest{Image: &runtimeapi.ImageSpec{Image: ref}})
	if err != nil {
		return "", wrap("pull image", ref, err)
	}
	return resp.ImageRef, nil
}

// ImportImage implements kubelet.Images through the Options' Importer.
func (r *Runtime) ImportImage(ctx context.Context, archive io.Reader) ([]kubelet.Image, error) {
	if r.importer == nil {
		return nil, ErrNoImporter
	}
	names, err := r.importer.Import(ctx, archive)
	if err != nil {
		return nil, err
	}
	out := make([]kubelet.Image, 0, len(names))
	for _, n := range names {
		img, err := r.waitImage(ctx, n)
		if err != nil {
			return nil, fmt.Errorf("cri: import: image %s: %w", n, err)
		}
		out = append(out, img)
	}
	return out, nil
}

// waitImage returns the status of an imported image. The CRI plugin learns of
// images created behind its back from containerd's events, so the image may
// show up a moment after the import returns.
func (r *Runtime) waitImage(ctx context.Context, name string) (kubelet.Image, error) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		img, err := r.ImageStatus(ctx, name)
		if err == nil || !errors.Is(err, kubelet.ErrNotFound) || time.Now().After(deadline) {
			return img, err
		}
		select {
		case <-ctx.Done():
			return img, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// ImageStatus implements kubelet.Images.
func (r *Runtime) ImageStatus(ctx context.Context, ref string) (kubelet.Image, error) {
	resp, err := r.img.ImageStatus(ctx, &runtimeapi.ImageStatusRequest{Image: &runtimeapi.ImageSpec{Image: ref}})
	if err != nil {
		return kubelet.Image{}, wrap("image status", ref, err)
	}
	if resp.Image == nil {
		return kubelet.Image{}, fmt.Errorf("cri: image status %s: %w", ref, kubelet.ErrNotFound)
	}
	return image(resp.Image), nil
}

// ListImages implements kubelet.Images.
func (r *Runtime) ListImages(ctx context.Context) ([]kubelet.Image, error) {
	resp, err := r.img.ListImages(ctx, &runtimeapi.ListImagesRequest{})
	if err != nil {
		return nil, wrap("list images", "", err)
	}
	out := make([]kubelet.Image, 0, len(resp.Images))
	for _, i := range resp.Images {
		out = append(out, image(i))
	}
	return out, nil
}

// RemoveImage implements kubelet.Images.
func (r *Runtime) RemoveImage(ctx context.Context, ref string) error {
	_, err := r.img.RemoveImage(ctx, &runtimeapi.RemoveImageRequest{Image: &runtimeapi.ImageSpec{Image: ref}})
	if err = wrap("remove image", ref, err); errors.Is(err, kubelet.ErrNotFound) {
		return nil
	}
	return err
}

func image(i *runtimeapi.Image) kubelet.Image {
	out := kubelet.Image{ID: i.Id, Names: append(append([]string(nil), i.RepoTags...), i.RepoDigests...), Size: i.Size, Pinned: i.Pinned}
	// CRI reports the user part of the image's USER only: a numeric uid or a
	// name, never the group.
	switch {
	case i.Uid != nil:
		out.User = strconv.FormatInt(i.Uid.Value, 10)
	case i.Username != "":
		out.User = i.Username
	}
	return out
}

// ImageFsInfo implements kubelet.Images: CRI's ImageFsInfo (the snapshotter's
// directory and what its snapshots take) with the capacity and free space of
// that directory's filesystem, which CRI does not report. The runtime's
// directory must be visible to this process (same machine, as the kubelet).
func (r *Runtime) ImageFsInfo(ctx context.Context) (kubelet.FsUsage, error) {
	resp, err := r.img.ImageFsInfo(ctx, &runtimeapi.ImageFsInfoRequest{})
	if err != nil {
		return kubelet.FsUsage{}, wrap("image fs info", "", err)
	}
	var u kubelet.FsUsage
	for _, fs := range resp.ImageFilesystems {
		if fs.GetFsId().GetMountpoint() == "" {
			continue
		}
		if u.Mountpoint == "" {
			u.Mountpoint = fs.FsId.Mountpoint
		}
		// Several entries on one mountpoint add up; another mountpoint is
		// another filesystem, whose capacity this port cannot carry.
		if fs.FsId.Mountpoint == u.Mountpoint {
			u.UsedBytes += fs.GetUsedBytes().GetValue()
		}
	}
	if u.Mountpoint == "" {
		return u, fmt.Errorf("cri: image fs info: the runtime reports no image filesystem")
	}
	return kubelet.StatFs(u)
}
