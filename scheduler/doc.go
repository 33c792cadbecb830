// Package scheduler binds pending pods to nodes: a pure scheduling core
// with small plugin interfaces, kube-scheduler's default plugins, a
// scheduling queue, preemption, and a runner that watches the store and
// binds through it.
//
// The core does no I/O. A Profile takes a pod (PodInfo: requests, ports and
// parsed affinity terms computed once) and a Snapshot (a NodeInfo per node:
// the node, its pods, their summed requests, used host ports, images) and
// returns a node name or a *FitError carrying every node's verdict, whose
// message is kube-scheduler's: "0/3 nodes are available: 1 Insufficient
// cpu, 2 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }."
//
// Plugins implement Plugin (a Name) and any of PreFilterPlugin,
// FilterPlugin, PostFilterPlugin, PreScorePlugin, ScorePlugin (with
// ScoreNormalizer), ReservePlugin, PermitPlugin and BindPlugin; the profile
// finds them by interface assertion. PreFilter and PreScore may return Skip
// so that a plugin with nothing to do for a pod costs nothing per node; they
// pass data to Filter and Score in the CycleState. Plugins are built by name
// from a Registry; a ProfileConfig enables them with score weights and is
// chosen by the pod's spec.schedulerName.
//
// A Permit plugin may hold a pod: it returns Wait with a timeout, the pod
// stays assumed (its resources reserved) on its node, and binding waits in
// the background, not blocking the scheduling loop, until every waiting
// plugin calls Allow on its WaitingPod (found through the Handle's
// GetWaitingPod or IterateOverWaitingPods). A Reject, the timeout or the
// pod's deletion unreserves it and retries it with backoff. Example_coscheduling
// shows gang scheduling built on it.
//
// Filtering and scoring run in parallel (Parallelism goroutines). As in
// kube-scheduler, big clusters are sampled: with percentageOfNodesToScore 0
// (adaptive) filtering stops once max(100, n*(50 - n/125)%, n*5%) feasible
// nodes are found, starting where the previous cycle stopped so that every
// node gets its turn; clusters under 100 nodes are always searched fully.
// Unlike kube-scheduler the result is deterministic: nodes are filtered in
// windows, each window is evaluated in parallel and cut in node order, and
// ties between best scores are broken by a seeded random choice.
//
// DefaultPlugins are kube-scheduler's with its weights: NodeUnschedulable,
// NodeName, TaintToleration (3), NodeAffinity (2), NodePorts,
// NodeResourcesFit (1; LeastAllocated, or MostAllocated via FitArgs),
// InterPodAffinity (2), PodTopologySpread (2),
// NodeResourcesBalancedAllocation (1), ImageLocality (1),
// DefaultPreemption and DefaultBinder. Pod affinity terms honour
// namespaces and namespaceSelector as upstream (the Scheduler watches
// Namespace labels; a Snapshot carries them in Namespaces). Preemption
// prefers nodes whose victims violate fewer PodDisruptionBudgets (watched
// when the store's scheme has policy/v1), then orders candidates as
// upstream. Known differences: topology spread has no system default
// constraints; nominated pods are not reserved on their node.
//
// The Scheduler runs it all against a store.Store: pod and node informers
// feed a Cache (with assumed pods: a pod is assumed on its node as soon as
// it is chosen, bound in the background, forgotten if binding fails,
// expired if never confirmed) and a Queue (activeQ by priority then age;
// backoff 1 s doubling to 10 s; unschedulable pods wait for a cluster event
// that can help them, or 5 minutes). DefaultBinder sets spec.nodeName and
// the PodScheduled condition in one write compared on the revision
// (store.PodBinder, as the binding subresource does), or, over a store
// without it, with an Update compared on resourceVersion then UpdateStatus.
// Scheduled and FailedScheduling (and Preempted) are written as core/v1
// Events in the background: a bounded queue (Options.EventQueueSize) that
// never blocks scheduling and drops, counting (EventStats), when full, as
// client-go does; repeats within 10 minutes bump the stored event's count
// like client-go's EventCorrelator. Preemption evicts the
// victims through the store and sets status.nominatedNodeName. With
// Options.LeaderElection (kube-scheduler's --leader-elect) replicas
// campaign for a Lease through reconcile/leader; only the leader schedules,
// the others keep warm caches, and a leader that loses the lease stops and
// Run returns ErrLeadershipLost.
//
// # Usage
//
//	sched, err := scheduler.New(s, scheduler.Options{}) // the default profile
//	if err != nil { ... }
//	err = sched.Run(ctx) // until ctx ends
//
// A user plugin, preferring nodes labelled zone=a:
//
//	type PreferZone struct{}
//	func (PreferZone) Name() string { return "PreferZone" }
//	func (PreferZone) Score(_ context.Context, _ *scheduler.CycleState, _ *scheduler.PodInfo, n *scheduler.NodeInfo) (int64, *scheduler.Status) {
//		if n.Node.Labels["zone"] == "a" {
//			return scheduler.MaxNodeScore, nil
//		}
//		return 0, nil
//	}
//
//	sched, err := scheduler.New(s, scheduler.Options{
//		Registry: scheduler.Registry{"PreferZone": func(any, scheduler.Handle) (scheduler.Plugin, error) { return PreferZone{}, nil }},
//		Profiles: []scheduler.ProfileConfig{{
//			SchedulerName: "default-scheduler",
//			Plugins:       append(scheduler.DefaultPlugins(), scheduler.PluginConfig{Name: "PreferZone", Weight: 10}),
//		}},
//	})
//
// The core alone, e.g. for simulation:
//
//	prof, err := scheduler.NewProfile(cfg, scheduler.DefaultRegistry(), scheduler.ProfileOptions{})
//	snap := scheduler.NewSnapshot(nodes, pods)
//	res, err := prof.Schedule(ctx, scheduler.NewCycleState(), scheduler.NewPodInfo(pod), snap, rng)
//	var fe *scheduler.FitError // errors.Is(err, scheduler.ErrUnschedulable)
package scheduler
