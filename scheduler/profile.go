package scheduler

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/reconcile"
)

// DefaultSchedulerName is the profile pods without spec.schedulerName get.
const DefaultSchedulerName = "default-scheduler"

// PluginConfig enables a plugin in a profile.
type PluginConfig struct {
	Name string
	// Weight scales the plugin's normalised score (0 means 1). Plugins that
	// do not score ignore it.
	Weight int64
	// Args are passed to the plugin's factory.
	Args any
}

// ProfileConfig is a named set of plugins. Pods pick a profile by
// spec.schedulerName.
type ProfileConfig struct {
	SchedulerName string
	Plugins       []PluginConfig
	// PercentageOfNodesToScore: see Profile.numFeasibleNodesToFind. 0 is adaptive.
	PercentageOfNodesToScore int32
}

// ProfileOptions tune a Profile. The zero value works.
type ProfileOptions struct {
	// Parallelism bounds the goroutines filtering and scoring nodes; 0 is GOMAXPROCS.
	Parallelism int
	// Clock times Permit waits; nil is the wall clock.
	Clock reconcile.Clock
}

// Profile runs one ProfileConfig's plugins over snapshots. A Profile's
// Schedule is not safe for concurrent use (it keeps the round-robin start
// index); everything else is.
type Profile struct {
	name        string
	percentage  int32
	parallelism int

	plugins    []Plugin
	preFilters []PreFilterPlugin
	// preFilterToFilter maps a PreFilter's position to its Filter's (-1: none).
	preFilterToFilter []int
	filters           []FilterPlugin
	postFilters       []PostFilterPlugin
	preScores         []PreScorePlugin
	scores            []ScorePlugin
	weights           []int64
	reserves          []ReservePlugin
	permits           []PermitPlugin
	binders           []BindPlugin

	clock   reconcile.Clock
	waiting waitingPods

	nextStart int
	// Buffers reused across cycles (Schedule is not concurrent).
	bufResults  []*Status
	bufFeasible []*NodeInfo
	bufRaw      [][]NodeScore
	bufTotal    []int64
}

// NewProfile builds the plugins of cfg from registry.
func NewProfile(cfg ProfileConfig, registry Registry, opts ProfileOptions) (*Profile, error) {
	p := &Profile{name: cfg.SchedulerName, percentage: cfg.PercentageOfNodesToScore, parallelism: opts.Parallelism}
	if p.name == "" {
		p.name = DefaultSchedulerName
	}
	if p.percentage < 0 || p.percentage > 100 {
		return nil, fmt.Errorf("%w: %s: percentageOfNodesToScore %d not in [0, 100]", ErrInvalidProfile, p.name, p.percentage)
	}
	if p.parallelism <= 0 {
		p.parallelism = runtime.GOMAXPROCS(0)
	}
	p.clock = opts.Clock
	if p.clock == nil {
		p.clock = reconcile.RealClock()
	}
	seen := map[string]bool{}
	for _, pc := range cfg.Plugins {
		if seen[pc.Name] {
			return nil, fmt.Errorf("%w: %s: plugin %q enabled twice", ErrInvalidProfile, p.name, pc.Name)
		}
		seen[pc.Name] = true
		f, ok := registry[pc.Name]
		if !ok {
			return nil, fmt.Errorf("%w: %s: %q", ErrUnknownPlugin, p.name, pc.Name)
		}
		if pc.Weight < 0 {
			return nil, fmt.Errorf("%w: %s: plugin %q: negative weight %d", ErrInvalidProfile, p.name, pc.Name, pc.Weight)
		}
		pl, err := f(pc.Args, p)
		if err != nil {
			return nil, fmt.Errorf("scheduler: %s: plugin %q: %w", p.name, pc.Name, err)
		}
		p.plugins = append(p.plugins, pl)
		if x, ok := pl.(PreFilterPlugin); ok {
			p.preFilters = append(p.preFilters, x)
		}
		if x, ok := pl.(FilterPlugin); ok {
			p.filters = append(p.filters, x)
		}
		if x, ok := pl.(PostFilterPlugin); ok {
			p.postFilters = append(p.postFilters, x)
		}
		if x, ok := pl.(PreScorePlugin); ok {
			p.preScores = append(p.preScores, x)
		}
		if x, ok := pl.(ScorePlugin); ok {
			p.scores = append(p.scores, x)
			p.weights = append(p.weights, max(pc.Weight, 1))
		}
		if x, ok := pl.(ReservePlugin); ok {
			p.reserves = append(p.reserves, x)
		}
		if x, ok := pl.(PermitPlugin); ok {
			p.permits = append(p.permits, x)
		}
		if x, ok := pl.(BindPlugin); ok {
			p.binders = append(p.binders, x)
		}
	}
	for _, pf := range p.preFilters {
		p.preFilterToFilter = append(p.preFilterToFilter, slices.IndexFunc(p.filters, func(f FilterPlugin) bool { return f.Name() == pf.Name() }))
	}
	return p, nil
}

// Name returns the profile's scheduler name.
func (p *Profile) Name() string { return p.name }

// Plugins returns the enabled plugins, in configuration order.
func (p *Profile) Plugins() []Plugin { return slices.Clone(p.plugins) }

// Result is a scheduling decision.
type Result struct {
	NodeName string
	// Evaluated is how many nodes were filtered, Feasible how many fit.
	Evaluated, Feasible int
}

// FitError says why no node fits: the verdict of every node.
type FitError struct {
	Pod      *core.Pod
	NumNodes int
	Statuses NodeStatuses
	// PreFilterMsg is set when a PreFilter rejected the pod outright.
	PreFilterMsg string
	// PostFilterMsg is appended (preemption's outcome).
	PostFilterMsg string
}

// Is makes errors.Is(err, ErrUnschedulable) true.
func (e *FitError) Is(target error) bool { return target == ErrUnschedulable }

// Error renders the message kube-scheduler puts in FailedScheduling events:
// "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated
// taint {node-role.kubernetes.io/control-plane: }."
func (e *FitError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "0/%d nodes are available", e.NumNodes)
	if e.PreFilterMsg != "" {
		b.WriteString(": " + e.PreFilterMsg + ".")
	} else {
		b.WriteString(reasonSummary(e.Statuses))
	}
	if e.PostFilterMsg != "" {
		b.WriteString(" " + e.PostFilterMsg)
	}
	return b.String()
}

func reasonSummary(statuses NodeStatuses) string {
	counts := map[string]int{}
	for _, st := range statuses {
		for _, r := range st.Reasons() {
			counts[r]++
		}
	}
	if len(counts) == 0 {
		return "."
	}
	out := make([]string, 0, len(counts))
	for r, n := range counts {
		out = append(out, fmt.Sprintf("%d %s", n, r))
	}
	sort.Strings(out)
	return ": " + strings.Join(out, ", ") + "."
}

// UnschedulablePlugins returns the names of the plugins that rejected the pod.
func (e *FitError) UnschedulablePlugins() []string {
	set := map[string]bool{}
	for _, st := range e.Statuses {
		if st.Plugin() != "" {
			set[st.Plugin()] = true
		}
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// MinFeasibleNodesToFind and MinFeasibleNodesPercentageToFind bound the
// adaptive percentage, as kube-scheduler's do.
const (
	MinFeasibleNodesToFind           = 100
	MinFeasibleNodesPercentageToFind = 5
)

// numFeasibleNodesToFind is kube-scheduler's rule: with fewer than 100 nodes,
// or a percentage of 100, look at all of them. Otherwise, with percentage 0
// (adaptive), use 50% minus 1% per 125 nodes, never under 5%; stop filtering
// after that share of the nodes were found feasible, but never under 100.
// Together with the rotating start index this scores a fair sample of a big
// cluster rather than every node.
func numFeasibleNodesToFind(percentage int32, numAll int) int {
	if numAll < MinFeasibleNodesToFind || percentage >= 100 {
		return numAll
	}
	pct := int(percentage)
	if pct == 0 {
		pct = 50 - numAll/125
		if pct < MinFeasibleNodesPercentageToFind {
			pct = MinFeasibleNodesPercentageToFind
		}
	}
	n := numAll * pct / 100
	if n < MinFeasibleNodesToFind {
		return MinFeasibleNodesToFind
	}
	return n
}

// parallelize runs fn(i) for i in [0, n) on up to workers goroutines.
func parallelize(ctx context.Context, workers, n int, fn func(i int)) {
	if n == 0 {
		return
	}
	if workers > n {
		workers = n
	}
	if workers <= 1 || n < 16 {
		for i := range n {
			fn(i)
		}
		return
	}
	var next atomic.Int64
	chunk := int64(max(1, n/(workers*4)))
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				start := next.Add(chunk) - chunk
				if start >= int64(n) {
					return
				}
				end := min(start+chunk, int64(n))
				for i := start; i < end; i++ {
					fn(int(i))
				}
			}
		})
	}
	wg.Wait()
}

// Schedule picks a node for pod in snap. rng breaks ties between equal
// best scores; given the same snapshot, pod, profile history and rng state
// the result is the same. A pod no node fits gets a *FitError
// (errors.Is(err, ErrUnschedulable)).
func (p *Profile) Schedule(ctx context.Context, state *CycleState, pod *PodInfo, snap *Snapshot, rng *rand.Rand) (Result, error) {
	if pod.ParseErr != nil {
		return Result{}, fmt.Errorf("scheduler: pod %s: %w", pod.Key(), pod.ParseErr)
	}
	n := snap.NumNodes()
	if n == 0 {
		return Result{}, &FitError{Pod: pod.Pod, Statuses: NodeStatuses{}, PreFilterMsg: "no nodes available to schedule pods"}
	}
	state.Write(snapshotKey, &snapshotState{snap: snap})
	st := p.runPreFilters(ctx, state, pod, snap)
	if !st.IsSuccess() {
		if st.Code() == Error {
			return Result{}, st.Err()
		}
		return Result{}, &FitError{Pod: pod.Pod, NumNodes: n, Statuses: NodeStatuses{}, PreFilterMsg: strings.Join(st.Reasons(), ", ")}
	}
	feasible, statuses, evaluated, err := p.findFeasible(ctx, state, pod, snap)
	if err != nil {
		return Result{}, err
	}
	if len(feasible) == 0 {
		return Result{}, &FitError{Pod: pod.Pod, NumNodes: n, Statuses: statuses}
	}
	res := Result{Evaluated: evaluated, Feasible: len(feasible)}
	if len(feasible) == 1 {
		res.NodeName = feasible[0].Node.Name
		return res, nil
	}
	scores, err := p.scoreNodes(ctx, state, pod, feasible)
	if err != nil {
		return Result{}, err
	}
	res.NodeName = selectHost(feasible, scores, rng)
	return res, nil
}

func (p *Profile) runPreFilters(ctx context.Context, state *CycleState, pod *PodInfo, snap *Snapshot) *Status {
	skip := make([]bool, len(p.filters))
	for i, pf := range p.preFilters {
		st := pf.PreFilter(ctx, state, pod, snap).withPlugin(pf.Name())
		if st.IsSkip() {
			if j := p.preFilterToFilter[i]; j >= 0 {
				skip[j] = true
			}
			continue
		}
		if !st.IsSuccess() {
			return st
		}
	}
	state.mu.Lock()
	state.skipFilter = skip
	state.mu.Unlock()
	return nil
}

func (p *Profile) runFilters(ctx context.Context, state *CycleState, pod *PodInfo, node *NodeInfo) *Status {
	skip := state.skipFilter // written before the parallel filtering starts
	for i, f := range p.filters {
		if skip != nil && skip[i] {
			continue
		}
		if st := f.Filter(ctx, state, pod, node); !st.IsSuccess() {
			return st.withPlugin(f.Name())
		}
	}
	return nil
}

// filterWithNominated runs the filters with the node's nominated pods of
// equal or higher priority added (when there are any), so that a preemptor's
// room is not taken by others while its victims terminate.
func (p *Profile) filterWithNominated(ctx context.Context, state *CycleState, pod *PodInfo, ni *NodeInfo, snap *Snapshot) *Status {
	var add []*PodInfo
	for _, np := range snap.Nominated[ni.name] {
		if np.Priority >= pod.Priority && np.Pod.UID != pod.Pod.UID {
			add = append(add, np)
		}
	}
	if len(add) == 0 {
		return p.runFilters(ctx, state, pod, ni)
	}
	ni = ni.Clone()
	state = state.Clone()
	for _, np := range add {
		ni.AddPod(np)
		p.RunPreFilterExtensionAddPod(state, pod, np, ni)
	}
	return p.runFilters(ctx, state, pod, ni)
}

// RunFilterPlugins runs every filter (Handle).
func (p *Profile) RunFilterPlugins(ctx context.Context, state *CycleState, pod *PodInfo, node *NodeInfo) *Status {
	return p.runFilters(ctx, state, pod, node)
}

// RunPreFilterExtensionRemovePod implements Handle.
func (p *Profile) RunPreFilterExtensionRemovePod(state *CycleState, pod, remove *PodInfo, node *NodeInfo) {
	for _, pf := range p.preFilters {
		if x, ok := pf.(PreFilterExtensions); ok {
			x.RemovePod(state, pod, remove, node)
		}
	}
}

// RunPreFilterExtensionAddPod implements Handle.
func (p *Profile) RunPreFilterExtensionAddPod(state *CycleState, pod, add *PodInfo, node *NodeInfo) {
	for _, pf := range p.preFilters {
		if x, ok := pf.(PreFilterExtensions); ok {
			x.AddPod(state, pod, add, node)
		}
	}
}

// findFeasible filters nodes from the rotating start index, in windows
// evaluated in parallel, until enough feasible nodes are found. Whole
// windows are evaluated and then cut in index order, so the result does not
// depend on goroutine timing.
func (p *Profile) findFeasible(ctx context.Context, state *CycleState, pod *PodInfo, snap *Snapshot) ([]*NodeInfo, NodeStatuses, int, error) {
	n := snap.NumNodes()
	want := numFeasibleNodesToFind(p.percentage, n)
	if pod.Pod.Spec.NodeName != "" {
		want = n
	}
	start := p.nextStart % n
	window := max(want, 256)
	if cap(p.bufResults) < min(window, n) {
		p.bufResults = make([]*Status, min(window, n))
	}
	results := p.bufResults[:min(window, n)]
	feasible := p.bufFeasible[:0]
	defer func() { p.bufFeasible = feasible[:0] }()
	statuses := NodeStatuses{}
	processed := 0
	for processed < n && len(feasible) < want {
		size := min(window, n-processed)
		base := processed
		parallelize(ctx, p.parallelism, size, func(i int) {
			ni := snap.Nodes[(start+base+i)%n]
			results[i] = p.filterWithNominated(ctx, state, pod, ni, snap)
		})
		if err := ctx.Err(); err != nil {
			return nil, nil, 0, err
		}
		for i := 0; i < size; i++ {
			processed++
			ni := snap.Nodes[(start+base+i)%n]
			st := results[i]
			switch {
			case st.IsSuccess():
				feasible = append(feasible, ni)
			case st.Code() == Error:
				return nil, nil, 0, fmt.Errorf("scheduler: filter %s on node %s: %w", st.Plugin(), ni.Node.Name, st.Err())
			default:
				statuses[ni.name] = st
			}
			if len(feasible) >= want {
				break
			}
		}
	}
	p.nextStart = (start + processed) % n
	return feasible, statuses, processed, nil
}

func (p *Profile) scoreNodes(ctx context.Context, state *CycleState, pod *PodInfo, nodes []*NodeInfo) ([]int64, error) {
	if cap(p.bufTotal) < len(nodes) {
		p.bufTotal = make([]int64, len(nodes))
	}
	total := p.bufTotal[:len(nodes)]
	clear(total)
	if len(p.scores) == 0 {
		return total, nil
	}
	skip := map[Plugin]bool{}
	for _, ps := range p.preScores {
		st := ps.PreScore(ctx, state, pod, nodes)
		if st.IsSkip() {
			skip[ps] = true
			continue
		}
		if !st.IsSuccess() {
			return nil, fmt.Errorf("scheduler: prescore %s: %w", ps.Name(), st.Err())
		}
	}
	// Node-major: each node is scored by every plugin while it is in cache.
	var active []int
	for k, sp := range p.scores {
		if !skip[sp] {
			active = append(active, k)
		}
	}
	if len(p.bufRaw) != len(p.scores) {
		p.bufRaw = make([][]NodeScore, len(p.scores))
	}
	raw := p.bufRaw
	for _, k := range active {
		if cap(raw[k]) < len(nodes) {
			raw[k] = make([]NodeScore, len(nodes))
		}
		raw[k] = raw[k][:len(nodes)]
	}
	var firstErr atomic.Pointer[Status]
	parallelize(ctx, p.parallelism, len(nodes), func(i int) {
		ni := nodes[i]
		for _, k := range active {
			s, st := p.scores[k].Score(ctx, state, pod, ni)
			if !st.IsSuccess() {
				firstErr.CompareAndSwap(nil, st.withPlugin(p.scores[k].Name()))
			}
			raw[k][i] = NodeScore{Name: ni.name, Score: s}
		}
	})
	if st := firstErr.Load(); st != nil {
		return nil, fmt.Errorf("scheduler: score %s: %w", st.Plugin(), st.Err())
	}
	for _, k := range active {
		sp, scores := p.scores[k], raw[k]
		if nz, ok := sp.(ScoreNormalizer); ok {
			if st := nz.NormalizeScore(ctx, state, pod, scores); !st.IsSuccess() {
				return nil, fmt.Errorf("scheduler: normalize %s: %w", sp.Name(), st.Err())
			}
		}
		w := p.weights[k]
		for i := range scores {
			s := scores[i].Score
			if s < 0 || s > MaxNodeScore {
				return nil, fmt.Errorf("scheduler: score %s gave node %s %d, outside [0, %d]", sp.Name(), scores[i].Name, s, MaxNodeScore)
			}
			total[i] += s * w
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return total, nil
}

// selectHost returns the best-scored node; among equals, one chosen
// uniformly with rng (reservoir sampling, one draw per tie).
func selectHost(nodes []*NodeInfo, scores []int64, rng *rand.Rand) string {
	best, ties := 0, 1
	for i := 1; i < len(nodes); i++ {
		switch cmp.Compare(scores[i], scores[best]) {
		case 1:
			best, ties = i, 1
		case 0:
			ties++
			if rng.IntN(ties) == 0 {
				best = i
			}
		}
	}
	return nodes[best].name
}

// RunPostFilter runs the PostFilter plugins until one proposes a node.
func (p *Profile) RunPostFilter(ctx context.Context, state *CycleState, pod *PodInfo, snap *Snapshot, statuses NodeStatuses) (*PostFilterResult, *Status) {
	var last *Status = NewStatus(Unschedulable)
	for _, pf := range p.postFilters {
		res, st := pf.PostFilter(ctx, state, pod, snap, statuses)
		if st.IsSuccess() && res != nil {
			return res, nil
		}
		if st.Code() == Error {
			return nil, st.withPlugin(pf.Name())
		}
		last = st.withPlugin(pf.Name())
	}
	return nil, last
}

// RunReserve runs Reserve on every reserve plugin; on failure it unreserves those that ran.
func (p *Profile) RunReserve(ctx context.Context, state *CycleState, pod *PodInfo, node string) *Status {
	for i, r := range p.reserves {
		if st := r.Reserve(ctx, state, pod, node); !st.IsSuccess() {
			for j := i - 1; j >= 0; j-- {
				p.reserves[j].Unreserve(ctx, state, pod, node)
			}
			return st.withPlugin(r.Name())
		}
	}
	return nil
}

// RunUnreserve runs Unreserve on every reserve plugin, in reverse order.
func (p *Profile) RunUnreserve(ctx context.Context, state *CycleState, pod *PodInfo, node string) {
	for j := len(p.reserves) - 1; j >= 0; j-- {
		p.reserves[j].Unreserve(ctx, state, pod, node)
	}
}

// RunBind runs the binders until one does not Skip.
func (p *Profile) RunBind(ctx context.Context, state *CycleState, pod *core.Pod, node string) *Status {
	for _, b := range p.binders {
		st := b.Bind(ctx, state, pod, node)
		if st.IsSkip() {
			continue
		}
		return st.withPlugin(b.Name())
	}
	return NewStatus(Error, "no bind plugin bound the pod")
}

func newRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) }
