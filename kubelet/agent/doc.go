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
//   - Static pods from a manifest directory, mirrored into the store; container
//     logs over HTTP (LogsHandler); a restarted agent adopts what the runtime
//     runs (labels on sandboxes and containers) and restarts nothing.
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
//	a, err := agent.New("node-1", s, rt, agent.Options{RootDir: "/var/lib/gantry"})
//	if err != nil { ... }
//	go http.ListenAndServe(":10250", a.LogsHandler())
//	err = a.Run(ctx) // until ctx ends
package agent
