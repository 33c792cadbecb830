// Package runtimetest is the behavioural suite every kubelet.Runtime passes:
// sandbox lifecycle and IPs, exit codes and reasons, OOM kills under a 32 MiB
// limit, graceful stop (SIGTERM handled) and SIGKILL after the grace period,
// exec, CRI-format logs, adoption by a new client, images (import, status,
// remove), errors; and, for real runtimes, the host reaching a pod's IP, two
// containers of a pod talking over localhost, and cgroup limits seen from inside.
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
