// Package containerd implements kubelet.Runtime on containerd's native API
// (github.com/containerd/containerd/v2/client and its gRPC services), designed
// for pod start latency. Against containerd's CRI plugin it drops what a pod
// start waits for there:
//
//   - No pause container. A sandbox is a network namespace (a bind-mounted
//     netns file, loopback up) attached to the pod network through CNI (any
//     configuration list; bridge + host-local in the tests), recorded as a
//     containerd container without a task. The pod's containers join that
//     namespace by path, so they share localhost and the pod IP.
//   - A pool of ready networks. Options.PoolSize networks (namespace, veth, IP,
//     record) are provisioned in the background; RunPodSandbox on a pool hit is
//     one update of the record's labels, and the pool refills behind it. A miss
//     provisions on demand (namespace + CNI ADD, the "cold" figure).
//   - One shim per pod. Every container of a sandbox carries the
//     io.containerd.runc.v2.group annotation, so containerd-shim-runc-v2 (1.6
//     and later) serves the whole pod from one shim process.
//   - Few round trips. Create is one record write and one snapshot Prepare;
//     start is one task Create and one Start (the task API directly, with the
//     rootfs mounts kept from Prepare); the image's config and chain ID are read
//     once per image digest.
//
// Pod identity and state live in mutable containerd labels (gantry.dev/*; the
// caller's labels under "label/", annotations under "annotation/"), so a
// Runtime dialled after an agent restart lists and adopts every pod and
// container from containerd alone. Pool records carry their owner's PID: a
// Runtime collects those of a process that is gone (a crash) when it dials.
//
// Logs are written in the CRI format by this process from the task's FIFOs; a
// Runtime that closes stops copying without removing the FIFOs (the shim keeps
// them open, the container blocks only once the pipe buffer fills) and the next
// Runtime resumes the copy. OOM kills come from containerd's /tasks/oom events,
// recorded in memory and in the container's labels. A negative OOMScoreAdj is
// refused (machines without CAP_SYS_RESOURCE cannot set one).
//
// Not done here (the CRI plugin does them): /etc/hosts and /etc/resolv.conf
// for the pod, the image's USER, a shared IPC namespace, TTY attach, seccomp
// and AppArmor profiles.
//
// # Usage
//
//	conf, _ := os.ReadFile("/etc/cni/net.d/10-bridge.conflist")
//	rt, err := containerd.Dial(ctx, "/run/containerd/containerd.sock",
//		containerd.Network{ConfList: conf}, containerd.Options{PoolSize: 4})
//	if err != nil { … }
//	defer rt.Close() // tears down the unused pool networks; pods keep running
//	sb, err := rt.RunPodSandbox(ctx, kubelet.SandboxConfig{Name: "web", Namespace: "default", UID: uid})
//	id, err := rt.CreateContainer(ctx, sb.ID, kubelet.ContainerConfig{Name: "app", Image: "busybox:latest", Command: []string{"sleep", "3600"}})
//	err = rt.StartContainer(ctx, id)
//
// Tests run it against the private containerd of kubelet/cri/critest through
// kubelet/containerd/containerdtest.
package containerd
