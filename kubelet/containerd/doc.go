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
// Exec runs a task exec process with its stdio on FIFOs (on the shim's
// pseudo-terminal with TTY, resized by ResizePty; stdin's EOF reaches the
// process through CloseIO); ExecSync is an Exec into buffers. DialPod dials
// from a thread moved into the pod's network namespace, so ports bound to the
// pod's loopback are reachable; that thread is never reused.
//
// What a pod's containers share besides the network namespace is pinned the
// same way, per pod and made with the pool's networks: an IPC namespace (a
// bind-mounted nsfs file) and a tmpfs bind-mounted at /dev/shm (64 MiB), so
// the pod's containers share SysV IPC, POSIX message queues and /dev/shm as
// under a pause container; and a pod directory (Options.StateDir/pods/<id>)
// with the pod's resolv.conf (SandboxConfig.DNS, or a copy of the host's) and
// hostname, bind-mounted at /etc/resolv.conf and /etc/hostname (read-only
// under a read-only root, as CRI does) unless a Mount of the container
// targets them (the agent's /etc/hosts is such a Mount). RemovePodSandbox
// releases them; Dial collects those a crash left without a record.
//
// Containers follow the CRI plugin's spec: no /run tmpfs; the user from
// RunAsUser/RunAsGroup or the image's USER ("uid", "uid:gid", names resolved
// from the image's /etc/passwd and /etc/group, read once per image from a
// read-only view, and never for root, the default); supplemental groups;
// capabilities from containerd's default set with CapAdd/CapDrop ("ALL"
// included); Privileged (every capability of the bounding set, the host's
// devices, no masked or read-only paths; only in a privileged sandbox);
// ReadOnlyRootFilesystem; no_new_privs only when asked (Kubernetes'
// allowPrivilegeEscalation defaults to true). Image.User is the image
// config's USER.
//
// Logs are written in the CRI format by this process from the task's FIFOs; a
// Runtime that closes stops copying without removing the FIFOs (the shim keeps
// them open, the container blocks only once the pipe buffer fills) and the next
// Runtime resumes the copy. OOM kills come from containerd's /tasks/oom events,
// recorded in memory and in the container's labels; a kill that no Runtime
// heard (the agent was down) is read from the container's memory cgroup
// (memory.oom_control's, or memory.events', oom_kill counter), which stays
// until the task is deleted. A negative OOMScoreAdj is refused (machines
// without CAP_SYS_RESOURCE cannot set one).
//
// ImageFsInfo sums the snapshotter's Usage over the Runtime's namespace
// (image layers and containers' writable layers) and takes capacity and free
// space from a statfs of the snapshotter's root, which the daemon exports
// (Options.SnapshotterRoot overrides it). Image.Pinned reads the CRI plugin's
// pin label (io.cri-containerd.pinned).
//
// Not done here (the CRI plugin does them): TTY attach, seccomp and AppArmor
// profiles, SELinux labels, user namespaces, and
// the additional groups of root from the image's /etc/group when the user is
// root by number or by default (CRI mounts the image on every create for them).
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
