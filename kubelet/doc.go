// Package kubelet is Gantry's node agent. This part is its port to the
// container runtime: Runtime, a narrow pod-level interface shaped like the
// Container Runtime Interface (CRI), with its own small request and status types
// so that runtimes depend neither on the object store nor on the API types.
//
// A pod is a sandbox (its network namespace and IP) holding containers:
//
//	RunPodSandbox → CreateContainer → StartContainer → ContainerStatus …
//	StopContainer(grace) → RemoveContainer → StopPodSandbox → RemovePodSandbox
//
// The runtime keeps no restart bookkeeping: restart counts, back-off, probes and
// pod phases belong to the agent. What the runtime reports is what happened to
// each container: state, exit code, reason (Completed, Error, OOMKilled), start
// and finish times, and the path of its CRI-format log. Sandboxes and containers
// carry the CRI labels (LabelPodUID, LabelContainerName...) so that an agent that
// restarts finds its pods again with ListPodSandboxes and ListContainers.
//
// Implementations:
//   - kubelet/cri: any CRI runtime over gRPC (containerd's CRI plugin, CRI-O).
//   - kubelet/fake: a simulated runtime with scripted behaviour, for tests and for
//     simulating thousands of nodes in one process.
//
// Both pass the same behavioural suite, kubelet/runtimetest.
//
// The agent resolves a pod's DNS (SandboxConfig.DNS, the pod's resolv.conf)
// and merges its security contexts (ContainerConfig.Security: users, groups,
// capabilities named without the CAP_ prefix, privileged, read-only root, no
// new privileges); runtimes apply them, refusing bad ones with ErrInvalid
// (Validate: IP name servers, at most MaxDNSServers servers and MaxDNSSearches
// search domains, known capabilities or ALL, IDs within 0..MaxID). A
// privileged container needs a privileged sandbox (SandboxConfig.Privileged).
// Images report their configured user (Image.User), which the agent checks
// runAsNonRoot against.
//
// Errors wrap the sentinels ErrNotFound, ErrAlreadyExists, ErrInvalid (naming the
// field), ErrUnavailable and ErrTimeout.
//
// # Usage
//
//	rt, err := cri.Dial(ctx, "/run/containerd/containerd.sock", cri.Options{})
//	if err != nil { … }
//	defer rt.Close()
//	sb, err := rt.RunPodSandbox(ctx, kubelet.SandboxConfig{
//		Name: "web", Namespace: "default", UID: string(pod.UID),
//		LogDirectory: "/var/log/pods/default_web_" + uid,
//		DNS: kubelet.DNSConfig{Servers: []string{"10.96.0.10"}, Searches: []string{"default.svc.cluster.local"}, Options: []string{"ndots:5"}},
//	})
//	// sb.IP is the pod's IP.
//	id, err := rt.CreateContainer(ctx, sb.ID, kubelet.ContainerConfig{
//		Name: "app", Image: "registry.example/app:v1",
//		LogPath: "app/0.log", // a new path per attempt
//		Resources: kubelet.Resources{CPUShares: 512, CPUQuota: 50000, CPUPeriod: 100000, MemoryLimit: 64 << 20},
//		Security: kubelet.SecurityContext{RunAsUser: &uid1000, CapDrop: []string{"ALL"}, ReadOnlyRootFilesystem: true},
//	})
//	err = rt.StartContainer(ctx, id)
//	st, err := rt.ContainerStatus(ctx, id) // st.State, st.ExitCode, st.Reason
//	err = rt.StopContainer(ctx, id, 30*time.Second) // SIGTERM, then SIGKILL after 30 s
//
// Container logs are files in the CRI format; ReadLogs parses them.
package kubelet
