// Package cri implements kubelet.Runtime over the Container Runtime Interface
// (k8s.io/cri-api v1, gRPC on a unix socket). It is tested against containerd's
// CRI plugin, which brings the sandbox, its network namespace and CNI, CRI-format
// logs, exec and OOM reasons; CRI-O serves the same API and works through the
// same seam.
//
// Resources map to CRI's LinuxContainerResources (CPU shares, CFS quota and
// period, memory limit). A negative OOMScoreAdj is refused before it reaches the
// runtime: machines without CAP_SYS_RESOURCE cannot set one (containerd then
// fails the sandbox with "can't get final child's PID from pipe: EOF"), so run
// containerd with restrict_oom_score_adj = true as critest does. CRI counts
// stop grace periods and exec timeouts in whole seconds: they are rounded up.
//
// Exec and DialPod go through the runtime's streaming server, as the kubelet
// does: CRI's Exec and PortForward return its URL, which is spoken to over
// WebSocket with Kubernetes' channel protocols (kubelet/wschannel; the server
// dials inside the pod's network namespace). Servers that speak only
// v4.channel.k8s.io (containerd 1.6 and 1.7) cannot be told that stdin ended,
// so a process reading stdin to its end waits for more; v5.channel.k8s.io
// servers can. A refused port-forward shows as the first Read's error.
//
// Pod DNS becomes the sandbox's DnsConfig (none when unset: containerd then
// copies the host's resolv.conf). The security context maps to CRI's
// LinuxContainerSecurityContext: run_as_user, run_as_group,
// supplemental_groups, privileged, capabilities (names as Kubernetes writes
// them; containerd adds the CAP_ prefix and understands ALL), readonly_rootfs
// and no_new_privs. CRI wants a user with a group: when only RunAsGroup is
// set, the image's user is sent with it, as the kubelet does. A privileged
// container needs a privileged sandbox (SandboxConfig.Privileged, kept in the
// AnnotationPrivileged annotation for clients that adopt the sandbox).
// Image.User is what CRI's ImageStatus reports: the numeric uid or the user
// name of the image's USER, without its group.
//
// ImageFsInfo is CRI's ImageFsInfo (the snapshotter's directory and the bytes
// its snapshots take; containerd's CRI plugin refreshes that figure every
// 10 s, so it reads 0 just after a start) with the capacity and free space
// from a statfs of that directory, which must be visible to this process, as
// it is to a kubelet. Image.Pinned is CRI's pinned (containerd 1.7+ pins its
// sandbox image; 1.6 pins nothing).
//
// CRI has no image import call. ImportImage goes through an Importer;
// ContainerdImporter runs containerd's own importer, `ctr images import`, which
// ships in the same package as the daemon, into the CRI namespace k8s.io. That
// path was chosen over containerd's Go client because the client costs 55-70
// modules and about 45 s of cold build on a 2-core machine (and its go.mod pins
// the Go toolchain), against no module at all for a command that is always
// installed beside the daemon; the CRI path itself costs only cri-api and grpc.
// The image names are read from the archive (kubelet.ImageArchiveNames) while it
// streams to ctr. For CRI-O, supply an Importer that loads into its storage
// (for example with skopeo or podman); pulling from a registry works everywhere
// through CRI.
//
// A client keeps each sandbox's config, which CRI wants again at
// CreateContainer; a client that did not create the sandbox (an agent that
// restarted) rebuilds it from the sandbox's status, the log directory coming
// from the AnnotationLogDirectory annotation.
//
// # Usage
//
//	rt, err := cri.Dial(ctx, "/run/containerd/containerd.sock", cri.Options{
//		Importer: cri.ContainerdImporter{Address: "/run/containerd/containerd.sock"},
//	})
//	if err != nil { … }
//	defer rt.Close()
//	f, _ := os.Open("app.oci.tar")
//	images, err := rt.ImportImage(ctx, f) // OCI image layout or docker save tar
//	sb, err := rt.RunPodSandbox(ctx, kubelet.SandboxConfig{Name: "web", Namespace: "default", UID: uid})
//
// Tests start a private containerd with kubelet/cri/critest.
package cri
