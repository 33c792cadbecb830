package scheduler

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/apis/labels"
	"github.com/gantry-sdk/gantry/apis/policy"
)

// Defaults counted for containers without requests when scoring (not when
// filtering), as kube-scheduler does, so that request-less pods still spread.
const (
	DefaultMilliCPURequest int64 = 100               // 0.1 core
	DefaultMemoryRequest   int64 = 200 * 1024 * 1024 // 200 MiB
)

// Resources is an amount of every resource as integers: milli-cores for
// cpu, bytes for memory and ephemeral storage, units for the rest.
type Resources struct {
	MilliCPU         int64
	Memory           int64
	EphemeralStorage int64
	Pods             int64
	Scalar           map[core.ResourceName]int64
}

// ResourcesFrom converts a ResourceList.
func ResourcesFrom(l core.ResourceList) Resources {
	var r Resources
	for name, q := range l {
		switch name {
		case core.ResourceCPU:
			r.MilliCPU = q.MilliValue()
		case core.ResourceMemory:
			r.Memory = q.Value()
		case core.ResourceEphemeralStorage:
			r.EphemeralStorage = q.Value()
		case core.ResourcePods:
			r.Pods = q.Value()
		default:
			if r.Scalar == nil {
				r.Scalar = map[core.ResourceName]int64{}
			}
			r.Scalar[name] = q.Value()
		}
	}
	return r
}

// Add adds o to r.
func (r *Resources) Add(o *Resources) {
	r.MilliCPU += o.MilliCPU
	r.Memory += o.Memory
	r.EphemeralStorage += o.EphemeralStorage
	r.Pods += o.Pods
	for k, v := range o.Scalar {
		if r.Scalar == nil {
			r.Scalar = map[core.ResourceName]int64{}
		}
		r.Scalar[k] += v
	}
}

// Sub subtracts o from r.
func (r *Resources) Sub(o *Resources) {
	r.MilliCPU -= o.MilliCPU
	r.Memory -= o.Memory
	r.EphemeralStorage -= o.EphemeralStorage
	r.Pods -= o.Pods
	for k, v := range o.Scalar {
		if r.Scalar == nil {
			r.Scalar = map[core.ResourceName]int64{}
		}
		r.Scalar[k] -= v
	}
}

// Clone returns a copy of r.
func (r Resources) Clone() Resources {
	if r.Scalar != nil {
		s := make(map[core.ResourceName]int64, len(r.Scalar))
		for k, v := range r.Scalar {
			s[k] = v
		}
		r.Scalar = s
	}
	return r
}

// AffinityTerm is a PodAffinityTerm with its selectors parsed. A pod is in
// the term's namespaces if its namespace is listed, or its namespace's
// labels match NamespaceSelector; as upstream, a term with neither means
// the pod's own namespace, and an empty namespaceSelector all namespaces.
type AffinityTerm struct {
	Selector labels.Selector
	// Namespaces lists namespaces by name.
	Namespaces map[string]struct{}
	// NamespaceSelector selects namespaces by their labels (nil: none).
	NamespaceSelector labels.Selector
	AllNamespaces     bool // an empty namespaceSelector
	TopologyKey       string
	Weight            int32 // for preferred terms
}

// Matches reports whether a pod with labels ls, in namespace ns whose
// labels are nsLabels, is selected.
func (t *AffinityTerm) Matches(ns string, nsLabels, ls labels.Set) bool {
	if !t.AllNamespaces {
		if _, ok := t.Namespaces[ns]; !ok && (t.NamespaceSelector == nil || !t.NamespaceSelector.Matches(nsLabels)) {
			return false
		}
	}
	return t.Selector.Matches(ls)
}

// match is Matches with the labels of ns looked up in nsLabels only when
// the namespaceSelector has to be consulted.
func (t *AffinityTerm) match(ns string, nsLabels map[string]labels.Set, ls labels.Set) bool {
	if !t.AllNamespaces {
		if _, ok := t.Namespaces[ns]; !ok && (t.NamespaceSelector == nil || !t.NamespaceSelector.Matches(nsLabels[ns])) {
			return false
		}
	}
	return t.Selector.Matches(ls)
}

// affinityTermError says which selector of a term failed to parse.
type affinityTermError struct {
	field string
	err   error
}

func (e *affinityTermError) Error() string { return e.field + ": " + e.err.Error() }
func (e *affinityTermError) Unwrap() error { return e.err }

func newAffinityTerm(pod *core.Pod, term *core.PodAffinityTerm, weight int32) (AffinityTerm, error) {
	ls := term.LabelSelector
	// matchLabelKeys / mismatchLabelKeys add the pod's own label values.
	if len(term.MatchLabelKeys)+len(term.MismatchLabelKeys) > 0 && ls != nil {
		c := *ls
		c.MatchExpressions = slices.Clone(ls.MatchExpressions)
		for _, k := range term.MatchLabelKeys {
			if v, ok := pod.Labels[k]; ok {
				c.MatchExpressions = append(c.MatchExpressions, apis.LabelSelectorRequirement{Key: k, Operator: apis.LabelSelectorOpIn, Values: []string{v}})
			}
		}
		for _, k := range term.MismatchLabelKeys {
			if v, ok := pod.Labels[k]; ok {
				c.MatchExpressions = append(c.MatchExpressions, apis.LabelSelectorRequirement{Key: k, Operator: apis.LabelSelectorOpNotIn, Values: []string{v}})
			}
		}
		ls = &c
	}
	sel, err := labels.FromLabelSelector(ls)
	if err != nil {
		return AffinityTerm{}, &affinityTermError{"labelSelector", err}
	}
	t := AffinityTerm{Selector: sel, TopologyKey: term.TopologyKey, Weight: weight}
	nss := term.NamespaceSelector
	switch {
	case nss != nil && len(nss.MatchLabels)+len(nss.MatchExpressions) == 0:
		t.AllNamespaces = true
		return t, nil
	case nss != nil:
		if t.NamespaceSelector, err = labels.FromLabelSelector(nss); err != nil {
			return AffinityTerm{}, &affinityTermError{"namespaceSelector", err}
		}
	}
	t.Namespaces = make(map[string]struct{}, max(1, len(term.Namespaces)))
	for _, ns := range term.Namespaces {
		t.Namespaces[ns] = struct{}{}
	}
	if len(term.Namespaces) == 0 && nss == nil {
		t.Namespaces[pod.Namespace] = struct{}{}
	}
	return t, nil
}

// HostPort is a host port a pod uses.
type HostPort struct {
	IP       string
	Protocol core.Protocol
	Port     int32
}

func (p HostPort) conflicts(o HostPort) bool {
	if p.Port != o.Port || p.Protocol != o.Protocol {
		return false
	}
	return p.IP == o.IP || p.IP == "0.0.0.0" || o.IP == "0.0.0.0"
}

// PodInfo is a pod with what scheduling reads from it computed once: its
// requests, host ports and parsed affinity terms.
type PodInfo struct {
	Pod      *core.Pod
	Labels   labels.Set
	Requests Resources
	// NonZero is cpu and memory with defaults for unset requests (scoring).
	NonZeroMilliCPU, NonZeroMemory int64
	Ports                          []HostPort
	Priority                       int32

	RequiredAffinity     []AffinityTerm
	RequiredAntiAffinity []AffinityTerm
	PreferredAffinity    []AffinityTerm
	PreferredAnti        []AffinityTerm
	// ParseErr is set when a selector is invalid; the pod is then unschedulable.
	ParseErr error
}

// NewPodInfo computes a PodInfo. Invalid selectors do not fail here: they
// are recorded in ParseErr and reported when the pod is scheduled.
func NewPodInfo(pod *core.Pod) *PodInfo {
	pi := &PodInfo{Pod: pod, Labels: labels.Set(pod.Labels)}
	pi.Requests = ResourcesFrom(core.PodRequests(&pod.Spec))
	pi.Requests.Pods = 1
	pi.NonZeroMilliCPU, pi.NonZeroMemory = nonZeroRequests(&pod.Spec)
	if pod.Spec.Priority != nil {
		pi.Priority = *pod.Spec.Priority
	}
	for _, c := range pod.Spec.Containers {
		for _, p := range c.Ports {
			if p.HostPort <= 0 {
				continue
			}
			hp := HostPort{IP: p.HostIP, Protocol: p.Protocol, Port: p.HostPort}
			if hp.IP == "" {
				hp.IP = "0.0.0.0"
			}
			if hp.Protocol == "" {
				hp.Protocol = core.ProtocolTCP
			}
			pi.Ports = append(pi.Ports, hp)
		}
	}
	if a := pod.Spec.Affinity; a != nil {
		add := func(dst *[]AffinityTerm, what string, i int, t *core.PodAffinityTerm, w int32) {
			at, err := newAffinityTerm(pod, t, w)
			if err != nil {
				if pi.ParseErr == nil {
					pi.ParseErr = fmt.Errorf("spec.affinity.%s[%d].%w", what, i, err)
				}
				return
			}
			*dst = append(*dst, at)
		}
		if pa := a.PodAffinity; pa != nil {
			for i := range pa.RequiredDuringSchedulingIgnoredDuringExecution {
				add(&pi.RequiredAffinity, "podAffinity.requiredDuringSchedulingIgnoredDuringExecution", i, &pa.RequiredDuringSchedulingIgnoredDuringExecution[i], 0)
			}
			for i := range pa.PreferredDuringSchedulingIgnoredDuringExecution {
				w := &pa.PreferredDuringSchedulingIgnoredDuringExecution[i]
				add(&pi.PreferredAffinity, "podAffinity.preferredDuringSchedulingIgnoredDuringExecution", i, &w.PodAffinityTerm, w.Weight)
			}
		}
		if pa := a.PodAntiAffinity; pa != nil {
			for i := range pa.RequiredDuringSchedulingIgnoredDuringExecution {
				add(&pi.RequiredAntiAffinity, "podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution", i, &pa.RequiredDuringSchedulingIgnoredDuringExecution[i], 0)
			}
			for i := range pa.PreferredDuringSchedulingIgnoredDuringExecution {
				w := &pa.PreferredDuringSchedulingIgnoredDuringExecution[i]
				add(&pi.PreferredAnti, "podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution", i, &w.PodAffinityTerm, w.Weight)
			}
		}
	}
	return pi
}

func nonZeroRequests(s *core.PodSpec) (cpu, mem int64) {
	add := func(c *core.Container) (int64, int64) {
		cc, mm := DefaultMilliCPURequest, DefaultMemoryRequest
		if q, ok := c.Resources.Requests[core.ResourceCPU]; ok {
			cc = q.MilliValue()
		}
		if q, ok := c.Resources.Requests[core.ResourceMemory]; ok {
			mm = q.Value()
		}
		return cc, mm
	}
	for i := range s.Containers {
		c, m := add(&s.Containers[i])
		cpu += c
		mem += m
	}
	for i := range s.InitContainers {
		c, m := add(&s.InitContainers[i])
		cpu = max(cpu, c)
		mem = max(mem, m)
	}
	if q, ok := s.Overhead[core.ResourceCPU]; ok {
		cpu += q.MilliValue()
	}
	if q, ok := s.Overhead[core.ResourceMemory]; ok {
		mem += q.Value()
	}
	return cpu, mem
}

func (pi *PodInfo) hasAffinity() bool {
	return len(pi.RequiredAffinity)+len(pi.RequiredAntiAffinity)+len(pi.PreferredAffinity)+len(pi.PreferredAnti) > 0
}

// Key returns the pod's namespace/name.
func (pi *PodInfo) Key() apis.Key { return apis.Key{Namespace: pi.Pod.Namespace, Name: pi.Pod.Name} }

// ImageState is an image on a node, with how many nodes have it.
type ImageState struct {
	Size     int64
	NumNodes int
}

// NodeInfo is a node with its pods and what they add up to. A NodeInfo in a
// Snapshot is immutable.
type NodeInfo struct {
	// The fields every cycle reads come first, so that filtering and
	// scoring a node touches two cache lines rather than five.
	Requested Resources
	// NonZeroMilliCPU and NonZeroMemory count default requests for
	// request-less pods (scoring).
	NonZeroMilliCPU, NonZeroMemory int64
	Allocatable                    Resources
	// Copies of the node fields every cycle reads.
	name          string
	unschedulable bool
	hardTaints    bool // has a NoSchedule or NoExecute taint
	softTaints    bool // has a PreferNoSchedule taint

	Node      *core.Node
	Pods      []*PodInfo
	UsedPorts []HostPort
	// Images maps normalised image names on the node to their state.
	Images map[string]*ImageState
	// PodsWithAffinity and PodsWithRequiredAntiAffinity are subsets of Pods.
	PodsWithAffinity             []*PodInfo
	PodsWithRequiredAntiAffinity []*PodInfo
	// Generation changes whenever the NodeInfo does (see Cache).
	Generation int64
}

// NewNodeInfo returns the NodeInfo of node with pods.
func NewNodeInfo(node *core.Node, pods ...*PodInfo) *NodeInfo {
	ni := &NodeInfo{}
	ni.SetNode(node)
	for _, p := range pods {
		ni.AddPod(p)
	}
	return ni
}

// Name returns the node's name ("" without a node).
func (n *NodeInfo) Name() string { return n.name }

// SetNode sets (or replaces) the node.
func (n *NodeInfo) SetNode(node *core.Node) {
	n.Node = node
	n.Images = nil
	n.name, n.unschedulable, n.hardTaints, n.softTaints = "", false, false, false
	if node == nil {
		n.Allocatable = Resources{}
		return
	}
	n.name, n.unschedulable = node.Name, node.Spec.Unschedulable
	for _, t := range node.Spec.Taints {
		switch t.Effect {
		case core.TaintEffectPreferNoSchedule:
			n.softTaints = true
		default:
			n.hardTaints = true
		}
	}
	n.Allocatable = ResourcesFrom(node.Status.Allocatable)
	if len(node.Status.Images) > 0 {
		n.Images = map[string]*ImageState{}
	}
	for _, img := range node.Status.Images {
		for _, name := range img.Names {
			n.Images[NormalizeImageName(name)] = &ImageState{Size: img.SizeBytes}
		}
	}
}

// AddPod adds a pod's requests, ports and affinity to the node.
func (n *NodeInfo) AddPod(p *PodInfo) {
	n.Pods = append(n.Pods, p)
	n.Requested.Add(&p.Requests)
	n.NonZeroMilliCPU += p.NonZeroMilliCPU
	n.NonZeroMemory += p.NonZeroMemory
	n.UsedPorts = append(n.UsedPorts, p.Ports...)
	if p.hasAffinity() {
		n.PodsWithAffinity = append(n.PodsWithAffinity, p)
	}
	if len(p.RequiredAntiAffinity) > 0 {
		n.PodsWithRequiredAntiAffinity = append(n.PodsWithRequiredAntiAffinity, p)
	}
}

// RemovePod removes the pod with p's namespace and name; it reports whether it was there.
func (n *NodeInfo) RemovePod(p *PodInfo) bool {
	same := func(o *PodInfo) bool {
		return o.Pod.Name == p.Pod.Name && o.Pod.Namespace == p.Pod.Namespace
	}
	i := slices.IndexFunc(n.Pods, same)
	if i < 0 {
		return false
	}
	old := n.Pods[i]
	n.Pods = slices.Delete(slices.Clone(n.Pods), i, i+1)
	n.Requested.Sub(&old.Requests)
	n.NonZeroMilliCPU -= old.NonZeroMilliCPU
	n.NonZeroMemory -= old.NonZeroMemory
	if len(old.Ports) > 0 {
		ports := make([]HostPort, 0, len(n.UsedPorts))
		for _, o := range n.Pods {
			ports = append(ports, o.Ports...)
		}
		n.UsedPorts = ports
	}
	if j := slices.IndexFunc(n.PodsWithAffinity, same); j >= 0 {
		n.PodsWithAffinity = slices.Delete(slices.Clone(n.PodsWithAffinity), j, j+1)
	}
	if j := slices.IndexFunc(n.PodsWithRequiredAntiAffinity, same); j >= 0 {
		n.PodsWithRequiredAntiAffinity = slices.Delete(slices.Clone(n.PodsWithRequiredAntiAffinity), j, j+1)
	}
	return true
}

// Clone returns a copy that AddPod and RemovePod may change without
// touching n (the pods and the node themselves are shared).
func (n *NodeInfo) Clone() *NodeInfo {
	c := *n
	c.Pods = slices.Clone(n.Pods)
	c.Requested = n.Requested.Clone()
	c.UsedPorts = slices.Clone(n.UsedPorts)
	c.PodsWithAffinity = slices.Clone(n.PodsWithAffinity)
	c.PodsWithRequiredAntiAffinity = slices.Clone(n.PodsWithRequiredAntiAffinity)
	return &c
}

// NormalizeImageName adds ":latest" to an image without tag or digest.
func NormalizeImageName(name string) string {
	if strings.LastIndex(name, ":") <= strings.LastIndex(name, "/") && !strings.Contains(name, "@") {
		return name + ":latest"
	}
	return name
}

// Snapshot is the cluster as one scheduling cycle sees it: every node with
// its pods. It is not changed while a cycle runs.
type Snapshot struct {
	// Nodes in a stable order (by name).
	Nodes  []*NodeInfo
	byName map[string]*NodeInfo
	// HavePodsWithAffinity and HavePodsWithRequiredAntiAffinity list the
	// nodes with such pods, so that plugins need not scan every pod.
	HavePodsWithAffinity             []*NodeInfo
	HavePodsWithRequiredAntiAffinity []*NodeInfo
	// ImageNodes counts the nodes that have each image.
	ImageNodes map[string]int
	// Namespaces holds the labels of every namespace, for affinity terms
	// with a namespaceSelector. It is replaced, never changed in place.
	Namespaces map[string]labels.Set
	// PodDisruptionBudgets are read by preemption. Replaced, never changed in place.
	PodDisruptionBudgets []*policy.PodDisruptionBudget
	// Nominated holds, per node, pods that preempted others there and wait
	// for the room: filters count those of equal or higher priority as if
	// they were already on the node.
	Nominated map[string][]*PodInfo
}

// NewSnapshot builds a snapshot from nodes and the pods bound to them (pods
// naming an unknown node are ignored). Tests and simulations use it; the
// Scheduler's Cache updates one incrementally.
func NewSnapshot(nodes []*core.Node, pods []*core.Pod) *Snapshot {
	infos := make(map[string]*NodeInfo, len(nodes))
	for _, n := range nodes {
		infos[n.Name] = NewNodeInfo(n)
	}
	for _, p := range pods {
		if ni := infos[p.Spec.NodeName]; ni != nil {
			ni.AddPod(NewPodInfo(p))
		}
	}
	s := &Snapshot{}
	s.rebuild(infos)
	return s
}

func (s *Snapshot) rebuild(infos map[string]*NodeInfo) {
	s.Nodes = make([]*NodeInfo, 0, len(infos))
	s.byName = make(map[string]*NodeInfo, len(infos))
	for name, ni := range infos {
		if ni.Node == nil {
			continue
		}
		s.Nodes = append(s.Nodes, ni)
		s.byName[name] = ni
	}
	slices.SortFunc(s.Nodes, func(a, b *NodeInfo) int { return strings.Compare(a.name, b.name) })
	s.refreshLists()
}

func (s *Snapshot) refreshLists() {
	s.refreshAffinityLists()
	s.ImageNodes = map[string]int{}
	for _, ni := range s.Nodes {
		for img := range ni.Images {
			s.ImageNodes[img]++
		}
	}
}

func (s *Snapshot) refreshAffinityLists() {
	// New slices: a PreFilter of an earlier cycle may still hold the old ones.
	s.HavePodsWithAffinity = nil
	s.HavePodsWithRequiredAntiAffinity = nil
	for _, ni := range s.Nodes {
		if len(ni.PodsWithAffinity) > 0 {
			s.HavePodsWithAffinity = append(s.HavePodsWithAffinity, ni)
		}
		if len(ni.PodsWithRequiredAntiAffinity) > 0 {
			s.HavePodsWithRequiredAntiAffinity = append(s.HavePodsWithRequiredAntiAffinity, ni)
		}
	}
}

// Get returns the node named name.
func (s *Snapshot) Get(name string) (*NodeInfo, bool) {
	ni, ok := s.byName[name]
	return ni, ok
}

// NumNodes returns the number of nodes.
func (s *Snapshot) NumNodes() int { return len(s.Nodes) }
