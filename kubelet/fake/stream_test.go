package fake_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/kubelet"
	"github.com/gantry-sdk/gantry/kubelet/fake"
)

func TestExecStreams(t *testing.T) {
	rt := fake.New(fake.Options{Images: []string{image}})
	rt.Script("sh", fake.Behavior{Exec: func(cmd []string) kubelet.ExecResult {
		return kubelet.ExecResult{Stdout: []byte(strings.Join(cmd, " ") + "\n"), Stderr: []byte("e\n"), ExitCode: 3}
	}})
	ctx := context.Background()
	sb := newPod(t, rt, "exec")
	id, err := rt.CreateContainer(ctx, sb.ID, kubelet.ContainerConfig{Name: "sh", Image: image})
	require.NoError(t, err)
	_, err = rt.Exec(ctx, id, []string{"cat"}, kubelet.ExecStreams{})
	assert.ErrorIs(t, err, kubelet.ErrInvalid, "not running yet")
	require.NoError(t, rt.StartContainer(ctx, id))

	var out, errOut bytes.Buffer
	code, err := rt.Exec(ctx, id, []string{"cat"}, kubelet.ExecStreams{Stdin: strings.NewReader("in"), Stdout: &out})
	require.NoError(t, err)
	assert.EqualValues(t, 0, code)
	assert.Equal(t, "in", out.String())

	out.Reset()
	code, err = rt.Exec(ctx, id, []string{"run", "x"}, kubelet.ExecStreams{Stdout: &out, Stderr: &errOut})
	require.NoError(t, err)
	assert.EqualValues(t, 3, code)
	assert.Equal(t, "run x\n", out.String())
	assert.Equal(t, "e\n", errOut.String())

	out.Reset()
	pr, pw := io.Pipe()
	resize := make(chan kubelet.TerminalSize)
	done := make(chan error, 1)
	go func() {
		_, err := rt.Exec(ctx, id, []string{"run"}, kubelet.ExecStreams{Stdin: pr, Stdout: &out, TTY: true, Resize: resize})
		done <- err
	}()
	resize <- kubelet.TerminalSize{Width: 80, Height: 24}
	resize <- kubelet.TerminalSize{Width: 100, Height: 30} // the first was written once this is taken
	require.NoError(t, pw.Close())
	require.NoError(t, <-done)
	assert.Equal(t, "24 80\r\n30 100\r\nrun\ne\n", out.String(), "sizes, then stdout and stderr on the terminal")

	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	pr, pw = io.Pipe()
	defer pw.Close()
	_, err = rt.Exec(cctx, id, []string{"cat"}, kubelet.ExecStreams{Stdin: pr})
	assert.ErrorIs(t, err, context.DeadlineExceeded)

	_, err = rt.Exec(ctx, "nope", []string{"cat"}, kubelet.ExecStreams{})
	assert.ErrorIs(t, err, kubelet.ErrNotFound)
	_, err = rt.Exec(ctx, id, nil, kubelet.ExecStreams{})
	assert.ErrorIs(t, err, kubelet.ErrInvalid)
}

func TestDialPod(t *testing.T) {
	rt := fake.New(fake.Options{Images: []string{image}})
	ctx := context.Background()
	sb := newPod(t, rt, "dial")
	rt.ServePort(80, func(c net.Conn) {
		defer c.Close()
		_, _ = io.Copy(c, c)
	})
	c, err := rt.DialPod(ctx, sb.ID, 80)
	require.NoError(t, err)
	_, err = c.Write([]byte("ping"))
	require.NoError(t, err)
	buf := make([]byte, 4)
	_, err = io.ReadFull(c, buf)
	require.NoError(t, err)
	assert.Equal(t, "ping", string(buf))
	require.NoError(t, c.Close())

	_, err = rt.DialPod(ctx, sb.ID, 81)
	assert.ErrorIs(t, err, syscall.ECONNREFUSED)
	_, err = rt.DialPod(ctx, "nope", 80)
	assert.ErrorIs(t, err, kubelet.ErrNotFound)
	rt.ServePort(80, nil)
	_, err = rt.DialPod(ctx, sb.ID, 80)
	assert.ErrorIs(t, err, syscall.ECONNREFUSED)
	require.NoError(t, rt.StopPodSandbox(ctx, sb.ID))
	_, err = rt.DialPod(ctx, sb.ID, 80)
	assert.ErrorIs(t, err, kubelet.ErrInvalid, "not ready")
}
