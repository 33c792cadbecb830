package wschannel

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/gantry-sdk/gantry/kubelet"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// scripted serves one WebSocket per request with script, which gets the
// server's raw connection; received collects what the client sent.
func scripted(t *testing.T, protocols []string, script func(ws *websocket.Conn)) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := Upgrader(protocols...).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		script(ws)
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

func write(ws *websocket.Conn, msg ...byte) { _ = ws.WriteMessage(websocket.BinaryMessage, msg) }

func TestExecClient(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	t.Run("announcements skipped, exit code", func(t *testing.T) {
		url := scripted(t, []string{ProtocolV4}, func(ws *websocket.Conn) {
			write(ws)    // empty
			write(ws, 1) // stdout announced with no data
			write(ws, append([]byte{1}, "out"...)...)
			write(ws, append([]byte{2}, "err"...)...)
			write(ws, append([]byte{3}, ExitStatus([]string{"x"}, 5).Encode()...)...)
		})
		c, err := Dial(ctx, url, ProtocolV5, ProtocolV4)
		require.NoError(t, err)
		defer c.Close()
		assert.Equal(t, ProtocolV4, c.Protocol())
		var out, errOut bytes.Buffer
		code, err := Exec(ctx, c, kubelet.ExecStreams{Stdout: &out, Stderr: &errOut})
		require.NoError(t, err)
		assert.EqualValues(t, 5, code)
		assert.Equal(t, "out", out.String())
		assert.Equal(t, "err", errOut.String())
	})
	t.Run("v5 sends stdin, its close and resizes", func(t *testing.T) {
		got := make(chan [][]byte, 1)
		url := scripted(t, []string{ProtocolV5}, func(ws *websocket.Conn) {
			var msgs [][]byte
			for len(msgs) < 3 {
				_, msg, err := ws.ReadMessage()
				if err != nil {
					break
				}
				msgs = append(msgs, msg)
			}
			got <- msgs
			write(ws, append([]byte{3}, `{"metadata":{},"status":"Success"}`...)...)
		})
		c, err := Dial(ctx, url, ProtocolV5)
		require.NoError(t, err)
		defer c.Close()
		resize := make(chan kubelet.TerminalSize, 1)
		resize <- kubelet.TerminalSize{Width: 10, Height: 20}
		code, err := Exec(ctx, c, kubelet.ExecStreams{Stdin: strings.NewReader("in"), Stdout: &bytes.Buffer{}, TTY: true, Resize: resize})
		require.NoError(t, err)
		assert.EqualValues(t, 0, code)
		msgs := <-got
		// Stdin and its close are ordered; the resize comes from another goroutine.
		assert.ElementsMatch(t, [][]byte{append([]byte{0}, "in"...), {255, 0}, append([]byte{4}, `{"Width":10,"Height":20}`...)}, msgs)
		assert.Less(t, indexOf(msgs, append([]byte{0}, "in"...)), indexOf(msgs, []byte{255, 0}))
	})
	t.Run("closed without status", func(t *testing.T) {
		url := scripted(t, []string{ProtocolV5}, func(ws *websocket.Conn) {
			_ = ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
		})
		c, err := Dial(ctx, url, ProtocolV5)
		require.NoError(t, err)
		defer c.Close()
		_, err = Exec(ctx, c, kubelet.ExecStreams{})
		assert.ErrorIs(t, err, ErrNoStatus)
	})
	t.Run("text message", func(t *testing.T) {
		url := scripted(t, []string{ProtocolV5}, func(ws *websocket.Conn) {
			_ = ws.WriteMessage(websocket.TextMessage, []byte("AWhp"))
			_, _, _ = ws.ReadMessage()
		})
		c, err := Dial(ctx, url, ProtocolV5)
		require.NoError(t, err)
		defer c.Close()
		_, err = Exec(ctx, c, kubelet.ExecStreams{})
		assert.ErrorIs(t, err, ErrFrame)
	})
	t.Run("bad status", func(t *testing.T) {
		url := scripted(t, []string{ProtocolV5}, func(ws *websocket.Conn) {
			write(ws, append([]byte{3}, `{"status":"Maybe"}`...)...)
			_, _, _ = ws.ReadMessage()
		})
		c, err := Dial(ctx, url, ProtocolV5)
		require.NoError(t, err)
		defer c.Close()
		_, err = Exec(ctx, c, kubelet.ExecStreams{})
		assert.ErrorIs(t, err, ErrStatus)
	})
	t.Run("ctx ends the session", func(t *testing.T) {
		url := scripted(t, []string{ProtocolV5}, func(ws *websocket.Conn) { _, _, _ = ws.ReadMessage() })
		c, err := Dial(ctx, url, ProtocolV5)
		require.NoError(t, err)
		defer c.Close()
		cctx, ccancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer ccancel()
		_, err = Exec(cctx, c, kubelet.ExecStreams{})
		assert.ErrorIs(t, err, context.DeadlineExceeded)
	})
	t.Run("dial refused by the server", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no such pod", http.StatusNotFound) }))
		defer srv.Close()
		_, err := Dial(ctx, srv.URL, ProtocolV5)
		assert.ErrorContains(t, err, "404 Not Found: no such pod")
	})
}

func indexOf(msgs [][]byte, m []byte) int {
	for i, x := range msgs {
		if bytes.Equal(x, m) {
			return i
		}
	}
	return -1
}

func TestDialPortClient(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	t.Run("data after headers", func(t *testing.T) {
		url := scripted(t, []string{ProtocolV4}, func(ws *websocket.Conn) {
			write(ws, append([]byte{0}, PortHeader(80)...)...)
			write(ws, append([]byte{1}, PortHeader(80)...)...)
			_, msg, err := ws.ReadMessage()
			if err == nil {
				write(ws, append([]byte{0}, bytes.ToUpper(msg[1:])...)...)
			}
			_, _, _ = ws.ReadMessage()
		})
		c, err := Dial(ctx, url, ProtocolV4)
		require.NoError(t, err)
		conn := DialPort(c, 80)
		defer conn.Close()
		_, err = conn.Write([]byte("abc"))
		require.NoError(t, err)
		buf := make([]byte, 3)
		_, err = conn.Read(buf)
		require.NoError(t, err)
		assert.Equal(t, "ABC", string(buf))
	})
	t.Run("header of another port", func(t *testing.T) {
		url := scripted(t, []string{ProtocolV4}, func(ws *websocket.Conn) {
			write(ws, append([]byte{0}, PortHeader(81)...)...)
			_, _, _ = ws.ReadMessage()
		})
		c, err := Dial(ctx, url, ProtocolV4)
		require.NoError(t, err)
		conn := DialPort(c, 80)
		defer conn.Close()
		_, err = conn.Read(make([]byte, 1))
		assert.ErrorIs(t, err, ErrPort)
		assert.ErrorContains(t, err, "opened for port 81, want 80")
	})
}
