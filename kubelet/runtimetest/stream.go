package runtimetest

import (
	"bytes"
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/kubelet"
)

// syncBuffer is a bytes.Buffer safe for a writer and a polling reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func (s *suite) execStream(t *testing.T) {
	s.needReal(t)
	ctx := ctxFor(t)
	sb := s.pod(t, ctx)
	id := s.run(t, ctx, sb, "shell", []string{"sleep", "3600"}, kubelet.Resources{})
	s.waitRunning(t, ctx, id)

	t.Run("stdin line, exit code", func(t *testing.T) {
		var stdout, stderr syncBuffer
		code, err := s.h.Runtime.Exec(ctx, id, []string{"sh", "-c", "read x; echo $x; echo oops >&2; exit 3"}, kubelet.ExecStreams{
			Stdin: strings.NewReader("hello\n"), Stdout: &stdout, Stderr: &stderr,
		})
		require.NoError(t, err)
		assert.EqualValues(t, 3, code)
		assert.Equal(t, "hello\n", stdout.String())
		assert.Equal(t, "oops\n", stderr.String())
	})
	t.Run("interactive stdin", func(t *testing.T) {
		pr, pw := io.Pipe()
		defer pw.Close()
		var stdout syncBuffer
		done := make(chan error, 1)
		var code int32
		go func() {
			var err error
			code, err = s.h.Runtime.Exec(ctx, id, []string{"sh", "-c", `while read x; do [ "$x" = q ] && exit 7; echo "got $x"; done`},
				kubelet.ExecStreams{Stdin: pr, Stdout: &stdout})
			done <- err
		}()
		_, err := pw.Write([]byte("one\n"))
		require.NoError(t, err)
		// The first line is answered before the second is sent: a stream, not a batch.
		require.Eventually(t, func() bool { return stdout.String() == "got one\n" }, 10*time.Second, 10*time.Millisecond)
		_, err = pw.Write([]byte("two\nq\n"))
		require.NoError(t, err)
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-ctx.Done():
			t.Fatal("exec did not end")
		}
		assert.EqualValues(t, 7, code)
		assert.Equal(t, "got one\ngot two\n", stdout.String())
	})
	t.Run("stdin EOF", func(t *testing.T) {
		if s.h.NoStdinClose {
			t.Skip("the runtime cannot tell a process that its stdin ended")
		}
		var stdout syncBuffer
		code, err := s.h.Runtime.Exec(ctx, id, []string{"cat"}, kubelet.ExecStreams{Stdin: strings.NewReader("a\nb"), Stdout: &stdout})
		require.NoError(t, err)
		assert.EqualValues(t, 0, code)
		assert.Equal(t, "a\nb", stdout.String())
	})
	t.Run("cancel ends the session", func(t *testing.T) {
		cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		_, err := s.h.Runtime.Exec(cctx, id, []string{"sleep", "3600"}, kubelet.ExecStreams{})
		require.ErrorIs(t, err, context.DeadlineExceeded)
	})
	t.Run("errors", func(t *testing.T) {
		_, err := s.h.Runtime.Exec(ctx, id, nil, kubelet.ExecStreams{})
		assert.ErrorIs(t, err, kubelet.ErrInvalid)
		_, err = s.h.Runtime.Exec(ctx, "0123456789abcdef0123456789abcdef", []string{"true"}, kubelet.ExecStreams{})
		assert.ErrorIs(t, err, kubelet.ErrNotFound)
	})
}

func (s *suite) execStreamTTY(t *testing.T) {
	s.needReal(t)
	ctx := ctxFor(t)
	sb := s.pod(t, ctx)
	id := s.run(t, ctx, sb, "tty", []string{"sleep", "3600"}, kubelet.Resources{})
	s.waitRunning(t, ctx, id)
	pr, pw := io.Pipe()
	resize := make(chan kubelet.TerminalSize, 1)
	resize <- kubelet.TerminalSize{Width: 123, Height: 45}
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		_, err := s.h.Runtime.Exec(ctx, id, []string{"sh", "-c", `while read x; do [ "$x" = q ] && exit 0; stty size; done`}, kubelet.ExecStreams{
			Stdin: pr, Stdout: &out, TTY: true, Resize: resize,
		})
		done <- err
	}()
	// The resize travels apart from stdin: ask again until the size shows.
	require.Eventually(t, func() bool {
		if _, err := pw.Write([]byte("\n")); err != nil {
			return false
		}
		time.Sleep(50 * time.Millisecond)
		return strings.Contains(out.String(), "45 123")
	}, 10*time.Second, 10*time.Millisecond, "output: %q", out.String())
	// A terminal: the line discipline turns \n into \r\n.
	assert.Contains(t, out.String(), "45 123\r\n")
	_, err := pw.Write([]byte("q\n"))
	require.NoError(t, err)
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-ctx.Done():
		t.Fatal("exec did not end")
	}
	pw.Close()
}

func (s *suite) portForwardLocalhost(t *testing.T) {
	s.needReal(t)
	ctx := ctxFor(t)
	sb := s.pod(t, ctx)
	// Bound to the pod's loopback only: unreachable from the host by pod IP.
	s.run(t, ctx, sb, "web", []string{"httpd", "-f", "-p", "127.0.0.1:8082", "-h", "/var/www"}, kubelet.Resources{})
	var body []byte
	require.Eventually(t, func() bool {
		c, err := s.h.Runtime.DialPod(ctx, sb.ID, 8082)
		if err != nil {
			return false
		}
		defer c.Close()
		if _, err := c.Write([]byte("GET /index.html HTTP/1.0\r\n\r\n")); err != nil {
			return false
		}
		body, err = io.ReadAll(c)
		return err == nil && len(body) > 0
	}, 20*time.Second, 50*time.Millisecond)
	assert.True(t, strings.HasPrefix(string(body), "HTTP/1.1 200 OK"), "%q", body)
	// The proof that the dial happened inside the pod: its IP does not answer.
	if c, err := net.DialTimeout("tcp", net.JoinHostPort(sb.IP, "8082"), 2*time.Second); err == nil {
		c.Close()
		t.Errorf("port 8082 bound to the pod's loopback answers on the pod IP %s", sb.IP)
	}
	assert.True(t, strings.HasSuffix(string(body), "\r\n\r\ngantry\n"), "%q", body)

	// A runtime may report the refusal at the dial or at the first read.
	c, err := s.h.Runtime.DialPod(ctx, sb.ID, 8083)
	if err == nil {
		_, err = c.Read(make([]byte, 1))
		c.Close()
	}
	assert.Error(t, err, "nothing listens on 8083")
	_, err = s.h.Runtime.DialPod(ctx, "0123456789abcdef0123456789abcdef", 8082)
	assert.ErrorIs(t, err, kubelet.ErrNotFound)
}
