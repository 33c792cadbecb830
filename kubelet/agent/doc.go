// Package agent is Gantry's node agent (the kubelet): it registers its Node,
// heartbeats, and runs the pods bound to it through a kubelet.Runtime
// (kubelet/cri for real containers, kubelet/fake for tests and simulation).
//
// What it does:
//   - Node: created if missing; capacity and allocatable (cpu, memory, pods=110,
//     ephemeral-storage) and conditions Ready, MemoryPressure, DiskPressure,
//     PIDPressure, NetworkUnavailable from a Machine (the host's /proc by
//     default); status every 5 s and a Lease in kube-node-lease renewed every
//     5 s, retrying with back-off from 200 ms doubling to 7 s.
//   - Pods: an informer on pods with spec.nodeName=<node> feeds a
//     reconcile.Controller on pod keys (level-triggered). A sync makes the
//     sandbox, runs init containers one by one, then app containers in
//     parallel; restarts exited containers by restartPolicy with crash-loop
//     back-off (immediate, then 10 s doubling to 5 min, CrashLoopBackOff);
//     runs liveness, readiness and startup probes (exec, HTTP GET, TCP); writes
//     the full status through UpdateStatus and records Events (Pulling, Pulled,
//     Created, Started, Killing, BackOff, Unhealthy). A periodic relist of the
//     runtime notices exits. Deletion stops containers gracefully (SIGTERM,
//     deletionGracePeriodSeconds, SIGKILL) and then deletes the object with
//     grace 0. A pod that finished (Succeeded, Failed) keeps its stopped
//     sandbox, containers and logs until its object is deleted.
//   - Configuration: env, envFrom and valueFrom (configMapKeyRef, secretKeyRef,
//     fieldRef, resourceFieldRef), service variables, ConfigMap, Secret,
//     downward API and emptyDir volumes (rewritten in place through an atomic
//     ..data symlink swap when the object changes), requests and limits as
//     cgroup shares, quota and memory limit.
//   - DNS and names, as the kubelet: dnsPolicy ClusterFirst (the default)
//     resolves through Options.ClusterDNS with the search list
//     <ns>.svc.<ClusterDomain>, svc.<ClusterDomain>, <ClusterDomain>, then the
//     node's, and ndots:5; without ClusterDNS it falls back to Default with a
//     MissingClusterDNS warning. Default copies the node's resolv.conf
//     (Options.ResolvConf), None starts empty, ClusterFirstWithHostNet is
//     ClusterFirst; spec.dnsConfig is merged in (options override same-named
//     ones) and lists beyond 3 servers or 32 search domains are cut with a
//     DNSConfigForming warning. The hostname is spec.hostname or the pod's
//     name (63 characters at most), with setHostnameAsFQDN honoured. Each pod
//     gets a managed /etc/hosts (RootDir/pods/<uid>/etc-hosts: localhost, the
//     pod IP with hostname and <hostname>.<subdomain>.<ns>.svc.<domain>, then
//     spec.hostAliases), bind-mounted into every container that does not
//     mount its own /etc/hosts. Host-network pods are not supported.
//   - Security contexts: the pod's runAsUser, runAsGroup, supplementalGroups
//     and fsGroup (an extra group; emptyDir volumes are given to it, setgid),
//     overridden by the container's runAsUser and runAsGroup; the container's
//     capabilities (CAP_ prefix and case optional), privileged (the pod's
//     sandbox is privileged then), readOnlyRootFilesystem and
//     allowPrivilegeEscalation: false. runAsNonRoot is checked before a
//     container is created, against runAsUser or the image's USER (a name
//     cannot be verified): a violation leaves the container Waiting with
//     reason CreateContainerConfigError and the kubelet's message, and a
//     Failed event. ConfigMap, Secret and downward API files are 0644, so
//     fsGroup does not change them.
//   - Image garbage collection, as the kubelet's (policy in kubelet/imagegc):
//     at start and every Options.ImageGCPeriod (5 min) the agent lists the
//     runtime's images and containers and reads the image filesystem
//     (Runtime.ImageFsInfo). When its usage, 100 - available*100/capacity,
//     is at or over ImageGC.HighThresholdPercent (85) it removes unused
//     images, least recently used first (never used before used), until the
//     usage would be down to LowThresholdPercent (80). Images used by any
//     container (running or exited, of any pod), pinned by the runtime or
//     named in Options.PinnedImages, and images known for less than
//     ImageGC.MinAge (2 min) stay; with ImageGC.MaxAge, images unused that
//     long go whatever the usage. First-seen and last-used times are kept in
//     memory (last used: when the agent makes a container from it, or sees
//     one using it); a restarted agent starts them again from what runs.
//     Each removal is logged; not freeing enough is a FreeDiskSpaceFailed
//     warning on the Node, two failed collections in a row an ImageGCFailed
//     one. CollectImages runs a collection on demand.
//   - Static pods from a manifest directory, mirrored into the store; container
//     logs over HTTP (LogsHandler); a restarted agent adopts what the runtime
//     runs (labels on sandboxes and containers) and restarts nothing.
//   - Handler serves logs, exec and port-forward at the kubelet's paths, for
//     the API server to proxy to: exec over WebSocket v5.channel.k8s.io or
//     v4.channel.k8s.io (stdin, stdout, stderr, tty with resizes, the exit
//     code in the closing Status), port-forward over v4.channel.k8s.io to
//     ports inside the pod's network namespace, its loopback included (see
//     kubelet/wschannel). SPDY is not spoken.
//   - Graceful node shutdown, as the kubelet's GracefulNodeShutdown, on an
//     explicit Shutdown call (there is no systemd inhibitor lock here: the
//     binary running the agent calls it on SIGTERM). Options
//     ShutdownGracePeriod and ShutdownGracePeriodCriticalPods (zero: off,
//     Shutdown only stops the agent) or ShutdownGracePeriodByPodPriority
//     set the periods. The node turns NotReady ("node is shutting down", a
//     Shutdown event on the Node); pods bound to it from then on are
//     rejected (Failed, reason NodeShutdown, "Pod was rejected: Pod was
//     rejected as the node is shutting down."); running pods are terminated
//     in ascending priority groups — regular ones within ShutdownGracePeriod
//     minus ShutdownGracePeriodCriticalPods, then critical ones (priority >=
//     2000000000, or priorityClassName system-cluster-critical or
//     system-node-critical without a resolved priority) within
//     ShutdownGracePeriodCriticalPods — each container getting SIGTERM and,
//     after min(terminationGracePeriodSeconds, the group's period), SIGKILL.
//     They end Failed, reason Terminated, "Pod was terminated in response to
//     imminent node shutdown.", with a DisruptionTarget condition (reason
//     TerminationByKubelet). Then the agent stops, and its Lease with it.
//
// Many agents in one process (simulated nodes) share their ConfigMap, Secret
// and Service informers through Options.Informers; each keeps its own pod
// informer.
//
// Time comes from Options.Clock; under testing/synctest the wall clock is
// fake, which is how the tests run minutes of back-off in milliseconds.
//
// # Usage
//
//	rt := fake.New(fake.Options{Images: []string{"app:v1"}}) // or cri.Dial(...)
//	a, err := agent.New("node-1", s, rt, agent.Options{
//		RootDir:    "/var/lib/gantry",
//		ClusterDNS: []string{"10.96.0.10"}, ClusterDomain: "cluster.local",
//		// Image GC: the kubelet's defaults unless set (85 %, 80 %, 2 min, every 5 min).
//		ImageGC:      imagegc.Policy{HighThresholdPercent: 90, LowThresholdPercent: 70, MaxAge: 7 * 24 * time.Hour},
//		PinnedImages: []string{"registry.k8s.io/pause:3.10"}, // the CRI sandbox image
//	})
//	if err != nil { ... }
//	go http.ListenAndServe(":10250", a.Handler()) // logs, exec, port-forward
//	err = a.Run(ctx) // until ctx ends
//
// Graceful node shutdown: with Options.ShutdownGracePeriod set (say 30 s,
// ShutdownGracePeriodCriticalPods 10 s), the binary calls Shutdown on
// SIGTERM; Run returns once the pods are terminated:
//
//	go func() {
//		sigterm := make(chan os.Signal, 1)
//		signal.Notify(sigterm, syscall.SIGTERM)
//		<-sigterm
//		_ = a.Shutdown(context.Background())
//	}()
package agent
