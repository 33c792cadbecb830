// Package fake is a simulated kubelet.Runtime: a real in-memory implementation
// (sandboxes with IPs from a pod CIDR, containers with states, exit codes,
// reasons, timestamps, CRI-format log files, images) whose processes are
// replaced by scripted Behaviors: start delay, exit with a code after a
// duration, OOM kill, what SIGTERM does, exec (probe) results, log lines. Time
// comes from an injected Clock; ManualClock moves only when told, so timelines
// of minutes run in microseconds. State changes are timers, not goroutines, so
// one process can hold thousands of pods (for simulating many nodes).
//
// Nothing runs, so a security context or a resolver configuration is not
// enforced; it is recorded as given: SandboxConfig and ContainerConfig return
// what a sandbox or container was created with, for tests to check what the
// agent asked for. Image users (Image.User, what runAsNonRoot is checked
// against) come from Options.ImageUsers or SetImageUser; and, like CRI
// runtimes, a privileged container needs a privileged sandbox. Image sizes
// (Options.ImageSizes) and the image filesystem's capacity and other content
// (Options.ImageFsCapacity, SetImageFs) are scripted, so that ImageFsInfo can
// drive image garbage collection over its thresholds.
//
// Exec streams are scripted too: "cat" echoes stdin, other commands answer
// the Behavior's Exec, a terminal echoes each resize as "ROWS COLS"; DialPod
// reaches in-memory servers registered with ServePort.
//
// It passes the same behavioural suite as the CRI runtime (kubelet/runtimetest),
// less the tests of real networks and cgroups.
//
// # Usage
//
//	clock := fake.NewManualClock(time.Now())
//	rt := fake.New(fake.Options{Clock: clock, Images: []string{"app:v1"}})
//	rt.Script("app", fake.Behavior{Exit: true, ExitAfter: 3 * time.Second, ExitCode: 1})
//	rt.ScriptImage("hog:v1", fake.Behavior{OOM: true, ExitAfter: time.Second})
//	sb, _ := rt.RunPodSandbox(ctx, kubelet.SandboxConfig{Name: "p", Namespace: "ns", UID: "u1"})
//	id, _ := rt.CreateContainer(ctx, sb.ID, kubelet.ContainerConfig{Name: "app", Image: "app:v1"})
//	_ = rt.StartContainer(ctx, id)
//	clock.Advance(3 * time.Second)
//	st, _ := rt.ContainerStatus(ctx, id) // Exited, code 1, reason Error
//	cfg, _ := rt.ContainerConfig(id)      // cfg.Security as the agent set it
package fake
