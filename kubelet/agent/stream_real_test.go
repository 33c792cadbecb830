package agent

import (
	"context"
	"io"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/kubelet"
	"github.com/gantry-sdk/gantry/kubelet/wschannel"
)

// execAndPortForward runs a pod with a shell and a web server bound to the
// pod's loopback, then reaches both through the agent's Handler as the API
// server would: an exec with stdin and an exit code, and a port-forward.
func execAndPortForward(t *testing.T, h *harness) {
	p := busyboxPod("streams", "exec sleep 3600", "exec httpd -f -p 127.0.0.1:8080 -h /var/www")
	// Never: the harness removes the containers before it stops the agent,
	// which must not start them again (a leftover breaks a rerun, -count=2).
	p.Spec.RestartPolicy = core.RestartPolicyNever
	h.create(p)
	h.eventually(60*time.Second, "running", h.phase("streams", core.PodRunning))
	srv := httptest.NewServer(h.agent.Handler())
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	q := url.Values{"command": {"sh", "-c", "read x; echo $x; echo oops >&2; exit 3"}, "stdin": {"1"}, "stdout": {"1"}, "stderr": {"1"}}
	c, err := wschannel.Dial(ctx, wsURL(srv, "/exec/default/streams/c0?"+q.Encode()), wschannel.ProtocolV5, wschannel.ProtocolV4)
	require.NoError(t, err)
	defer c.Close()
	var stdout, stderr strings.Builder
	code, err := wschannel.Exec(ctx, c, kubelet.ExecStreams{Stdin: strings.NewReader("hello\n"), Stdout: &stdout, Stderr: &stderr})
	require.NoError(t, err)
	assert.EqualValues(t, 3, code)
	assert.Equal(t, "hello\n", stdout.String())
	assert.Equal(t, "oops\n", stderr.String())

	var body []byte
	require.Eventually(t, func() bool {
		c, err := wschannel.Dial(ctx, wsURL(srv, "/portForward/default/streams?port=8080"), wschannel.ProtocolV4)
		if err != nil {
			return false
		}
		conn := wschannel.DialPort(c, 8080)
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := conn.Write([]byte("GET /index.html HTTP/1.0\r\n\r\n")); err != nil {
			return false
		}
		body, err = io.ReadAll(conn)
		return err == nil && strings.HasSuffix(string(body), "gantry\n")
	}, 20*time.Second, 100*time.Millisecond, "last answer %q", body)
	assert.Contains(t, string(body), " 200 OK")
}

func TestNativeExecAndPortForward(t *testing.T) {
	h, _ := newNativeHarness(t, "native-streams")
	execAndPortForward(t, h)
}

func TestRealExecAndPortForward(t *testing.T) {
	h := newRealHarness(t, "real-streams")
	execAndPortForward(t, h)
}
