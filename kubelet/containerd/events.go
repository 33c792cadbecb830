package containerd

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/containerd/containerd/api/events"
	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/typeurl/v2"

	"github.com/gantry-sdk/gantry/kubelet"
)

// watchEvents follows containerd's OOM and exit events of the namespace until
// Close, resubscribing when the stream breaks (a daemon restart). An OOM is
// recorded in memory at once and in the container's labels for the Runtimes
// that come after.
func (r *Runtime) watchEvents(ready chan<- struct{}) {
	ctx := r.nsCtx(r.ctx)
	first := true
	for ctx.Err() == nil {
		sub, cancel := context.WithCancel(ctx)
		ch, errs := r.c.Subscribe(sub, `topic=="/tasks/oom"`, `topic=="/tasks/exit"`)
		if first {
			close(ready)
			first = false
		}
	loop:
		for {
			select {
			case env := <-ch:
				if env == nil || env.Namespace != r.ns {
					continue
				}
				ev, err := typeurl.UnmarshalAny(env.Event)
				if err != nil {
					continue
				}
				switch e := ev.(type) {
				case *events.TaskOOM:
					r.mu.Lock()
					r.oom[e.ContainerID] = true
					r.mu.Unlock()
					upd := containers.Container{ID: e.ContainerID, Labels: map[string]string{keyOOM: "true"}}
					_, _ = r.c.ContainerService().Update(ctx, upd, "labels."+keyOOM)
				case *events.TaskExit:
					if e.ID == e.ContainerID {
						r.mu.Lock()
						ch := r.exitSeenLocked(e.ContainerID)
						select {
						case <-ch:
						default:
							close(ch)
						}
						r.mu.Unlock()
					}
				}
			case <-errs:
				break loop
			case <-ctx.Done():
				break loop
			}
		}
		cancel()
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (r *Runtime) exitSeenLocked(id string) chan struct{} {
	ch, ok := r.exitsSeen[id]
	if !ok {
		ch = make(chan struct{})
		r.exitsSeen[id] = ch
	}
	return ch
}

// awaitOOM decides between OOMKilled and Error for a container killed by
// SIGKILL: the shim sends the OOM event before the exit event, so once the exit
// event is in, an OOM would have been seen (up to a short bound, for a Runtime
// that missed the exit event).
func (r *Runtime) awaitOOM(ctx context.Context, id string) string {
	r.mu.Lock()
	ch := r.exitSeenLocked(id)
	r.mu.Unlock()
	select {
	case <-ch:
	case <-ctx.Done():
	case <-time.After(300 * time.Millisecond):
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	// Waited once: later calls (an agent's relists) answer at once.
	select {
	case <-ch:
	default:
		close(ch)
	}
	if r.oom[id] {
		return kubelet.ReasonOOMKilled
	}
	return kubelet.ReasonError
}

// oomFromCgroup reads the OOM kill counter of an exited container's memory
// cgroup, which stays until its task is deleted: cgroup v1's
// memory.oom_control, or v2's memory.events (unified or hybrid mount). A
// readable counter is a verdict, kept; an unreadable one (no cgroup path, the
// cgroup gone) leaves the decision to the events.
func (r *Runtime) oomFromCgroup(id, cgroupPath string) bool {
	if cgroupPath == "" || !filepath.IsAbs(cgroupPath) {
		return false
	}
	for _, f := range []string{
		filepath.Join("/sys/fs/cgroup/memory", cgroupPath, "memory.oom_control"),
		filepath.Join("/sys/fs/cgroup", cgroupPath, "memory.events"),
		filepath.Join("/sys/fs/cgroup/unified", cgroupPath, "memory.events"),
	} {
		n, ok := readOOMKills(f)
		if !ok {
			continue
		}
		r.mu.Lock()
		r.oomCgroup[id] = n > 0
		if n > 0 {
			r.oom[id] = true
		}
		r.mu.Unlock()
		return n > 0
	}
	return false
}

// readOOMKills returns the "oom_kill N" counter of a cgroup file.
func readOOMKills(path string) (int, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "oom_kill "); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			return n, err == nil
		}
	}
	return 0, false
}

// hasOOMVerdict reports whether the container's cgroup decided its OOM kill.
func (r *Runtime) hasOOMVerdict(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.oomCgroup[id]
	return ok
}
