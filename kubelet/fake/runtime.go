package fake

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gantry-sdk/gantry/kubelet"
)

// TermAction is what a simulated process does on SIGTERM.
type TermAction int

// SIGTERM behaviours.
const (
	// TermDies: the default action, death by the signal (exit code 143).
	TermDies TermAction = iota
	// TermExits: a handler exits with Behavior.TermExitCode.
	TermExits
	// TermIgnored: the process ignores it and is SIGKILLed after the grace period (137).
	TermIgnored
)

// LogEntry is a line a simulated container writes when it starts.
type LogEntry struct {
	// Stream is "stdout" or "stderr".
	Stream, Line string
}

// Behavior scripts a simulated container. The zero value starts at once and
// runs until stopped, dying on SIGTERM.
type Behavior struct {
	// StartDelay is how long StartContainer takes before the container runs.
	StartDelay time.Duration
	// Exit makes the container exit by itself ExitAfter its start with ExitCode.
	Exit      bool
	ExitAfter time.Duration
	ExitCode  int32
	// OOM turns the exit into an OOM kill: code 137, reason OOMKilled.
	OOM bool
	// OnSIGTERM and TermExitCode script graceful stops.
	OnSIGTERM    TermAction
	TermExitCode int32
	// Exec answers ExecSync (probes); nil answers exit code 0 with no output.
	Exec func(cmd []string) kubelet.ExecResult
	// Logs are written to the container's log file when it starts.
	Logs []LogEntry
}

// Options tune a Runtime; the zero value works.
type Options struct {
	// Clock defaults to RealClock.
	Clock Clock
	// PodCIDR is the range pod IPs come from; default 10.88.0.0/16.
	PodCIDR netip.Prefix
	// Images are present from the start (pulls of other names also succeed,
	// unless Pull says otherwise).
	Images []string
	// Pull, if set, decides whether a pull of ref succeeds.
	Pull func(ref string) error
	// ImageUsers sets the configured user (Image.User) of images by name, as
	// their image config would: "1000", "1000:1000", "nobody". Images not
	// listed run as root (""). SetImageUser changes it later.
	ImageUsers map[string]string
	// ImageSizes sets Image.Size of images by name; others are 1 MiB.
	ImageSizes map[string]uint64
	// ImageFsCapacity is the size of the simulated image filesystem; zero
	// means 100 GiB. Its used bytes are the images' sizes plus
	// ImageFsOtherBytes (whatever else is on it). SetImageFs changes both.
	ImageFsCapacity, ImageFsOtherBytes uint64
}

// Runtime is a simulated kubelet.Runtime: real state kept in memory, processes
// replaced by scripted Behaviors, time from an injected Clock. Cheap enough for
// thousands of pods (a timer per pending transition, no goroutine per container).
type Runtime struct {
	clock Clock
	cidr  netip.Prefix
	pull  func(string) error

	mu         sync.Mutex
	seq        uint64
	sandboxes  map[string]*sandbox
	containers map[string]*container
	// Names taken, for ErrAlreadyExists without a scan (thousands of pods).
	sandboxNames   map[sandboxName]string
	containerNames map[containerName]string
	images         map[string]*kubelet.Image // by ID
	imageNames     map[string]string         // name -> ID
	imageUsers     map[string]string         // name -> Image.User
	imageSizes     map[string]uint64         // name -> Image.Size
	fsCapacity     uint64                    // of the image filesystem
	fsOther        uint64                    // bytes on it that are not images
	byName         map[string]Behavior       // container name -> behavior
	byImage        map[string]Behavior       // image name -> behavior
	freeIPs        []netip.Addr
	nextIP         netip.Addr
	ports          sync.Map // uint16 -> func(net.Conn), see stream.go
}

var _ kubelet.Runtime = (*Runtime)(nil)

type sandboxName struct {
	name, namespace, uid string
	attempt              uint32
}

type containerName struct {
	sandboxID, name string
	attempt         uint32
}

type sandbox struct {
	cfg    kubelet.SandboxConfig // as created, DNS included
	status kubelet.SandboxStatus
	ip     netip.Addr
}

type container struct {
	cfg      kubelet.ContainerConfig // as created, security context included
	status   kubelet.ContainerStatus
	behavior Behavior
	timer    Timer
	exited   chan struct{}
	logPath  string
}

// New returns an empty simulated runtime.
func New(o Options) *Runtime {
	if o.Clock == nil {
		o.Clock = RealClock{}
	}
	if !o.PodCIDR.IsValid() {
		o.PodCIDR = netip.MustParsePrefix("10.88.0.0/16")
	}
	r := &Runtime{
		clock: o.Clock, cidr: o.PodCIDR.Masked(), pull: o.Pull,
		sandboxes: map[string]*sandbox{}, containers: map[string]*container{},
		sandboxNames: map[sandboxName]string{}, containerNames: map[containerName]string{},
		images: map[string]*kubelet.Image{}, imageNames: map[string]string{}, imageUsers: map[string]string{},
		byName: map[string]Behavior{}, byImage: map[string]Behavior{},
	}
	r.nextIP = r.cidr.Addr().Next().Next() // .1 is the gateway
	r.imageSizes = make(map[string]uint64, len(o.ImageSizes))
	for n, sz := range o.ImageSizes {
		r.imageSizes[n] = sz
	}
	r.fsCapacity, r.fsOther = o.ImageFsCapacity, o.ImageFsOtherBytes
	if r.fsCapacity == 0 {
		r.fsCapacity = 100 << 30
	}
	for n, u := range o.ImageUsers {
		r.imageUsers[n] = u
	}
	for _, n := range o.Images {
		r.addImage(n)
	}
	return r
}

// Script sets the behaviour of containers named name (any pod); it applies to
// containers created afterwards and wins over ScriptImage.
func (r *Runtime) Script(name string, b Behavior) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.byName[name] = b
}

// ScriptImage sets the behaviour of containers of image.
func (r *Runtime) ScriptImage(image string, b Behavior) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.byImage[image] = b
}

func (r *Runtime) newID() string {
	r.seq++
	return fmt.Sprintf("%016x", r.seq)
}

func (r *Runtime) allocIP() (netip.Addr, error) {
	if n := len(r.freeIPs); n > 0 {
		ip := r.freeIPs[n-1]
		r.freeIPs = r.freeIPs[:n-1]
		return ip, nil
	}
	ip := r.nextIP
	if !r.cidr.Contains(ip) || !r.cidr.Contains(ip.Next()) {
		return netip.Addr{}, fmt.Errorf("fake: pod CIDR %s exhausted", r.cidr)
	}
	r.nextIP = ip.Next()
	return ip, nil
}

// --- sandboxes

// RunPodSandbox implements kubelet.Sandboxes.
func (r *Runtime) RunPodSandbox(ctx context.Context, c kubelet.SandboxConfig) (kubelet.SandboxStatus, error) {
	if err := c.Validate(); err != nil {
		return kubelet.SandboxStatus{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	key := sandboxName{c.Name, c.Namespace, c.UID, c.Attempt}
	if _, ok := r.sandboxNames[key]; ok {
		return kubelet.SandboxStatus{}, fmt.Errorf("fake: run pod sandbox %s/%s attempt %d: %w", c.Namespace, c.Name, c.Attempt, kubelet.ErrAlreadyExists)
	}
	ip, err := r.allocIP()
	if err != nil {
		return kubelet.SandboxStatus{}, err
	}
	labels := maps(c.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	labels[kubelet.LabelPodName], labels[kubelet.LabelPodNamespace], labels[kubelet.LabelPodUID] = c.Name, c.Namespace, c.UID
	id := r.newID()
	sb := &sandbox{cfg: cloneSandboxConfig(c), ip: ip, status: kubelet.SandboxStatus{
		ID: id, Name: c.Name, Namespace: c.Namespace, UID: c.UID, Attempt: c.Attempt,
		State: kubelet.SandboxReady, IP: ip.String(), CreatedAt: r.clock.Now(),
		Labels: labels, Annotations: maps(c.Annotations),
	}}
	r.sandboxes[id] = sb
	r.sandboxNames[key] = id
	return copySandbox(sb.status), nil
}

// StopPodSandbox implements kubelet.Sandboxes: its containers are killed.
func (r *Runtime) StopPodSandbox(ctx context.Context, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	sb, ok := r.sandboxes[id]
	if !ok {
		return fmt.Errorf("fake: stop pod sandbox %s: %w", id, kubelet.ErrNotFound)
	}
	for _, c := range r.containers {
		if c.status.SandboxID == id && c.status.State == kubelet.ContainerRunning {
			r.exitLocked(c, 137, kubelet.ReasonError)
		}
	}
	if sb.status.State == kubelet.SandboxReady {
		sb.status.State = kubelet.SandboxNotReady
		sb.status.IP = ""
		r.freeIPs = append(r.freeIPs, sb.ip)
	}
	return nil
}

// RemovePodSandbox implements kubelet.Sandboxes.
func (r *Runtime) RemovePodSandbox(ctx context.Context, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	sb, ok := r.sandboxes[id]
	if !ok {
		return nil
	}
	if sb.status.State == kubelet.SandboxReady {
		return fmt.Errorf("%w: fake: remove pod sandbox %s: still ready, stop it first", kubelet.ErrInvalid, id)
	}
	for cid, c := range r.containers {
		if c.status.SandboxID == id {
			r.exitLocked(c, 137, kubelet.ReasonError)
			r.deleteContainerLocked(cid, c)
		}
	}
	delete(r.sandboxes, id)
	delete(r.sandboxNames, sandboxName{sb.cfg.Name, sb.cfg.Namespace, sb.cfg.UID, sb.cfg.Attempt})
	return nil
}

// PodSandboxStatus implements kubelet.Sandboxes.
func (r *Runtime) PodSandboxStatus(ctx context.Context, id string) (kubelet.SandboxStatus, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	sb, ok := r.sandboxes[id]
	if !ok {
		return kubelet.SandboxStatus{}, fmt.Errorf("fake: pod sandbox status %s: %w", id, kubelet.ErrNotFound)
	}
	return copySandbox(sb.status), nil
}

// ListPodSandboxes implements kubelet.Sandboxes.
func (r *Runtime) ListPodSandboxes(ctx context.Context, f kubelet.SandboxFilter) ([]kubelet.SandboxStatus, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []kubelet.SandboxStatus
	for id, sb := range r.sandboxes {
		if (f.ID != "" && f.ID != id) || (f.State != nil && *f.State != sb.status.State) || !kubelet.MatchLabels(f.Labels, sb.status.Labels) {
			continue
		}
		out = append(out, copySandbox(sb.status))
	}
	slices.SortFunc(out, func(a, b kubelet.SandboxStatus) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// --- containers

// CreateContainer implements kubelet.Containers.
func (r *Runtime) CreateContainer(ctx context.Context, sandboxID string, c kubelet.ContainerConfig) (string, error) {
	if err := c.Validate(); err != nil {
		return "", err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	sb, ok := r.sandboxes[sandboxID]
	if !ok {
		return "", fmt.Errorf("fake: create container %s: sandbox %s: %w", c.Name, sandboxID, kubelet.ErrNotFound)
	}
	if sb.status.State != kubelet.SandboxReady {
		return "", fmt.Errorf("%w: fake: create container %s: sandbox %s is not ready", kubelet.ErrInvalid, c.Name, sandboxID)
	}
	if c.Security.Privileged && !sb.cfg.Privileged {
		// As CRI runtimes do: privilege is decided for the whole pod.
		return "", fmt.Errorf("%w: fake: create container %s: privileged container in sandbox %s that is not privileged", kubelet.ErrInvalid, c.Name, sandboxID)
	}
	imageID, ok := r.resolveImage(c.Image)
	if !ok {
		return "", fmt.Errorf("fake: create container %s: image %s: %w", c.Name, c.Image, kubelet.ErrNotFound)
	}
	key := containerName{sandboxID, c.Name, c.Attempt}
	if _, ok := r.containerNames[key]; ok {
		return "", fmt.Errorf("fake: create container %s attempt %d: %w", c.Name, c.Attempt, kubelet.ErrAlreadyExists)
	}
	b, ok := r.byName[c.Name]
	if !ok {
		b = r.byImage[c.Image]
	}
	labels := maps(c.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	labels[kubelet.LabelContainerName] = c.Name
	for _, k := range []string{kubelet.LabelPodName, kubelet.LabelPodNamespace, kubelet.LabelPodUID} {
		labels[k] = sb.status.Labels[k]
	}
	ct := &container{cfg: cloneContainerConfig(c), behavior: b, exited: make(chan struct{})}
	if c.LogPath != "" && sb.cfg.LogDirectory != "" {
		ct.logPath = filepath.Join(sb.cfg.LogDirectory, c.LogPath)
	}
	id := r.newID()
	ct.status = kubelet.ContainerStatus{
		ID: id, SandboxID: sandboxID, Name: c.Name, Attempt: c.Attempt,
		Image: c.Image, ImageID: imageID, State: kubelet.ContainerCreated,
		CreatedAt: r.clock.Now(), LogPath: ct.logPath,
		Labels: labels, Annotations: maps(c.Annotations),
	}
	r.containers[id] = ct
	r.containerNames[key] = id
	return id, nil
}

// StartContainer implements kubelet.Containers; it takes the Behavior's
// StartDelay (on the Clock).
func (r *Runtime) StartContainer(ctx context.Context, id string) error {
	r.mu.Lock()
	ct, ok := r.containers[id]
	if !ok {
		r.mu.Unlock()
		return fmt.Errorf("fake: start container %s: %w", id, kubelet.ErrNotFound)
	}
	if ct.status.State != kubelet.ContainerCreated {
		r.mu.Unlock()
		return fmt.Errorf("%w: fake: start container %s: state is %s, not Created", kubelet.ErrInvalid, id, ct.status.State)
	}
	delay := ct.behavior.StartDelay
	r.mu.Unlock()
	if delay > 0 {
		done := make(chan struct{})
		t := r.clock.AfterFunc(delay, func() { close(done) })
		select {
		case <-done:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("fake: start container %s: %w", id, ctx.Err())
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if ct.status.State != kubelet.ContainerCreated || r.containers[id] != ct {
		return fmt.Errorf("%w: fake: start container %s: removed or started meanwhile", kubelet.ErrInvalid, id)
	}
	ct.status.State = kubelet.ContainerRunning
	ct.status.StartedAt = r.clock.Now()
	if err := r.writeLogs(ct); err != nil {
		return err
	}
	if b := ct.behavior; b.Exit || b.OOM {
		code, reason := b.ExitCode, kubelet.ReasonError
		switch {
		case b.OOM:
			code, reason = 137, kubelet.ReasonOOMKilled
		case code == 0:
			reason = kubelet.ReasonCompleted
		}
		ct.timer = r.clock.AfterFunc(b.ExitAfter, func() {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.exitLocked(ct, code, reason)
		})
	}
	return nil
}

func (r *Runtime) writeLogs(ct *container) error {
	if ct.logPath == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(ct.logPath), 0o755); err != nil {
		return fmt.Errorf("fake: container %s: log: %w", ct.status.ID, err)
	}
	var buf []byte
	now := r.clock.Now()
	for _, l := range ct.behavior.Logs {
		buf = kubelet.AppendLogLine(buf, now, l.Stream, []byte(l.Line))
	}
	if err := os.WriteFile(ct.logPath, buf, 0o644); err != nil {
		return fmt.Errorf("fake: container %s: log: %w", ct.status.ID, err)
	}
	return nil
}

// exitLocked records the exit of a running container (no-op otherwise).
func (r *Runtime) exitLocked(ct *container, code int32, reason string) {
	if ct.status.State == kubelet.ContainerExited {
		return
	}
	if ct.timer != nil {
		ct.timer.Stop()
		ct.timer = nil
	}
	if ct.status.State == kubelet.ContainerRunning {
		ct.status.FinishedAt = r.clock.Now()
		ct.status.ExitCode, ct.status.Reason = code, reason
	}
	ct.status.State = kubelet.ContainerExited
	close(ct.exited)
}

func (r *Runtime) deleteContainerLocked(id string, ct *container) {
	delete(r.containers, id)
	delete(r.containerNames, containerName{ct.status.SandboxID, ct.status.Name, ct.status.Attempt})
}

// StopContainer implements kubelet.Containers: SIGTERM as the Behavior says,
// SIGKILL after grace (on the Clock).
func (r *Runtime) StopContainer(ctx context.Context, id string, grace time.Duration) error {
	r.mu.Lock()
	ct, ok := r.containers[id]
	if !ok {
		r.mu.Unlock()
		return fmt.Errorf("fake: stop container %s: %w", id, kubelet.ErrNotFound)
	}
	if ct.status.State != kubelet.ContainerRunning {
		r.mu.Unlock()
		return nil
	}
	switch ct.behavior.OnSIGTERM {
	case TermDies:
		r.exitLocked(ct, 143, kubelet.ReasonError)
	case TermExits:
		reason := kubelet.ReasonError
		if ct.behavior.TermExitCode == 0 {
			reason = kubelet.ReasonCompleted
		}
		r.exitLocked(ct, ct.behavior.TermExitCode, reason)
	case TermIgnored:
		if grace <= 0 {
			r.exitLocked(ct, 137, kubelet.ReasonError)
			break
		}
		kill := r.clock.AfterFunc(grace, func() {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.exitLocked(ct, 137, kubelet.ReasonError)
		})
		exited := ct.exited
		r.mu.Unlock()
		select {
		case <-exited:
			return nil
		case <-ctx.Done():
			kill.Stop()
			return fmt.Errorf("fake: stop container %s: %w", id, ctx.Err())
		}
	}
	r.mu.Unlock()
	return nil
}

// RemoveContainer implements kubelet.Containers.
func (r *Runtime) RemoveContainer(ctx context.Context, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ct, ok := r.containers[id]; ok {
		r.exitLocked(ct, 137, kubelet.ReasonError)
		r.deleteContainerLocked(id, ct)
	}
	return nil
}

// ContainerStatus implements kubelet.Containers.
func (r *Runtime) ContainerStatus(ctx context.Context, id string) (kubelet.ContainerStatus, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ct, ok := r.containers[id]
	if !ok {
		return kubelet.ContainerStatus{}, fmt.Errorf("fake: container status %s: %w", id, kubelet.ErrNotFound)
	}
	return copyContainer(ct.status), nil
}

// ListContainers implements kubelet.Containers.
func (r *Runtime) ListContainers(ctx context.Context, f kubelet.ContainerFilter) ([]kubelet.ContainerStatus, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []kubelet.ContainerStatus
	for id, ct := range r.containers {
		s := &ct.status
		if (f.ID != "" && f.ID != id) || (f.SandboxID != "" && f.SandboxID != s.SandboxID) ||
			(f.State != nil && *f.State != s.State) || !kubelet.MatchLabels(f.Labels, s.Labels) {
			continue
		}
		out = append(out, copyContainer(*s))
	}
	slices.SortFunc(out, func(a, b kubelet.ContainerStatus) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// ExecSync implements kubelet.Containers with the Behavior's Exec.
func (r *Runtime) ExecSync(ctx context.Context, id string, cmd []string, timeout time.Duration) (kubelet.ExecResult, error) {
	if len(cmd) == 0 {
		return kubelet.ExecResult{}, fmt.Errorf("%w: exec in %s: command is empty", kubelet.ErrInvalid, id)
	}
	r.mu.Lock()
	ct, ok := r.containers[id]
	if !ok {
		r.mu.Unlock()
		return kubelet.ExecResult{}, fmt.Errorf("fake: exec sync %s: %w", id, kubelet.ErrNotFound)
	}
	state, exec := ct.status.State, ct.behavior.Exec
	r.mu.Unlock()
	if state != kubelet.ContainerRunning {
		return kubelet.ExecResult{}, fmt.Errorf("%w: fake: exec sync %s: container is %s", kubelet.ErrInvalid, id, state)
	}
	if exec == nil {
		return kubelet.ExecResult{}, nil
	}
	return exec(slices.Clone(cmd)), nil
}

// --- images

func imageID(name string) string {
	s := sha256.Sum256([]byte(name))
	return "sha256:" + hex.EncodeToString(s[:])
}

func (r *Runtime) addImage(name string) kubelet.Image {
	id := imageID(name)
	img, ok := r.images[id]
	if !ok {
		size, ok := r.imageSizes[name]
		if !ok {
			size = 1 << 20
		}
		img = &kubelet.Image{ID: id, Names: []string{name}, Size: size, User: r.imageUsers[name]}
		r.images[id] = img
	}
	r.imageNames[name] = id
	return cloneImage(*img)
}

func (r *Runtime) resolveImage(ref string) (string, bool) {
	if id, ok := r.imageNames[ref]; ok {
		return id, true
	}
	if _, ok := r.images[ref]; ok {
		return ref, true
	}
	return "", false
}

// PullImage implements kubelet.Images: the simulated registry has every image
// (unless Options.Pull refuses).
func (r *Runtime) PullImage(ctx context.Context, ref string) (string, error) {
	if ref == "" {
		return "", fmt.Errorf("%w: pull image: reference is empty", kubelet.ErrInvalid)
	}
	if r.pull != nil {
		if err := r.pull(ref); err != nil {
			return "", fmt.Errorf("fake: pull image %s: %w", ref, err)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.addImage(ref).ID, nil
}

// ImportImage implements kubelet.Images: it reads the names of an OCI layout or
// docker save archive and makes them present.
func (r *Runtime) ImportImage(ctx context.Context, archive io.Reader) ([]kubelet.Image, error) {
	names, err := kubelet.ImageArchiveNames(archive)
	if err != nil {
		return nil, fmt.Errorf("fake: import: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]kubelet.Image, 0, len(names))
	for _, n := range names {
		out = append(out, r.addImage(n))
	}
	return out, nil
}

// ImageStatus implements kubelet.Images.
func (r *Runtime) ImageStatus(ctx context.Context, ref string) (kubelet.Image, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	id, ok := r.resolveImage(ref)
	if !ok {
		return kubelet.Image{}, fmt.Errorf("fake: image status %s: %w", ref, kubelet.ErrNotFound)
	}
	return cloneImage(*r.images[id]), nil
}

// ListImages implements kubelet.Images.
func (r *Runtime) ListImages(ctx context.Context) ([]kubelet.Image, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]kubelet.Image, 0, len(r.images))
	for _, img := range r.images {
		out = append(out, cloneImage(*img))
	}
	slices.SortFunc(out, func(a, b kubelet.Image) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// RemoveImage implements kubelet.Images.
func (r *Runtime) RemoveImage(ctx context.Context, ref string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	id, ok := r.resolveImage(ref)
	if !ok {
		return nil
	}
	for _, n := range r.images[id].Names {
		delete(r.imageNames, n)
	}
	delete(r.images, id)
	return nil
}

// SetImageUser sets the configured user of the image named name (see
// Options.ImageUsers), present or pulled later.
func (r *Runtime) SetImageUser(name, user string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.imageUsers[name] = user
	if id, ok := r.imageNames[name]; ok {
		r.images[id].User = user
	}
}

// SandboxConfig returns the config the sandbox id was created with (its DNS,
// hostname, privilege): what a real runtime would have applied.
func (r *Runtime) SandboxConfig(id string) (kubelet.SandboxConfig, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	sb, ok := r.sandboxes[id]
	if !ok {
		return kubelet.SandboxConfig{}, fmt.Errorf("fake: sandbox config %s: %w", id, kubelet.ErrNotFound)
	}
	return cloneSandboxConfig(sb.cfg), nil
}

// ContainerConfig returns the config the container id was created with (its
// security context, mounts, environment): what a real runtime would have
// applied.
func (r *Runtime) ContainerConfig(id string) (kubelet.ContainerConfig, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ct, ok := r.containers[id]
	if !ok {
		return kubelet.ContainerConfig{}, fmt.Errorf("fake: container config %s: %w", id, kubelet.ErrNotFound)
	}
	return cloneContainerConfig(ct.cfg), nil
}

// --- copies: callers never share the runtime's maps.

func cloneSandboxConfig(c kubelet.SandboxConfig) kubelet.SandboxConfig {
	c.Labels, c.Annotations = maps(c.Labels), maps(c.Annotations)
	c.DNS = kubelet.DNSConfig{Servers: slices.Clone(c.DNS.Servers), Searches: slices.Clone(c.DNS.Searches), Options: slices.Clone(c.DNS.Options)}
	return c
}

func cloneContainerConfig(c kubelet.ContainerConfig) kubelet.ContainerConfig {
	c.Labels, c.Annotations = maps(c.Labels), maps(c.Annotations)
	c.Command, c.Args = slices.Clone(c.Command), slices.Clone(c.Args)
	c.Env, c.Mounts = slices.Clone(c.Env), slices.Clone(c.Mounts)
	sec := &c.Security
	if sec.RunAsUser != nil {
		v := *sec.RunAsUser
		sec.RunAsUser = &v
	}
	if sec.RunAsGroup != nil {
		v := *sec.RunAsGroup
		sec.RunAsGroup = &v
	}
	sec.SupplementalGroups = slices.Clone(sec.SupplementalGroups)
	sec.CapAdd, sec.CapDrop = slices.Clone(sec.CapAdd), slices.Clone(sec.CapDrop)
	return c
}

func maps(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func copySandbox(s kubelet.SandboxStatus) kubelet.SandboxStatus {
	s.Labels, s.Annotations = maps(s.Labels), maps(s.Annotations)
	return s
}

func copyContainer(s kubelet.ContainerStatus) kubelet.ContainerStatus {
	s.Labels, s.Annotations = maps(s.Labels), maps(s.Annotations)
	return s
}

func cloneImage(i kubelet.Image) kubelet.Image {
	i.Names = slices.Clone(i.Names)
	return i
}
