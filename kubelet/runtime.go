package kubelet

import (
	"context"
	"errors"
	"io"
	"net"
	"time"
)

// Sentinel errors of every Runtime. Implementations wrap them with context
// (errors.Is works on what they return).
var (
	// ErrNotFound: the sandbox, container or image does not exist.
	ErrNotFound = errors.New("kubelet: not found")
	// ErrAlreadyExists: a sandbox or container of that name and attempt exists.
	ErrAlreadyExists = errors.New("kubelet: already exists")
	// ErrInvalid: the request is malformed (names the field in the wrapped message).
	ErrInvalid = errors.New("kubelet: invalid request")
	// ErrUnavailable: the runtime cannot be reached.
	ErrUnavailable = errors.New("kubelet: runtime unavailable")
	// ErrTimeout: an exec or a stop did not finish within its timeout.
	ErrTimeout = errors.New("kubelet: timeout")
)

// Runtime is the node agent's port to a container runtime, pod level and
// shaped like the Container Runtime Interface: a pod is a sandbox (network
// namespace and IP) holding containers. It keeps no restart bookkeeping: restart
// counts, back-off and probes belong to the agent. Implementations are safe for
// concurrent use.
type Runtime interface {
	Sandboxes
	Containers
	Images
	Streaming
}

// Streaming serves interactive sessions: what "kubectl exec" and "kubectl
// port-forward" reach through the agent.
type Streaming interface {
	// Exec runs cmd in the running container id wired to streams and returns
	// its exit code once it has exited and its output is written. A non-zero
	// exit code is a result, not an error. Ending ctx ends the session: a
	// native runtime kills the process, a CRI streaming server may not.
	Exec(ctx context.Context, id string, cmd []string, streams ExecStreams) (int32, error)
	// DialPod connects to TCP port inside the network namespace of sandbox
	// id, so ports bound to the pod's 127.0.0.1 are reachable too.
	DialPod(ctx context.Context, id string, port uint16) (net.Conn, error)
}

// ExecStreams are the streams of an Exec; nil ones are not attached.
type ExecStreams struct {
	// Stdin is read until EOF, which the process then sees. A Read still
	// blocked when Exec returns is left to the stdin's owner to end (by
	// closing it).
	Stdin io.Reader
	// Stdout and Stderr receive the output; with TTY everything goes to Stdout.
	Stdout, Stderr io.Writer
	// TTY runs the process on a terminal, sized by what Resize delivers.
	TTY    bool
	Resize <-chan TerminalSize
}

// TerminalSize is a terminal's size in character cells.
type TerminalSize struct{ Width, Height uint16 }

// Sandboxes runs pod sandboxes.
type Sandboxes interface {
	// RunPodSandbox creates and starts the sandbox of a pod: its network namespace
	// with an IP. It returns the sandbox's status, IP included.
	RunPodSandbox(ctx context.Context, cfg SandboxConfig) (SandboxStatus, error)
	// StopPodSandbox stops every container of the sandbox (killing them at once)
	// and tears down its network. Stopping a stopped sandbox is not an error.
	StopPodSandbox(ctx context.Context, id string) error
	// RemovePodSandbox removes a stopped sandbox and its containers; removing a
	// missing sandbox is not an error.
	RemovePodSandbox(ctx context.Context, id string) error
	PodSandboxStatus(ctx context.Context, id string) (SandboxStatus, error)
	// ListPodSandboxes lists the sandboxes, filtered by f (its zero value lists all).
	ListPodSandboxes(ctx context.Context, f SandboxFilter) ([]SandboxStatus, error)
}

// Containers runs the containers of sandboxes.
type Containers interface {
	// CreateContainer creates a container in a running sandbox; cfg.Image must be
	// present (see Images). It returns the container's ID.
	CreateContainer(ctx context.Context, sandboxID string, cfg ContainerConfig) (string, error)
	StartContainer(ctx context.Context, id string) error
	// StopContainer sends SIGTERM (or the image's stop signal), waits up to grace,
	// then SIGKILL. It returns once the container has exited. Stopping an exited
	// container is not an error.
	StopContainer(ctx context.Context, id string, grace time.Duration) error
	// RemoveContainer removes a container, killing it first if it still runs;
	// removing a missing container is not an error.
	RemoveContainer(ctx context.Context, id string) error
	ContainerStatus(ctx context.Context, id string) (ContainerStatus, error)
	// ListContainers lists the containers, filtered by f (its zero value lists
	// all): what an agent that restarted adopts.
	ListContainers(ctx context.Context, f ContainerFilter) ([]ContainerStatus, error)
	// ExecSync runs cmd in a running container and waits up to timeout (zero: no
	// limit but ctx). A non-zero exit code is a result, not an error.
	ExecSync(ctx context.Context, id string, cmd []string, timeout time.Duration) (ExecResult, error)
}

// Images manages the images of the runtime.
type Images interface {
	// PullImage fetches ref from its registry and returns the image's ID.
	PullImage(ctx context.Context, ref string) (string, error)
	// ImportImage loads images from an OCI image-layout (or docker-save) tar
	// stream and returns them.
	ImportImage(ctx context.Context, archive io.Reader) ([]Image, error)
	// ImageStatus returns the image named ref (a name or an ID), ErrNotFound if
	// it is not present.
	ImageStatus(ctx context.Context, ref string) (Image, error)
	ListImages(ctx context.Context) ([]Image, error)
	// RemoveImage removes the image; removing a missing image is not an error.
	RemoveImage(ctx context.Context, ref string) error
	// ImageFsInfo reports the filesystem holding the images (CRI's
	// ImageFsInfo, with the filesystem's capacity): what image garbage
	// collection measures.
	ImageFsInfo(ctx context.Context) (FsUsage, error)
}

// FsUsage is the usage of the filesystem holding a runtime's images.
type FsUsage struct {
	// Mountpoint is the directory the runtime keeps its image layers under.
	Mountpoint string
	// UsedBytes is what the runtime's image layers and container snapshots
	// take on the filesystem.
	UsedBytes uint64
	// CapacityBytes and AvailableBytes are the filesystem's size and what is
	// free to unprivileged writers (statfs f_blocks and f_bavail): the
	// kubelet's image GC thresholds are 100 - available*100/capacity.
	CapacityBytes, AvailableBytes uint64
}

// SandboxConfig describes the sandbox of a pod.
type SandboxConfig struct {
	// Name, Namespace and UID identify the pod; Attempt counts sandboxes created
	// for it. All but Attempt are required.
	Name, Namespace, UID string
	Attempt              uint32
	Hostname             string
	// LogDirectory is the absolute directory under which the containers' LogPath
	// are resolved; empty means containers log nowhere.
	LogDirectory string
	Labels       map[string]string
	Annotations  map[string]string
	// CgroupParent is the pod-level cgroup; empty lets the runtime choose.
	CgroupParent string
	// DNS becomes the pod's /etc/resolv.conf; its zero value copies the host's
	// (Kubernetes' dnsPolicy Default).
	DNS DNSConfig
	// Privileged allows privileged containers in the sandbox: the agent sets it
	// when any container of the pod is privileged, as the kubelet does (CRI
	// runtimes refuse a privileged container in a sandbox without it).
	Privileged bool
}

// DNSConfig is the resolver configuration of a pod (pod.spec.dnsConfig merged
// with its dnsPolicy by the agent).
type DNSConfig struct {
	// Servers are name server IPs, Searches search domains, Options resolver
	// options such as "ndots:5".
	Servers, Searches, Options []string
}

// IsZero reports whether c sets nothing.
func (c DNSConfig) IsZero() bool {
	return len(c.Servers) == 0 && len(c.Searches) == 0 && len(c.Options) == 0
}

// ContainerConfig describes one container of a pod.
type ContainerConfig struct {
	// Name (required) and Attempt identify the container within its pod.
	Name    string
	Attempt uint32
	// Image is a name or ID present in the runtime (required).
	Image      string
	Command    []string
	Args       []string
	WorkingDir string
	Env        []KeyValue
	Mounts     []Mount
	// LogPath, relative to the sandbox's LogDirectory; a new path per attempt
	// keeps the logs of each attempt apart.
	LogPath     string
	Labels      map[string]string
	Annotations map[string]string
	Resources   Resources
	// Stdin keeps stdin open; TTY allocates a terminal.
	Stdin, TTY bool
	// Security is the container's security context; its zero value runs as
	// the image's user with the runtime's default capabilities.
	Security SecurityContext
}

// SecurityContext is what the runtime enforces of a container's
// securityContext (pod-level fields merged in by the agent; runAsNonRoot is
// checked by the agent against Image.User).
type SecurityContext struct {
	// RunAsUser and RunAsGroup override the image's user and group; nil keeps
	// the image's.
	RunAsUser, RunAsGroup *int64
	// SupplementalGroups are added to the process's groups.
	SupplementalGroups []int64
	// Privileged grants every capability and the host's devices.
	Privileged bool
	// CapAdd and CapDrop name capabilities as Kubernetes does, without the
	// CAP_ prefix ("NET_ADMIN"); "ALL" in CapDrop drops every default one.
	CapAdd, CapDrop []string
	// ReadOnlyRootFilesystem mounts the container's root read-only.
	ReadOnlyRootFilesystem bool
	// NoNewPrivileges is allowPrivilegeEscalation: false.
	NoNewPrivileges bool
}

// KeyValue is an environment variable.
type KeyValue struct{ Key, Value string }

// Mount binds a host path into the container.
type Mount struct {
	ContainerPath, HostPath string
	ReadOnly                bool
}

// Resources are the cgroup limits of a container; zero fields are unset.
type Resources struct {
	// CPUShares is the relative CPU weight (1024 per CPU requested).
	CPUShares int64
	// CPUQuota over CPUPeriod (microseconds) caps CPU time: 50000/100000 is half a CPU.
	CPUQuota, CPUPeriod int64
	// MemoryLimit in bytes; exceeding it gets the container OOM-killed.
	MemoryLimit int64
	// OOMScoreAdj biases the OOM killer. Never negative: machines without
	// CAP_SYS_RESOURCE cannot set it, and runtimes reject negative values.
	OOMScoreAdj int64
}

// SandboxState is the state of a sandbox.
type SandboxState int

// Sandbox states.
const (
	SandboxNotReady SandboxState = iota
	SandboxReady
)

func (s SandboxState) String() string {
	if s == SandboxReady {
		return "Ready"
	}
	return "NotReady"
}

// SandboxStatus is what the runtime reports about a sandbox.
type SandboxStatus struct {
	ID                   string
	Name, Namespace, UID string
	Attempt              uint32
	State                SandboxState
	// IP is the pod's IP on the node's pod network; empty when the sandbox is not ready.
	IP          string
	CreatedAt   time.Time
	Labels      map[string]string
	Annotations map[string]string
}

// ContainerState is the state of a container.
type ContainerState int

// Container states, in the order a container passes through them.
const (
	ContainerUnknown ContainerState = iota
	ContainerCreated
	ContainerRunning
	ContainerExited
)

func (s ContainerState) String() string {
	switch s {
	case ContainerCreated:
		return "Created"
	case ContainerRunning:
		return "Running"
	case ContainerExited:
		return "Exited"
	}
	return "Unknown"
}

// Reasons a runtime reports for an exited container.
const (
	ReasonCompleted = "Completed"
	ReasonError     = "Error"
	ReasonOOMKilled = "OOMKilled"
)

// ContainerStatus is what the runtime reports about a container.
type ContainerStatus struct {
	ID        string
	SandboxID string
	// Name and Attempt as in the ContainerConfig.
	Name    string
	Attempt uint32
	Image   string
	// ImageID is the resolved image the container runs.
	ImageID string
	State   ContainerState
	// CreatedAt, StartedAt and FinishedAt are zero until they happen.
	CreatedAt, StartedAt, FinishedAt time.Time
	ExitCode                         int32
	// Reason explains the exit: ReasonCompleted, ReasonError or ReasonOOMKilled.
	Reason  string
	Message string
	// LogPath is the absolute path of the container's CRI-format log file.
	LogPath     string
	Labels      map[string]string
	Annotations map[string]string
}

// SandboxFilter selects sandboxes; zero fields match everything.
type SandboxFilter struct {
	ID    string
	State *SandboxState
	// Labels must all match.
	Labels map[string]string
}

// ContainerFilter selects containers; zero fields match everything.
type ContainerFilter struct {
	ID        string
	SandboxID string
	State     *ContainerState
	// Labels must all match.
	Labels map[string]string
}

// Image is an image present in the runtime.
type Image struct {
	ID string
	// Names are the references (repo:tag) that name the image.
	Names []string
	Size  uint64
	// User is the image's configured user ("1000", "1000:1000", "nobody"),
	// empty for root; the agent checks runAsNonRoot against it.
	User string
	// Pinned: the runtime asks that the image never be garbage-collected
	// (CRI's pinned; containerd pins its sandbox image).
	Pinned bool
}

// ExecResult is the outcome of ExecSync.
type ExecResult struct {
	Stdout, Stderr []byte
	ExitCode       int32
}

// Labels the CRI convention puts on sandboxes and containers so that an agent can
// find its pods again after a restart.
const (
	LabelPodName       = "io.kubernetes.pod.name"
	LabelPodNamespace  = "io.kubernetes.pod.namespace"
	LabelPodUID        = "io.kubernetes.pod.uid"
	LabelContainerName = "io.kubernetes.container.name"
)

// MatchLabels reports whether every key of want has the same value in have.
func MatchLabels(want, have map[string]string) bool {
	for k, v := range want {
		if hv, ok := have[k]; !ok || hv != v {
			return false
		}
	}
	return true
}
