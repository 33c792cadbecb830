package scheduler

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/core"
)

// Sentinel errors.
var (
	// ErrUnschedulable: no node fits the pod (the error is a *FitError).
	ErrUnschedulable = errors.New("scheduler: pod is unschedulable")
	// ErrUnknownPlugin: a profile names a plugin the registry does not have.
	ErrUnknownPlugin = errors.New("scheduler: unknown plugin")
	// ErrUnknownProfile: a pod's spec.schedulerName names no profile.
	ErrUnknownProfile = errors.New("scheduler: unknown profile")
	// ErrInvalidProfile: a profile is malformed (duplicate name, bad weight).
	ErrInvalidProfile = errors.New("scheduler: invalid profile")
)

// Code is the outcome of a plugin call.
type Code int

// The codes. Success is also what a nil *Status means.
const (
	Success Code = iota
	// Unschedulable: the node does not fit now, but preempting pods on it may help.
	Unschedulable
	// UnschedulableAndUnresolvable: the node does not fit and preemption cannot change that.
	UnschedulableAndUnresolvable
	// Error: the plugin failed; the pod is retried with backoff.
	Error
	// Skip: from PreFilter or PreScore, the plugin has nothing to do for this
	// pod and its Filter or Score is not called; from Bind, the next binder runs.
	Skip
	// Wait: from Permit, hold the pod (reserved on its node) until it is
	// allowed or rejected through its WaitingPod, or the timeout passes.
	Wait
)

var codeNames = [...]string{"Success", "Unschedulable", "UnschedulableAndUnresolvable", "Error", "Skip", "Wait"}

func (c Code) String() string {
	if int(c) < len(codeNames) {
		return codeNames[c]
	}
	return fmt.Sprintf("Code(%d)", int(c))
}

// Status is a plugin's verdict: a code, human reasons (as they appear in
// FailedScheduling events), and for Error the cause. A nil *Status is Success.
type Status struct {
	code    Code
	reasons []string
	err     error
	plugin  string
}

// NewStatus returns a status with code and reasons.
func NewStatus(code Code, reasons ...string) *Status {
	return &Status{code: code, reasons: reasons}
}

// AsStatus wraps err in an Error status (nil for a nil err).
func AsStatus(err error) *Status {
	if err == nil {
		return nil
	}
	return &Status{code: Error, reasons: []string{err.Error()}, err: err}
}

// Code returns the status code (Success for nil).
func (s *Status) Code() Code {
	if s == nil {
		return Success
	}
	return s.code
}

// IsSuccess reports whether s is nil or Success.
func (s *Status) IsSuccess() bool { return s.Code() == Success }

// IsSkip reports whether s is Skip.
func (s *Status) IsSkip() bool { return s.Code() == Skip }

// IsRejected reports whether s is Unschedulable or UnschedulableAndUnresolvable.
func (s *Status) IsRejected() bool {
	c := s.Code()
	return c == Unschedulable || c == UnschedulableAndUnresolvable
}

// Reasons returns the reasons.
func (s *Status) Reasons() []string {
	if s == nil {
		return nil
	}
	return s.reasons
}

// Plugin returns the name of the plugin that returned s ("" if unknown).
func (s *Status) Plugin() string {
	if s == nil {
		return ""
	}
	return s.plugin
}

// Err returns the status as an error (nil on success).
func (s *Status) Err() error {
	if s.IsSuccess() {
		return nil
	}
	if s.err != nil {
		return s.err
	}
	return fmt.Errorf("scheduler: %s: %s", s.code, strings.Join(s.reasons, ", "))
}

func (s *Status) withPlugin(name string) *Status {
	if s == nil || s.plugin != "" {
		return s
	}
	c := *s
	c.plugin = name
	return &c
}

// StateKey names an entry of a CycleState.
type StateKey string

// StateData is what plugins keep in a CycleState. Clone is called when
// preemption simulates removing pods, so data a PreFilterExtensions changes
// must be deep enough copies.
type StateData interface {
	Clone() StateData
}

// CycleState carries data between a plugin's extension points for one pod's
// scheduling cycle. It is written by PreFilter and PreScore (which run one at
// a time) and only read by Filter and Score (which run in parallel), so
// reads need no locking beyond what the map gives.
type CycleState struct {
	mu   sync.RWMutex
	data map[StateKey]StateData
	// skipFilter marks, by position in the profile's filters, those whose
	// PreFilter returned Skip.
	skipFilter []bool
}

// NewCycleState returns an empty state.
func NewCycleState() *CycleState { return &CycleState{data: map[StateKey]StateData{}} }

// Read returns the data under key, or nil.
func (c *CycleState) Read(key StateKey) StateData {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.data[key]
}

// Write stores data under key.
func (c *CycleState) Write(key StateKey, d StateData) {
	c.mu.Lock()
	c.data[key] = d
	c.mu.Unlock()
}

// Clone returns a copy whose entries are cloned.
func (c *CycleState) Clone() *CycleState {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := &CycleState{data: make(map[StateKey]StateData, len(c.data)), skipFilter: c.skipFilter}
	for k, v := range c.data {
		if v != nil {
			out.data[k] = v.Clone()
		}
	}
	return out
}

// Plugin is anything with a name; what else it does is found by interface
// assertion on the extension-point interfaces below.
type Plugin interface {
	Name() string
}

// PreFilterPlugin computes, once per pod, what its Filter needs (it sees the
// whole snapshot). Skip means Filter is not called for this pod.
type PreFilterPlugin interface {
	Plugin
	PreFilter(ctx context.Context, state *CycleState, pod *PodInfo, snap *Snapshot) *Status
}

// PreFilterExtensions lets preemption update a PreFilter's state when it
// simulates removing (or adding back) a pod on a node.
type PreFilterExtensions interface {
	AddPod(state *CycleState, pod *PodInfo, add *PodInfo, node *NodeInfo)
	RemovePod(state *CycleState, pod *PodInfo, remove *PodInfo, node *NodeInfo)
}

// FilterPlugin decides whether pod fits node. It is called in parallel for
// many nodes: it must not write to state or node.
type FilterPlugin interface {
	Plugin
	Filter(ctx context.Context, state *CycleState, pod *PodInfo, node *NodeInfo) *Status
}

// PostFilterResult is what a PostFilter proposes: a node to nominate and the
// pods to evict from it. The caller does the I/O.
type PostFilterResult struct {
	NominatedNode string
	Victims       []*core.Pod
}

// PostFilterPlugin runs when no node fits (preemption). statuses holds the
// filter verdict of every node that failed.
type PostFilterPlugin interface {
	Plugin
	PostFilter(ctx context.Context, state *CycleState, pod *PodInfo, snap *Snapshot, statuses NodeStatuses) (*PostFilterResult, *Status)
}

// PreScorePlugin computes, once per pod, what its Score needs from the
// feasible nodes. Skip means Score is not called for this pod.
type PreScorePlugin interface {
	Plugin
	PreScore(ctx context.Context, state *CycleState, pod *PodInfo, nodes []*NodeInfo) *Status
}

// ScorePlugin rates a feasible node; called in parallel, read-only.
type ScorePlugin interface {
	Plugin
	Score(ctx context.Context, state *CycleState, pod *PodInfo, node *NodeInfo) (int64, *Status)
}

// ScoreNormalizer maps a ScorePlugin's raw scores onto [0, MaxNodeScore].
// Score plugins whose raw scores are already in range need not implement it.
type ScoreNormalizer interface {
	NormalizeScore(ctx context.Context, state *CycleState, pod *PodInfo, scores []NodeScore) *Status
}

// ReservePlugin is told when a node is chosen (Reserve) and when that
// choice is undone after a later failure (Unreserve).
type ReservePlugin interface {
	Plugin
	Reserve(ctx context.Context, state *CycleState, pod *PodInfo, nodeName string) *Status
	Unreserve(ctx context.Context, state *CycleState, pod *PodInfo, nodeName string)
}

// PermitPlugin approves or rejects binding the pod to the chosen node, or
// holds it: a Wait status with a timeout (capped at MaxPermitTimeout) keeps
// the pod reserved on the node until the plugin, or anyone with the Handle,
// calls Allow or Reject on its WaitingPod; the timeout rejects it. The
// timeout is ignored for other codes.
type PermitPlugin interface {
	Plugin
	Permit(ctx context.Context, state *CycleState, pod *PodInfo, nodeName string) (*Status, time.Duration)
}

// BindPlugin binds the pod to the node (the I/O step). Skip passes to the
// next binder.
type BindPlugin interface {
	Plugin
	Bind(ctx context.Context, state *CycleState, pod *core.Pod, nodeName string) *Status
}

// MaxNodeScore is the highest score a (normalised) Score returns.
const MaxNodeScore int64 = 100

// NodeScore is one node's score.
type NodeScore struct {
	Name  string
	Score int64
}

// NodeStatuses maps node names to the status that rejected the pod there.
type NodeStatuses map[string]*Status

// Handle is what plugin factories get: the snapshot-independent services
// of the profile they belong to.
type Handle interface {
	// RunFilterPlugins runs every filter of the profile for pod on node.
	RunFilterPlugins(ctx context.Context, state *CycleState, pod *PodInfo, node *NodeInfo) *Status
	// RunPreFilterExtensionRemovePod and AddPod tell every PreFilter with
	// extensions that a pod is gone from, or back on, a node.
	RunPreFilterExtensionRemovePod(state *CycleState, pod, remove *PodInfo, node *NodeInfo)
	RunPreFilterExtensionAddPod(state *CycleState, pod, add *PodInfo, node *NodeInfo)
	// GetWaitingPod returns the pod held at Permit under key, or nil.
	GetWaitingPod(key apis.Key) *WaitingPod
	// IterateOverWaitingPods calls fn for every undecided pod held at Permit.
	IterateOverWaitingPods(fn func(*WaitingPod))
	// RejectWaitingPod rejects the pod held under key; false if there is none.
	RejectWaitingPod(key apis.Key, msg string) bool
}

// PluginFactory builds a plugin. args are the profile's PluginConfig.Args
// for it (nil when none).
type PluginFactory func(args any, h Handle) (Plugin, error)

// Registry maps plugin names to factories.
type Registry map[string]PluginFactory

// Merge adds other's entries, failing on a duplicate name.
func (r Registry) Merge(other Registry) error {
	for name, f := range other {
		if _, ok := r[name]; ok {
			return fmt.Errorf("%w: plugin %q registered twice", ErrInvalidProfile, name)
		}
		r[name] = f
	}
	return nil
}

func errNoState(key StateKey) error {
	return fmt.Errorf("scheduler: no cycle state %q (PreFilter or PreScore did not run)", key)
}
