package containerd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/containerd/containerd/api/services/tasks/v1"
	"github.com/containerd/containerd/v2/pkg/cio"
	"github.com/containerd/containerd/v2/pkg/oci"
	"github.com/containerd/errdefs/pkg/errgrpc"
	"github.com/containerd/typeurl/v2"
	"golang.org/x/sys/unix"

	"github.com/gantry-sdk/gantry/kubelet"
)

// Exec implements kubelet.Streaming: an exec process of the container's task
// with its stdio on FIFOs (a pseudo-terminal of the shim's with TTY).
func (r *Runtime) Exec(ctx context.Context, id string, cmd []string, s kubelet.ExecStreams) (int32, error) {
	if len(cmd) == 0 {
		return 0, fmt.Errorf("%w: exec in %s: command is empty", kubelet.ErrInvalid, id)
	}
	rec, err := r.containerRecord(ctx, id)
	if err != nil {
		return 0, err
	}
	ctx = r.nsCtx(ctx)
	if rec.Spec == nil {
		return 0, fmt.Errorf("containerd: exec in %s: container has no spec", id)
	}
	var spec oci.Spec
	if err := typeurl.UnmarshalTo(rec.Spec, &spec); err != nil {
		return 0, fmt.Errorf("containerd: exec in %s: spec: %w", id, err)
	}
	proc := *spec.Process
	proc.Args, proc.Terminal = cmd, s.TTY
	procAny, err := typeurl.MarshalAny(&proc)
	if err != nil {
		return 0, err
	}
	execID := "exec-" + randomID()[:16]

	// The shim keeps its own end of the stdin FIFO open, so the process sees
	// EOF only after CloseIO: stdinDone tells when the caller's stdin ended.
	stdinDone := make(chan struct{})
	var stdin io.Reader
	if s.Stdin != nil {
		stdin = &eofNotifier{r: s.Stdin, done: stdinDone}
	}
	stdout, stderr := s.Stdout, s.Stderr
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil || s.TTY {
		stderr = io.Discard
	}
	opts := []cio.Opt{cio.WithStreams(stdin, stdout, stderr), cio.WithFIFODir(filepath.Join(r.stateDir, "fifo"))}
	if s.TTY {
		opts = append(opts, cio.WithTerminal)
	}
	pio, err := cio.NewCreator(opts...)(execID)
	if err != nil {
		return 0, fmt.Errorf("containerd: exec in %s: fifos: %w", id, err)
	}
	defer pio.Close()
	cfg := pio.Config()
	_, err = r.c.TaskService().Exec(ctx, &tasks.ExecProcessRequest{
		ContainerID: id, ExecID: execID, Terminal: cfg.Terminal,
		Stdin: cfg.Stdin, Stdout: cfg.Stdout, Stderr: cfg.Stderr, Spec: typeurl.MarshalProto(procAny),
	})
	if err != nil {
		pio.Cancel()
		return 0, r.wrap("exec in", id, errgrpc.ToNative(err))
	}
	defer func() {
		_, _ = r.c.TaskService().DeleteProcess(context.WithoutCancel(ctx), &tasks.DeleteProcessRequest{ContainerID: id, ExecID: execID})
	}()
	// Not ctx: after a cancel, Wait still has to see the killed process exit.
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var helpers sync.WaitGroup
	defer helpers.Wait()
	defer cancel()
	exited := make(chan *tasks.WaitResponse, 1)
	waitErr := make(chan error, 1)
	helpers.Go(func() {
		resp, err := r.c.TaskService().Wait(wctx, &tasks.WaitRequest{ContainerID: id, ExecID: execID})
		if err != nil {
			waitErr <- errgrpc.ToNative(err)
			return
		}
		exited <- resp
	})
	if _, err := r.c.TaskService().Start(ctx, &tasks.StartRequest{ContainerID: id, ExecID: execID}); err != nil {
		pio.Cancel()
		return 0, r.wrap("exec in", id, errgrpc.ToNative(err))
	}
	if stdin != nil {
		helpers.Go(func() {
			select {
			case <-stdinDone:
				_, _ = r.c.TaskService().CloseIO(wctx, &tasks.CloseIORequest{ContainerID: id, ExecID: execID, Stdin: true})
			case <-wctx.Done():
			}
		})
	}
	if s.TTY && s.Resize != nil {
		helpers.Go(func() {
			for {
				select {
				case sz, ok := <-s.Resize:
					if !ok {
						return
					}
					_, _ = r.c.TaskService().ResizePty(wctx, &tasks.ResizePtyRequest{
						ContainerID: id, ExecID: execID, Width: uint32(sz.Width), Height: uint32(sz.Height),
					})
				case <-wctx.Done():
					return
				}
			}
		})
	}
	select {
	case resp := <-exited:
		pio.Wait()
		return int32(resp.ExitStatus), nil
	case err := <-waitErr:
		pio.Cancel()
		return 0, r.wrap("exec in", id, err)
	case <-ctx.Done():
	}
	_, _ = r.c.TaskService().Kill(context.WithoutCancel(ctx), &tasks.KillRequest{ContainerID: id, ExecID: execID, Signal: uint32(syscall.SIGKILL)})
	select {
	case <-exited:
	case <-waitErr:
	case <-time.After(5 * time.Second):
	}
	pio.Cancel()
	return 0, fmt.Errorf("containerd: exec in %s: %w", id, ctx.Err())
}

// eofNotifier closes done when r reports EOF.
type eofNotifier struct {
	r    io.Reader
	done chan struct{}
	once sync.Once
}

func (e *eofNotifier) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err == io.EOF {
		e.once.Do(func() { close(e.done) })
	}
	return n, err
}

// DialPod implements kubelet.Streaming: the socket is created inside the
// sandbox's network namespace, so ports bound to its loopback answer.
func (r *Runtime) DialPod(ctx context.Context, id string, port uint16) (net.Conn, error) {
	rec, err := r.sandboxRecord(ctx, id)
	if err != nil {
		return nil, err
	}
	netns := rec.Labels[keyNetns]
	if rec.Labels[keyState] != stateReady || netns == "" {
		return nil, fmt.Errorf("%w: containerd: dial sandbox %s: not ready", kubelet.ErrInvalid, id)
	}
	// localhost as kubectl users mean it: IPv4's, else IPv6's loopback.
	c, err := dialInNetns(ctx, netns, net.JoinHostPort("127.0.0.1", strconv.Itoa(int(port))))
	if errors.Is(err, syscall.ECONNREFUSED) {
		c, err = dialInNetns(ctx, netns, net.JoinHostPort("::1", strconv.Itoa(int(port))))
	}
	if err != nil {
		return nil, fmt.Errorf("containerd: dial sandbox %s port %d: %w", id, port, err)
	}
	return c, nil
}

// dialInNetns dials addr from a thread moved into the network namespace at
// path. The thread stays locked and dies with its goroutine: no thread of the
// process is ever left in a pod's namespace.
func dialInNetns(ctx context.Context, path, addr string) (net.Conn, error) {
	type result struct {
		c   net.Conn
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		f, err := os.Open(path)
		if err != nil {
			done <- result{err: err}
			return
		}
		err = unix.Setns(int(f.Fd()), unix.CLONE_NEWNET)
		f.Close()
		if err != nil {
			done <- result{err: fmt.Errorf("setns %s: %w", path, err)}
			return
		}
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", addr)
		done <- result{c, err}
	}()
	res := <-done
	return res.c, res.err
}
