package scheduler

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/apis/labels"
	"github.com/gantry-sdk/gantry/apis/policy"
)

// ErrAssumed: the pod is already assumed or known on a node.
var ErrAssumed = errors.New("scheduler: pod already in cache")

// Cache is the scheduler's view of nodes and the pods on them, including
// pods it has assumed (chosen a node for) before their binding is visible
// in the store. An assumed pod whose binding finished but that the informer
// never confirms expires after the TTL; one whose binding failed is
// forgotten. UpdateSnapshot copies only the nodes changed since the last
// call, so one Cache feeds one Snapshot.
type Cache struct {
	mu    sync.Mutex
	ttl   time.Duration
	nodes map[string]*NodeInfo
	pods  map[apis.Key]*cachedPod
	dirty map[string]struct{}
	// nodesChanged is set when a node was added, removed or its object replaced.
	nodesChanged bool
	gen          int64
	// namespaces holds namespace labels (for affinity namespaceSelectors);
	// nsChanged says the snapshot's copy is stale.
	namespaces map[string]labels.Set
	nsChanged  bool
	// pdbs are the PodDisruptionBudgets (for preemption).
	pdbs       map[apis.Key]*policy.PodDisruptionBudget
	pdbChanged bool
}

type cachedPod struct {
	info     *PodInfo
	node     string
	assumed  bool
	deadline time.Time // zero until binding finished
}

// NewCache returns an empty cache; assumed pods expire ttl after their
// binding finished (0 means 30 s).
func NewCache(ttl time.Duration) *Cache {
	if ttl <= 0 {
		ttl = 30 * time.Second
	}
	return &Cache{ttl: ttl, nodes: map[string]*NodeInfo{}, pods: map[apis.Key]*cachedPod{}, dirty: map[string]struct{}{}}
}

// changed returns the node's NodeInfo for writing (creating it), marked dirty.
func (c *Cache) changed(name string) *NodeInfo {
	ni := c.nodes[name]
	if ni == nil {
		ni = &NodeInfo{}
		c.nodes[name] = ni
	}
	c.gen++
	ni.Generation = c.gen
	c.dirty[name] = struct{}{}
	return ni
}

// AddNode adds or replaces a node.
func (c *Cache) AddNode(node *core.Node) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.changed(node.Name).SetNode(node)
	c.nodesChanged = true
}

// RemoveNode removes a node; pods still bound to it stay until removed.
func (c *Cache) RemoveNode(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ni := c.changed(name)
	ni.SetNode(nil)
	if len(ni.Pods) == 0 {
		delete(c.nodes, name)
	}
	c.nodesChanged = true
}

// AddNamespace records (or updates) a namespace's labels; it reports
// whether they changed.
func (c *Cache) AddNamespace(ns *core.Namespace) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	old, ok := c.namespaces[ns.Name]
	if ok && maps.Equal(old, labels.Set(ns.Labels)) {
		return false
	}
	if c.namespaces == nil {
		c.namespaces = map[string]labels.Set{}
	}
	c.namespaces[ns.Name] = labels.Set(maps.Clone(ns.Labels))
	c.nsChanged = true
	return true
}

// RemoveNamespace forgets a namespace.
func (c *Cache) RemoveNamespace(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.namespaces[name]; ok {
		delete(c.namespaces, name)
		c.nsChanged = true
	}
}

// AddPodDisruptionBudget records (or replaces) a budget.
func (c *Cache) AddPodDisruptionBudget(pdb *policy.PodDisruptionBudget) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pdbs == nil {
		c.pdbs = map[apis.Key]*policy.PodDisruptionBudget{}
	}
	c.pdbs[apis.Key{Namespace: pdb.Namespace, Name: pdb.Name}] = pdb
	c.pdbChanged = true
}

// RemovePodDisruptionBudget forgets a budget.
func (c *Cache) RemovePodDisruptionBudget(pdb *policy.PodDisruptionBudget) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.pdbs, apis.Key{Namespace: pdb.Namespace, Name: pdb.Name})
	c.pdbChanged = true
}

// AssumePod records pod (spec.nodeName set to the chosen node) as on its node.
func (c *Cache) AssumePod(pi *PodInfo) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := pi.Key()
	if _, ok := c.pods[k]; ok {
		return fmt.Errorf("%w: %s", ErrAssumed, k)
	}
	c.changed(pi.Pod.Spec.NodeName).AddPod(pi)
	c.pods[k] = &cachedPod{info: pi, node: pi.Pod.Spec.NodeName, assumed: true}
	return nil
}

// FinishBinding starts the expiry clock of an assumed pod.
func (c *Cache) FinishBinding(k apis.Key, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cp, ok := c.pods[k]; ok && cp.assumed {
		cp.deadline = now.Add(c.ttl)
	}
}

// ForgetPod drops an assumed pod (its binding failed).
func (c *Cache) ForgetPod(k apis.Key) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cp, ok := c.pods[k]; ok && cp.assumed {
		c.removeLocked(k, cp)
	}
}

func (c *Cache) removeLocked(k apis.Key, cp *cachedPod) {
	ni := c.changed(cp.node)
	ni.RemovePod(cp.info)
	if ni.Node == nil && len(ni.Pods) == 0 {
		delete(c.nodes, cp.node)
	}
	delete(c.pods, k)
}

// IsAssumed reports whether the pod is assumed and not yet confirmed.
func (c *Cache) IsAssumed(k apis.Key) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	cp, ok := c.pods[k]
	return ok && cp.assumed
}

// AddPod records a pod the store shows bound to a node (confirming an
// assumed one).
func (c *Cache) AddPod(pod *core.Pod) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := apis.Key{Namespace: pod.Namespace, Name: pod.Name}
	if cp, ok := c.pods[k]; ok {
		c.removeLocked(k, cp)
	}
	pi := NewPodInfo(pod)
	c.changed(pod.Spec.NodeName).AddPod(pi)
	c.pods[k] = &cachedPod{info: pi, node: pod.Spec.NodeName}
}

// RemovePod forgets a pod that is gone from the store.
func (c *Cache) RemovePod(pod *core.Pod) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := apis.Key{Namespace: pod.Namespace, Name: pod.Name}
	if cp, ok := c.pods[k]; ok {
		c.removeLocked(k, cp)
	}
}

// CleanupExpired drops assumed pods whose binding finished before now-TTL
// and that the informer never confirmed.
func (c *Cache) CleanupExpired(now time.Time) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for k, cp := range c.pods {
		if cp.assumed && !cp.deadline.IsZero() && now.After(cp.deadline) {
			c.removeLocked(k, cp)
			n++
		}
	}
	return n
}

// NumPods returns how many pods (assumed included) the cache holds.
func (c *Cache) NumPods() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pods)
}

// UpdateSnapshot brings snap up to date, copying only changed nodes.
func (c *Cache) UpdateSnapshot(snap *Snapshot) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.nsChanged {
		// A new map: states of earlier cycles may still read the old one.
		snap.Namespaces = maps.Clone(c.namespaces)
		c.nsChanged = false
	}
	if c.pdbChanged {
		snap.PodDisruptionBudgets = slices.SortedFunc(maps.Values(c.pdbs), func(a, b *policy.PodDisruptionBudget) int {
			return cmp.Or(strings.Compare(a.Namespace, b.Namespace), strings.Compare(a.Name, b.Name))
		})
		c.pdbChanged = false
	}
	if snap.byName == nil || c.nodesChanged {
		infos := make(map[string]*NodeInfo, len(c.nodes))
		for name, ni := range c.nodes {
			if old, ok := snap.byName[name]; ok && old.Generation == ni.Generation {
				infos[name] = old
			} else {
				infos[name] = ni.Clone()
			}
		}
		snap.rebuild(infos)
		clear(c.dirty)
		c.nodesChanged = false
		return
	}
	if len(c.dirty) == 0 {
		return
	}
	refresh := false
	for name := range c.dirty {
		ni := c.nodes[name]
		old, ok := snap.byName[name]
		if ni == nil || ni.Node == nil || !ok {
			continue
		}
		cl := ni.Clone()
		if len(old.PodsWithAffinity) > 0 || len(cl.PodsWithAffinity) > 0 {
			refresh = true
		}
		snap.byName[name] = cl
		i, found := slices.BinarySearchFunc(snap.Nodes, name, func(n *NodeInfo, name string) int { return strings.Compare(n.name, name) })
		if found {
			snap.Nodes[i] = cl
		}
	}
	clear(c.dirty)
	if refresh {
		snap.refreshAffinityLists()
	}
}
