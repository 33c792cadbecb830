// Package runtimetest is the behavioural suite every kubelet.Runtime passes:
// sandbox lifecycle and IPs, exit codes and reasons, OOM kills under a 32 MiB
// limit, graceful stop (SIGTERM handled) and SIGKILL after the grace period,
// exec, CRI-format logs, adoption by a new client, images (import, status,
// remove), errors; and, for real runtimes, the host reaching a pod's IP, two
// containers of a pod talking over localhost, and cgroup limits seen from inside.
//
// Pod DNS and security contexts: every runtime rejects bad ones naming the
// field (SecurityContextValidation); real runtimes show from inside the
// container (ExecSync with busybox) the user and groups (`id`), RunAsGroup
// alone keeping the image's user, a read-only root refusing writes while its
// volumes take them, capabilities dropped (chown fails without CHOWN), added
// (NET_ADMIN) and reduced to one (drop ALL), NoNewPrivs, a privileged
// container's capabilities and devices, the pod's resolv.conf (and the host's
// when DNS is unset), a bind-mounted /etc/hosts, and the image's USER
// (ImageUser: Image.User and the container's uid). Each case makes its own pod
// and images, so a runtime can run any one alone (-run 'TestX/ImageUser');
// the real ones run when Harness.PodSecurity says the runtime implements them.
//
// # Usage
//
//	func TestRuntimeSuite(t *testing.T) {
//		rt := fake.New(fake.Options{Images: []string{"busybox"}})
//		runtimetest.Run(t, runtimetest.Harness{
//			Runtime: rt, Image: "busybox", LogDir: t.TempDir(), Script: rt.Script,
//			Reconnect: func(ctx context.Context) (kubelet.Runtime, func(), error) { return rt, func() {}, nil },
//		})
//	}
//
// A simulated runtime gets each scenario's behaviour through Harness.Script; a
// real one runs the scenario's busybox command.
package runtimetest
