package containerd

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	tasks "github.com/containerd/containerd/api/services/tasks/v1"
	tasktypes "github.com/containerd/containerd/api/types/task"
	"github.com/containerd/containerd/v2/pkg/cio"
	"github.com/containerd/errdefs/pkg/errgrpc"

	"github.com/gantry-sdk/gantry/kubelet"
)

// maxLogLine splits longer lines into partial (P) lines, as the CRI plugin does.
const maxLogLine = 16 << 10

// taskLog copies a task's stdout and stderr from its FIFOs into a CRI-format
// log file. The copy runs in this process: a Runtime that closes stops it
// without removing the FIFOs (the shim keeps them open), and the next Runtime
// resumes it.
type taskLog struct {
	io   cio.IO
	file *os.File // nil: output discarded
	out  *criWriter
	err  *criWriter
	done chan struct{}
}

func (r *Runtime) newTaskLog(id, path string) (*taskLog, error) {
	tl := &taskLog{done: make(chan struct{})}
	if err := tl.open(path); err != nil {
		return nil, fmt.Errorf("containerd: container %s: log: %w", id, err)
	}
	io, err := cio.NewCreator(cio.WithStreams(nil, tl.out, tl.err), cio.WithFIFODir(filepath.Join(r.stateDir, "fifo")))(id)
	if err != nil {
		tl.closeFile()
		return nil, fmt.Errorf("containerd: container %s: fifos: %w", id, err)
	}
	tl.io = io
	return tl, nil
}

func (tl *taskLog) open(path string) error {
	var mu sync.Mutex
	if path != "" {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
		if err != nil {
			return err
		}
		tl.file = f
	}
	tl.out = &criWriter{mu: &mu, f: tl.file, stream: "stdout"}
	tl.err = &criWriter{mu: &mu, f: tl.file, stream: "stderr"}
	return nil
}

func (tl *taskLog) closeFile() {
	tl.out.flush()
	tl.err.flush()
	if tl.file != nil {
		tl.file.Close()
	}
}

// follow registers tl and closes its file once the task's output ends.
func (r *Runtime) follow(id string, tl *taskLog) {
	r.mu.Lock()
	r.logs[id] = tl
	r.mu.Unlock()
	r.logWG.Go(func() {
		tl.io.Wait()
		tl.closeFile()
		close(tl.done)
	})
}

// stop ends the copy now, keeping the FIFOs for a successor.
func (tl *taskLog) stop() {
	tl.io.Cancel()
	<-tl.done
}

// discard ends a copy that was never followed (the task did not start) and
// removes its FIFOs.
func (tl *taskLog) discard() {
	tl.io.Cancel()
	tl.io.Wait()
	tl.closeFile()
	tl.io.Close()
}

// finish waits up to d for the output of an exited task to drain, then
// removes the FIFOs.
func (tl *taskLog) finish(d time.Duration) {
	select {
	case <-tl.done:
	case <-time.After(d):
		tl.io.Cancel()
		<-tl.done
	}
	tl.io.Close()
}

// resumeLogs attaches to the FIFOs of the running containers of the namespace
// (an agent that restarted keeps their logs flowing).
func (r *Runtime) resumeLogs(ctx context.Context) error {
	ctx = r.nsCtx(ctx)
	resp, err := r.c.TaskService().List(ctx, &tasks.ListTasksRequest{})
	if err != nil {
		return r.wrap("list tasks", "", errgrpc.ToNative(err))
	}
	fifoDir := filepath.Join(r.stateDir, "fifo") + "/"
	for _, p := range resp.Tasks {
		if p.Status != tasktypes.Status_RUNNING || !strings.HasPrefix(p.Stdout, fifoDir) {
			continue
		}
		id := taskID(p)
		rec, err := r.containerRecord(ctx, id)
		if err != nil {
			continue
		}
		tl := &taskLog{done: make(chan struct{})}
		if err := tl.open(rec.Labels[keyLogPath]); err != nil {
			return fmt.Errorf("containerd: container %s: log: %w", id, err)
		}
		dir := filepath.Dir(p.Stdout)
		set := cio.NewFIFOSet(cio.Config{Stdout: p.Stdout, Stderr: p.Stderr}, func() error { return os.RemoveAll(dir) })
		io, err := cio.NewAttach(cio.WithStreams(nil, tl.out, tl.err))(set)
		if err != nil {
			tl.closeFile()
			return fmt.Errorf("containerd: container %s: attach: %w", id, err)
		}
		tl.io = io
		r.follow(id, tl)
	}
	return nil
}

// criWriter writes one stream of a task's output as CRI-format lines.
type criWriter struct {
	mu      *sync.Mutex // shared by the two streams of a file
	f       *os.File
	stream  string
	partial []byte
	buf     []byte
}

func (w *criWriter) Write(p []byte) (int, error) {
	n := len(p)
	if w.f == nil {
		return n, nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.partial = append(w.partial, p...)
			// Strictly longer: a remainder always follows as the F line that ends it.
			for len(w.partial) > maxLogLine {
				w.write(w.partial[:maxLogLine], true)
				w.partial = append(w.partial[:0], w.partial[maxLogLine:]...)
			}
			break
		}
		line := p[:i]
		if len(w.partial) > 0 {
			line = append(w.partial, line...)
			w.partial = w.partial[:0]
		}
		for len(line) > maxLogLine {
			w.write(line[:maxLogLine], true)
			line = line[maxLogLine:]
		}
		w.write(line, false)
		p = p[i+1:]
	}
	// Write errors (a full disk) must not stall the container: the line is lost.
	return n, nil
}

func (w *criWriter) write(line []byte, partial bool) {
	w.buf = kubelet.AppendLogLine(w.buf[:0], time.Now(), w.stream, line)
	if partial {
		// AppendLogLine writes full lines: turn its " F " tag into " P ".
		tag := bytes.Index(w.buf, []byte(" F "))
		w.buf[tag+1] = 'P'
	}
	_, _ = w.f.Write(w.buf)
}

// flush writes what is left of an unterminated last line.
func (w *criWriter) flush() {
	if w.f == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.partial) > 0 {
		w.write(w.partial, false)
		w.partial = w.partial[:0]
	}
}

// cappedBuffer keeps the first 16 MiB of an exec's output.
type cappedBuffer struct{ bytes.Buffer }

func (b *cappedBuffer) Write(p []byte) (int, error) {
	if room := 16<<20 - b.Len(); room < len(p) {
		if room > 0 {
			b.Buffer.Write(p[:room])
		}
		return len(p), nil
	}
	return b.Buffer.Write(p)
}
