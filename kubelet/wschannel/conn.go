package wschannel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/gantry-sdk/gantry/kubelet"
)

// maxMessage bounds what a peer may send in one message: stdin chunks and
// forwarded data arrive in pieces far below it.
const maxMessage = 4 << 20

// Conn is a WebSocket speaking a channel protocol. Its writes are safe for
// concurrent use; ReadFrame is for one reader.
type Conn struct {
	ws   *websocket.Conn
	wmu  sync.Mutex
	rbuf []byte // the last message read, reused
}

// NewConn wraps ws.
func NewConn(ws *websocket.Conn) *Conn {
	ws.SetReadLimit(maxMessage)
	return &Conn{ws: ws}
}

// Upgrader accepts the channel protocols; an exec's handler offers
// ProtocolV5 then ProtocolV4, a port-forward's ProtocolV4.
func Upgrader(protocols ...string) *websocket.Upgrader {
	// Callers are the API server and clients already authorised by the
	// agent's listener, not browsers: the Origin check does not apply.
	return &websocket.Upgrader{Subprotocols: protocols, CheckOrigin: func(*http.Request) bool { return true }}
}

// Dial opens a channel-protocol WebSocket to url (ws:// or http://),
// offering protocols in order.
func Dial(ctx context.Context, url string, protocols ...string) (*Conn, error) {
	if len(url) > 4 && url[:4] == "http" {
		url = "ws" + url[4:]
	}
	d := websocket.Dialer{Subprotocols: protocols, HandshakeTimeout: 10 * time.Second}
	ws, resp, err := d.DialContext(ctx, url, nil)
	if err != nil {
		if resp != nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			return nil, fmt.Errorf("wschannel: dial %s: %w: %s: %s", url, err, resp.Status, body)
		}
		return nil, fmt.Errorf("wschannel: dial %s: %w", url, err)
	}
	return NewConn(ws), nil
}

// Protocol is the negotiated subprotocol.
func (c *Conn) Protocol() string { return c.ws.Subprotocol() }

// WriteFrame sends data on stream as one binary message.
func (c *Conn) WriteFrame(stream byte, data []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	w, err := c.ws.NextWriter(websocket.BinaryMessage)
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte{stream}); err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		return err
	}
	return w.Close()
}

// ReadFrame reads the next message; its Data is valid until the next
// ReadFrame. Empty messages (which some servers send to announce a stream)
// are skipped; text messages (base64 protocols, not spoken here) are an
// error.
func (c *Conn) ReadFrame() (Frame, error) {
	for {
		kind, r, err := c.ws.NextReader()
		if err != nil {
			return Frame{}, err
		}
		if kind != websocket.BinaryMessage {
			return Frame{}, fmt.Errorf("%w: text message on a binary channel protocol", ErrFrame)
		}
		c.rbuf = c.rbuf[:0]
		for {
			if len(c.rbuf) == cap(c.rbuf) {
				c.rbuf = append(c.rbuf, 0)[:len(c.rbuf)]
			}
			n, err := r.Read(c.rbuf[len(c.rbuf):cap(c.rbuf)])
			c.rbuf = c.rbuf[:len(c.rbuf)+n]
			if err == io.EOF {
				break
			}
			if err != nil {
				return Frame{}, err
			}
		}
		msg := c.rbuf
		if len(msg) == 0 || len(msg) == 1 && msg[0] != StreamClose {
			continue
		}
		return DecodeFrame(msg)
	}
}

// Close sends a normal close message and closes the connection.
func (c *Conn) Close() error {
	c.wmu.Lock()
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	c.wmu.Unlock()
	return c.ws.Close()
}

// StreamWriter writes each Write as one message on stream.
func (c *Conn) StreamWriter(stream byte) io.Writer { return streamWriter{c, stream} }

type streamWriter struct {
	c      *Conn
	stream byte
}

func (w streamWriter) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if err := w.c.WriteFrame(w.stream, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// IsClosed reports whether err is the end of a WebSocket by its peer.
func IsClosed(err error) bool {
	var ce *websocket.CloseError
	return errors.As(err, &ce) || errors.Is(err, net.ErrClosed) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// ErrNoStatus: the server closed an exec session without a Status.
var ErrNoStatus = errors.New("wschannel: exec ended without a status")

// Exec is the client side of an exec session on c: stdin and resizes go out,
// stdout and stderr come in, and the Status gives the exit code. Stdin's EOF
// is sent on ProtocolV5 only (v4 has no way to say it). Ending ctx closes c.
// A Read of streams.Stdin still blocked when the session ends is left to the
// stdin's owner to close.
func Exec(ctx context.Context, c *Conn, streams kubelet.ExecStreams) (int32, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var closed atomic.Bool
	stop := context.AfterFunc(ctx, func() { closed.Store(true); c.ws.Close() })
	defer stop()
	if streams.Stdin != nil {
		go func() {
			buf := make([]byte, 32<<10)
			for {
				n, err := streams.Stdin.Read(buf)
				if n > 0 && c.WriteFrame(StreamStdin, buf[:n]) != nil {
					return
				}
				if err != nil {
					if errors.Is(err, io.EOF) && c.Protocol() == ProtocolV5 {
						_ = c.WriteFrame(StreamClose, []byte{StreamStdin})
					}
					return
				}
			}
		}()
	}
	if streams.Resize != nil {
		go func() {
			for {
				select {
				case sz, ok := <-streams.Resize:
					if !ok || c.WriteFrame(StreamResize, EncodeResize(sz)) != nil {
						return
					}
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	write := func(w io.Writer, p []byte) error {
		if w == nil {
			return nil
		}
		_, err := w.Write(p)
		return err
	}
	for {
		f, err := c.ReadFrame()
		if err != nil {
			if closed.Load() {
				return 0, ctx.Err()
			}
			if IsClosed(err) {
				return 0, ErrNoStatus
			}
			return 0, err
		}
		switch f.Stream {
		case StreamStdout:
			err = write(streams.Stdout, f.Data)
		case StreamStderr:
			err = write(streams.Stderr, f.Data)
		case StreamError:
			st, err := DecodeStatus(f.Data)
			if err != nil {
				return 0, err
			}
			return st.ExitCode()
		}
		if err != nil {
			return 0, fmt.Errorf("wschannel: exec output: %w", err)
		}
	}
}

// DialPort is the client side of a one-port port-forward session on c
// (ProtocolV4 framing: data on channel 0, errors on channel 1, each opened
// by the port's header). The returned conn's Read reports the server's error
// message, if any, in place of EOF. Closing it closes c.
func DialPort(c *Conn, port uint16) net.Conn {
	user, inner := net.Pipe()
	fc := &forwardConn{Conn: user}
	go func() { // the server's side: headers checked, data into the pipe
		defer inner.Close()
		seen := [2]bool{}
		for {
			f, err := c.ReadFrame()
			if err != nil {
				return
			}
			if f.Stream > 1 {
				continue
			}
			data := f.Data
			if !seen[f.Stream] {
				p, rest, err := ParsePortHeader(data)
				if err != nil || p != port {
					fc.fail(fmt.Errorf("%w: channel %d opened for port %d, want %d (%v)", ErrPort, f.Stream, p, port, err))
					return
				}
				seen[f.Stream], data = true, rest
			}
			if len(data) == 0 {
				continue
			}
			if f.Stream == 1 {
				fc.fail(fmt.Errorf("wschannel: port-forward %d: %s", port, data))
				return
			}
			if _, err := inner.Write(data); err != nil {
				return
			}
		}
	}()
	go func() { // the caller's writes out as data messages
		defer c.Close()
		buf := make([]byte, 32<<10)
		for {
			n, err := inner.Read(buf)
			if n > 0 && c.WriteFrame(0, buf[:n]) != nil {
				inner.Close()
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return fc
}

type forwardConn struct {
	net.Conn
	err atomic.Pointer[error]
}

func (f *forwardConn) fail(err error) { f.err.Store(&err) }

func (f *forwardConn) Read(p []byte) (int, error) {
	n, err := f.Conn.Read(p)
	if err != nil {
		if e := f.err.Load(); e != nil {
			return n, *e
		}
	}
	return n, err
}
