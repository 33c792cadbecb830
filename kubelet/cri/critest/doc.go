// Package critest runs a private containerd for tests: every path (root, state,
// sockets, runc root, CNI config and IPAM data) under one temporary directory, a
// CNI bridge of its own on a free 10.244.N.0/24 (traffic stays on the machine,
// between the host and the pods' network namespaces), a cgroup parent for the
// test pods, restrict_oom_score_adj on, and test images built locally from the
// static /bin/busybox (no registry is needed): BusyboxImage and the sandbox image
// PauseImage, written as an OCI image-layout tar (WriteOCIArchive) and imported.
//
// Stop removes every pod, stops the daemon, ends the shims it left, unmounts and
// removes its directory, its cgroups and its bridge. The daemon also gets
// SIGTERM if the test binary dies.
//
// Prerequisites (root, containerd, runc, ctr, ip, the CNI plugins in
// /usr/lib/cni, /bin/busybox) are installed by scripts/setup/20-containerd.sh.
// Without them Start returns ErrPrerequisite, and Require skips the test, or
// fails it under CI=true.
//
// # Usage
//
//	var env *critest.Env
//	var startErr error
//
//	func TestMain(m *testing.M) {
//		env, startErr = critest.Start(context.Background(), critest.Options{})
//		code := m.Run()
//		if env != nil {
//			env.Stop()
//		}
//		os.Exit(code)
//	}
//
//	func TestPods(t *testing.T) {
//		critest.Require(t, startErr)
//		rt, err := env.Dial(ctx) // a *cri.Runtime
//		…
//		rt.RunPodSandbox(ctx, kubelet.SandboxConfig{…, CgroupParent: env.CgroupParent, LogDirectory: env.LogDir})
//	}
package critest
