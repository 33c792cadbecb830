package agent

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/kubelet"
	"github.com/gantry-sdk/gantry/kubelet/fake"
	"github.com/gantry-sdk/gantry/kubelet/wschannel"
)

// streamServer runs an agent on the fake runtime with a running pod "shell"
// (container "app") and serves its Handler.
func streamServer(t testing.TB) (*harness, *httptest.Server) {
	rt := fake.New(fake.Options{Images: []string{"app:v1"}})
	h := newHarnessOn(t, rt, "n1", Options{})
	h.rt = rt
	h.rt.Script("app", fake.Behavior{Exec: func(cmd []string) kubelet.ExecResult {
		if cmd[0] == "fail" {
			return kubelet.ExecResult{Stdout: []byte("partial\n"), Stderr: []byte("bad\n"), ExitCode: 3}
		}
		return kubelet.ExecResult{}
	}})
	h.create(simplePod("shell", "app"))
	h.eventually(10*time.Second, "running", h.phase("shell", core.PodRunning))
	srv := httptest.NewServer(h.agent.Handler())
	t.Cleanup(srv.Close)
	return h, srv
}

func wsURL(srv *httptest.Server, path string) string {
	return "ws" + strings.TrimPrefix(srv.URL, "http") + path
}

// dialRaw opens a WebSocket with one subprotocol and returns it with the
// handshake's response.
func dialRaw(t *testing.T, url, protocol string) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	if protocol != "" {
		d.Subprotocols = []string{protocol}
	}
	ws, resp, err := d.Dial(url, nil)
	if err == nil {
		t.Cleanup(func() { ws.Close() })
		require.NoError(t, ws.SetReadDeadline(time.Now().Add(10*time.Second)))
	}
	return ws, resp, err
}

func send(t *testing.T, ws *websocket.Conn, msg ...byte) {
	t.Helper()
	require.NoError(t, ws.WriteMessage(websocket.BinaryMessage, msg))
}

func recv(t *testing.T, ws *websocket.Conn) []byte {
	t.Helper()
	kind, msg, err := ws.ReadMessage()
	require.NoError(t, err)
	require.Equal(t, websocket.BinaryMessage, kind)
	return msg
}

func TestExecHandler(t *testing.T) {
	_, srv := streamServer(t)

	t.Run("v5 stdin echo and close", func(t *testing.T) {
		ws, _, err := dialRaw(t, wsURL(srv, "/exec/default/shell/app?command=cat&stdin=1&stdout=1&stderr=1"), wschannel.ProtocolV5)
		require.NoError(t, err)
		assert.Equal(t, wschannel.ProtocolV5, ws.Subprotocol())
		send(t, ws, append([]byte{0}, "hello\n"...)...)
		assert.Equal(t, append([]byte{1}, "hello\n"...), recv(t, ws))
		send(t, ws, 255, 0) // close stdin: cat exits
		assert.Equal(t, append([]byte{3}, `{"metadata":{},"status":"Success"}`...), recv(t, ws))
		_, _, err = ws.ReadMessage()
		assert.True(t, websocket.IsCloseError(err, websocket.CloseNormalClosure), "%v", err)
	})
	t.Run("v4 non-zero exit status", func(t *testing.T) {
		ws, _, err := dialRaw(t, wsURL(srv, "/exec/default/shell/app?command=fail&command=now&stdout=1&stderr=1"), wschannel.ProtocolV4)
		require.NoError(t, err)
		out := map[byte]string{}
		var status []byte
		for status == nil {
			msg := recv(t, ws)
			if msg[0] == 3 {
				status = msg[1:]
				continue
			}
			out[msg[0]] += string(msg[1:])
		}
		assert.Equal(t, map[byte]string{1: "partial\n", 2: "bad\n"}, out)
		var st map[string]any
		require.NoError(t, json.Unmarshal(status, &st))
		assert.Equal(t, "Failure", st["status"])
		assert.Equal(t, "NonZeroExitCode", st["reason"])
		assert.Equal(t, map[string]any{"causes": []any{map[string]any{"reason": "ExitCode", "message": "3"}}}, st["details"])
		assert.Contains(t, st["message"], "exit code 3")
	})
	t.Run("tty resize", func(t *testing.T) {
		ws, _, err := dialRaw(t, wsURL(srv, "/exec/default/shell/app?command=cat&stdin=true&stdout=true&tty=true"), wschannel.ProtocolV5)
		require.NoError(t, err)
		send(t, ws, append([]byte{4}, `{"Width":123,"Height":45}`...)...)
		assert.Equal(t, append([]byte{1}, "45 123\r\n"...), recv(t, ws))
		send(t, ws, 255, 0)
		assert.Equal(t, byte(3), recv(t, ws)[0])
	})
	t.Run("client", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := wschannel.Dial(ctx, wsURL(srv, "/exec/default/shell/app?command=fail&stdout=1&stderr=1"), wschannel.ProtocolV5, wschannel.ProtocolV4)
		require.NoError(t, err)
		defer c.Close()
		var stdout, stderr bytes.Buffer
		code, err := wschannel.Exec(ctx, c, kubelet.ExecStreams{Stdout: &stdout, Stderr: &stderr})
		require.NoError(t, err)
		assert.EqualValues(t, 3, code)
		assert.Equal(t, "partial\n", stdout.String())
		assert.Equal(t, "bad\n", stderr.String())

		c, err = wschannel.Dial(ctx, wsURL(srv, "/exec/default/shell/app?command=cat&stdin=1&stdout=1"), wschannel.ProtocolV5)
		require.NoError(t, err)
		defer c.Close()
		stdout.Reset()
		code, err = wschannel.Exec(ctx, c, kubelet.ExecStreams{Stdin: strings.NewReader("a\nb"), Stdout: &stdout})
		require.NoError(t, err)
		assert.EqualValues(t, 0, code)
		assert.Equal(t, "a\nb", stdout.String())
	})
	t.Run("bad requests", func(t *testing.T) {
		for _, tc := range []struct {
			path, protocol string
			code           int
			body           string
		}{
			{"/exec/default/shell/app?stdout=1", wschannel.ProtocolV5, 400, "command is required"},
			{"/exec/default/shell/app?command=ls", wschannel.ProtocolV5, 400, "stdin, stdout or stderr"},
			{"/exec/default/shell/app?command=ls&stdout=1&stderr=1&tty=1", wschannel.ProtocolV5, 400, "tty and stderr"},
			{"/exec/default/shell/app?command=ls&stdout=1", "v3.channel.k8s.io", 400, "subprotocols"},
			{"/exec/default/shell/app?command=ls&stdout=1", "", 400, "subprotocols"},
			{"/exec/default/shell/nope?command=ls&stdout=1", wschannel.ProtocolV5, 404, `container "nope"`},
			{"/exec/default/other/app?command=ls&stdout=1", wschannel.ProtocolV5, 404, "not running"},
			{"/exec/default/shell/wrong-uid/app?command=ls&stdout=1", wschannel.ProtocolV5, 404, "not running"},
		} {
			assertRefused(t, srv, tc.path, tc.protocol, tc.code, tc.body)
		}
		resp, err := http.Get(srv.URL + "/containerLogs/default/shell/nope")
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusNotFound, resp.StatusCode, "logs are served by Handler too")
		resp, err = http.Post(srv.URL+"/exec/default/shell/app?command=ls&stdout=1", "", nil)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "SPDY is not spoken")
	})
}

// echoServer answers each line with "echo: " and the line.
func echoServer(c net.Conn) {
	defer c.Close()
	sc := bufio.NewScanner(c)
	for sc.Scan() {
		if _, err := c.Write([]byte("echo: " + sc.Text() + "\n")); err != nil {
			return
		}
	}
}

func TestPortForwardHandler(t *testing.T) {
	h, srv := streamServer(t)
	h.rt.ServePort(8080, echoServer)
	h.rt.ServePort(8081, func(c net.Conn) { c.Write([]byte("banner\n")); c.Close() })

	t.Run("raw frames", func(t *testing.T) {
		ws, _, err := dialRaw(t, wsURL(srv, "/portForward/default/shell?port=8080"), wschannel.ProtocolV4)
		require.NoError(t, err)
		assert.Equal(t, []byte{0, 0x90, 0x1f}, recv(t, ws), "data channel opens with port 8080 little-endian")
		assert.Equal(t, []byte{1, 0x90, 0x1f}, recv(t, ws), "error channel too")
		send(t, ws, append([]byte{0}, "ping\n"...)...)
		assert.Equal(t, append([]byte{0}, "echo: ping\n"...), recv(t, ws))
	})
	t.Run("no subprotocol offered", func(t *testing.T) {
		ws, _, err := dialRaw(t, wsURL(srv, "/portForward/default/shell?port=8080"), "")
		require.NoError(t, err)
		assert.Equal(t, []byte{0, 0x90, 0x1f}, recv(t, ws), "binary framing as with v4")
	})
	t.Run("two ports, one closes", func(t *testing.T) {
		ws, _, err := dialRaw(t, wsURL(srv, "/portForward/default/shell?port=8080,8081"), wschannel.ProtocolV4)
		require.NoError(t, err)
		got := map[byte][]byte{}
		for range 5 { // four headers and the banner, in any order across ports
			msg := recv(t, ws)
			got[msg[0]] = append(got[msg[0]], msg[1:]...)
		}
		assert.Equal(t, map[byte][]byte{0: {0x90, 0x1f}, 1: {0x90, 0x1f}, 2: append([]byte{0x91, 0x1f}, "banner\n"...), 3: {0x91, 0x1f}}, got)
		send(t, ws, append([]byte{0}, "still\n"...)...)
		assert.Equal(t, append([]byte{0}, "echo: still\n"...), recv(t, ws))
	})
	t.Run("refused port", func(t *testing.T) {
		ws, _, err := dialRaw(t, wsURL(srv, "/portForward/default/shell?port=9090"), wschannel.ProtocolV4)
		require.NoError(t, err)
		recv(t, ws)
		recv(t, ws)
		msg := recv(t, ws)
		assert.Equal(t, byte(1), msg[0])
		assert.Contains(t, string(msg[1:]), "connection refused")
		_, _, err = ws.ReadMessage()
		assert.True(t, websocket.IsCloseError(err, websocket.CloseNormalClosure), "%v", err)
	})
	t.Run("client", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := wschannel.Dial(ctx, wsURL(srv, "/portForward/default/shell?port=8080"), wschannel.ProtocolV4)
		require.NoError(t, err)
		conn := wschannel.DialPort(c, 8080)
		defer conn.Close()
		require.NoError(t, conn.SetDeadline(time.Now().Add(10*time.Second)))
		_, err = conn.Write([]byte("one\ntwo\n"))
		require.NoError(t, err)
		br := bufio.NewReader(conn)
		for _, want := range []string{"echo: one\n", "echo: two\n"} {
			line, err := br.ReadString('\n')
			require.NoError(t, err)
			assert.Equal(t, want, line)
		}

		c, err = wschannel.Dial(ctx, wsURL(srv, "/portForward/default/shell?port=9090"), wschannel.ProtocolV4)
		require.NoError(t, err)
		conn = wschannel.DialPort(c, 9090)
		defer conn.Close()
		_, err = conn.Read(make([]byte, 1))
		assert.ErrorContains(t, err, "connection refused")
	})
	t.Run("bad requests", func(t *testing.T) {
		for _, tc := range []struct {
			path string
			code int
			body string
		}{
			{"/portForward/default/shell", 400, "port is required"},
			{"/portForward/default/shell?port=0", 400, `"0" is not in 1-65535`},
			{"/portForward/default/shell?port=80,x", 400, `"x"`},
			{"/portForward/default/other?port=80", 404, "no ready sandbox"},
		} {
			assertRefused(t, srv, tc.path, wschannel.ProtocolV4, tc.code, tc.body)
		}
	})
}

// assertRefused dials path with protocol and expects the upgrade refused
// with code and a body containing msg.
func assertRefused(t *testing.T, srv *httptest.Server, path, protocol string, code int, msg string) {
	t.Helper()
	_, resp, err := dialRaw(t, wsURL(srv, path), protocol)
	require.Error(t, err, path)
	require.NotNil(t, resp, path)
	body := new(bytes.Buffer)
	_, _ = body.ReadFrom(resp.Body)
	resp.Body.Close()
	assert.Equal(t, code, resp.StatusCode, path)
	assert.Contains(t, body.String(), msg, path)
}
