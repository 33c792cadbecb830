package fake

import (
	"context"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"syscall"

	"github.com/gantry-sdk/gantry/kubelet"
)

// Exec implements kubelet.Streaming with scripted processes:
//   - "cat" copies stdin to stdout until stdin's EOF, then exits 0;
//   - any other command answers what the Behavior's Exec returns (exit 0 and
//     no output without one), after draining stdin;
//   - with TTY, every size received on Resize is written to stdout as
//     "ROWS COLS\r\n" (what `stty size` prints) while the process runs, and
//     stderr goes to stdout, as on a terminal.
//
// Ending ctx ends the process; a stdin blocked in Read is then left to its
// owner to close.
func (r *Runtime) Exec(ctx context.Context, id string, cmd []string, s kubelet.ExecStreams) (int32, error) {
	if len(cmd) == 0 {
		return 0, fmt.Errorf("%w: exec in %s: command is empty", kubelet.ErrInvalid, id)
	}
	r.mu.Lock()
	ct, ok := r.containers[id]
	if !ok {
		r.mu.Unlock()
		return 0, fmt.Errorf("fake: exec %s: %w", id, kubelet.ErrNotFound)
	}
	state, exec := ct.status.State, ct.behavior.Exec
	r.mu.Unlock()
	if state != kubelet.ContainerRunning {
		return 0, fmt.Errorf("%w: fake: exec %s: container is %s", kubelet.ErrInvalid, id, state)
	}
	stdout := &lockedWriter{w: s.Stdout}
	stderr := io.Writer(&lockedWriter{w: s.Stderr})
	if s.TTY {
		stderr = stdout
	}
	// The terminal's echo of sizes ends before the process's last output.
	resizing, stopResizing := context.WithCancel(ctx)
	var resizer sync.WaitGroup
	endResizes := func() { stopResizing(); resizer.Wait() }
	defer endResizes()
	if s.TTY && s.Resize != nil {
		resizer.Go(func() {
			for {
				select {
				case sz, ok := <-s.Resize:
					if !ok {
						return
					}
					fmt.Fprintf(stdout, "%d %d\r\n", sz.Height, sz.Width)
				case <-resizing.Done():
					return
				}
			}
		})
	}
	// stdin is consumed apart, so that ctx can end a process blocked on it.
	copied := make(chan error, 1)
	go func() {
		var err error
		switch {
		case s.Stdin == nil:
		case cmd[0] == "cat":
			_, err = io.Copy(stdout, s.Stdin)
		default:
			_, err = io.Copy(io.Discard, s.Stdin)
		}
		copied <- err
	}()
	select {
	case err := <-copied:
		if err != nil {
			return 0, fmt.Errorf("fake: exec %s: stdin: %w", id, err)
		}
	case <-ctx.Done():
		return 0, fmt.Errorf("fake: exec %s: %w", id, ctx.Err())
	}
	endResizes()
	if cmd[0] == "cat" || exec == nil {
		return 0, nil
	}
	res := exec(slices.Clone(cmd))
	if _, err := stdout.Write(res.Stdout); err != nil {
		return 0, err
	}
	if _, err := stderr.Write(res.Stderr); err != nil {
		return 0, err
	}
	return res.ExitCode, nil
}

// lockedWriter serialises the writes of a process's output and the resizes'
// echo; a nil w discards.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.w == nil || len(p) == 0 {
		return len(p), nil
	}
	return l.w.Write(p)
}

// ServePort makes port of every ready sandbox answer with serve, called in a
// goroutine of its own per connection with the pod's end of an in-memory
// pipe; a nil serve closes the port again.
func (r *Runtime) ServePort(port uint16, serve func(net.Conn)) {
	if serve == nil {
		r.ports.Delete(port)
		return
	}
	r.ports.Store(port, serve)
}

// DialPod implements kubelet.Streaming with the backends of ServePort; a port
// nobody serves refuses the connection (syscall.ECONNREFUSED).
func (r *Runtime) DialPod(ctx context.Context, id string, port uint16) (net.Conn, error) {
	r.mu.Lock()
	sb, ok := r.sandboxes[id]
	ready := ok && sb.status.State == kubelet.SandboxReady
	r.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("fake: dial sandbox %s: %w", id, kubelet.ErrNotFound)
	}
	if !ready {
		return nil, fmt.Errorf("%w: fake: dial sandbox %s: not ready", kubelet.ErrInvalid, id)
	}
	serve, ok := r.ports.Load(port)
	if !ok {
		return nil, fmt.Errorf("fake: dial sandbox %s port %d: %w", id, port, syscall.ECONNREFUSED)
	}
	client, pod := net.Pipe()
	go serve.(func(net.Conn))(pod)
	return client, nil
}
