package agent

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"

	"github.com/gorilla/websocket"

	"github.com/gantry-sdk/gantry/kubelet"
	"github.com/gantry-sdk/gantry/kubelet/wschannel"
)

// Handler serves the agent's HTTP API at the kubelet's paths, which the API
// server proxies "kubectl logs", "exec" and "port-forward" to:
//
//	GET /containerLogs/{namespace}/{pod}/{container}       (see LogsHandler)
//	GET /exec/{namespace}/{pod}[/{uid}]/{container}?command=...&stdin=1&stdout=1&stderr=1&tty=1
//	GET /portForward/{namespace}/{pod}[/{uid}]?port=8080
//
// Exec and port-forward speak Kubernetes' WebSocket channel protocols
// (wschannel): exec v5.channel.k8s.io or v4.channel.k8s.io, port-forward
// v4.channel.k8s.io (or no subprotocol, the same framing). SPDY and the
// base64 variants are not spoken.
func (a *Agent) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /containerLogs/", a.LogsHandler())
	mux.HandleFunc("/exec/{namespace}/{pod}/{container}", a.serveExec)
	mux.HandleFunc("/exec/{namespace}/{pod}/{uid}/{container}", a.serveExec)
	mux.HandleFunc("/portForward/{namespace}/{pod}", a.servePortForward)
	mux.HandleFunc("/portForward/{namespace}/{pod}/{uid}", a.servePortForward)
	return mux
}

// podLabels selects what the runtime holds of the pod a request names.
func (a *Agent) podLabels(r *http.Request) map[string]string {
	l := map[string]string{LabelNode: a.node, kubelet.LabelPodNamespace: r.PathValue("namespace"), kubelet.LabelPodName: r.PathValue("pod")}
	if uid := r.PathValue("uid"); uid != "" {
		l[kubelet.LabelPodUID] = uid
	}
	return l
}

// requireWebSocket answers a request that cannot become a channel-protocol
// WebSocket and reports false. With anyProtocol, a client offering no
// subprotocol is served the first of protocols, as the kubelet's
// port-forward does.
func requireWebSocket(w http.ResponseWriter, r *http.Request, anyProtocol bool, protocols ...string) bool {
	if !websocket.IsWebSocketUpgrade(r) {
		http.Error(w, fmt.Sprintf("a WebSocket upgrade (%v) is required; SPDY is not supported", protocols), http.StatusBadRequest)
		return false
	}
	if anyProtocol && len(websocket.Subprotocols(r)) == 0 {
		return true
	}
	for _, p := range websocket.Subprotocols(r) {
		if slices.Contains(protocols, p) {
			return true
		}
	}
	http.Error(w, fmt.Sprintf("none of the offered subprotocols %v is supported: want one of %v", websocket.Subprotocols(r), protocols), http.StatusBadRequest)
	return false
}

func boolParam(r *http.Request, name string) bool {
	v := r.URL.Query().Get(name)
	return v == "1" || v == "true"
}

func (a *Agent) serveExec(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	cmd := q["command"]
	stdin, stdout, stderr, tty := boolParam(r, "stdin"), boolParam(r, "stdout"), boolParam(r, "stderr"), boolParam(r, "tty")
	switch {
	case len(cmd) == 0:
		http.Error(w, "query parameter command is required", http.StatusBadRequest)
		return
	case !stdin && !stdout && !stderr:
		http.Error(w, "one of the query parameters stdin, stdout or stderr must be 1", http.StatusBadRequest)
		return
	case tty && stderr:
		http.Error(w, "query parameters tty and stderr cannot both be 1: a terminal has one output", http.StatusBadRequest)
		return
	}
	if !requireWebSocket(w, r, false, wschannel.ProtocolV5, wschannel.ProtocolV4) {
		return
	}
	name := r.PathValue("container")
	l := a.podLabels(r)
	l[kubelet.LabelContainerName] = name
	running := kubelet.ContainerRunning
	cs, err := a.rt.ListContainers(r.Context(), kubelet.ContainerFilter{Labels: l, State: &running})
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	if len(cs) == 0 {
		http.Error(w, fmt.Sprintf("container %q of pod %s/%s is not running", name, l[kubelet.LabelPodNamespace], l[kubelet.LabelPodName]), http.StatusNotFound)
		return
	}
	id := slices.MaxFunc(cs, func(x, y kubelet.ContainerStatus) int { return cmp.Compare(x.Attempt, y.Attempt) }).ID
	ws, err := wschannel.Upgrader(wschannel.ProtocolV5, wschannel.ProtocolV4).Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	conn := wschannel.NewConn(ws)
	defer conn.Close()
	a.execSession(r.Context(), conn, id, cmd, stdin, stdout, stderr, tty)
}

// execSession runs one exec over conn: client messages feed stdin and
// resizes, output goes out as messages, the exit Status last. The client
// going away ends the exec.
func (a *Agent) execSession(ctx context.Context, conn *wschannel.Conn, id string, cmd []string, stdin, stdout, stderr, tty bool) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	streams := kubelet.ExecStreams{TTY: tty}
	var stdinR *io.PipeReader
	var stdinW *io.PipeWriter
	if stdin {
		stdinR, stdinW = io.Pipe()
		streams.Stdin = stdinR
	}
	if stdout {
		streams.Stdout = conn.StreamWriter(wschannel.StreamStdout)
	}
	if stderr {
		streams.Stderr = conn.StreamWriter(wschannel.StreamStderr)
	}
	resize := make(chan kubelet.TerminalSize, 1)
	if tty {
		streams.Resize = resize
	}
	var reader sync.WaitGroup
	reader.Go(func() {
		defer cancel() // the client went: end the exec
		for {
			f, err := conn.ReadFrame()
			if err != nil {
				if stdinW != nil {
					stdinW.CloseWithError(io.EOF)
				}
				return
			}
			switch f.Stream {
			case wschannel.StreamStdin:
				if stdinW != nil {
					_, _ = stdinW.Write(f.Data) // fails once the exec is over
				}
			case wschannel.StreamResize:
				sz, err := wschannel.DecodeResize(f.Data)
				if err != nil {
					a.log.V(1).Info("exec: bad resize message", "container", id, "error", err)
					continue
				}
				if tty {
					select {
					case <-resize: // only the latest size matters
					default:
					}
					resize <- sz
				}
			case wschannel.StreamClose:
				if s, err := wschannel.DecodeClose(f.Data); err == nil && s == wschannel.StreamStdin && stdinW != nil && conn.Protocol() == wschannel.ProtocolV5 {
					stdinW.Close()
				}
			}
		}
	})
	code, err := a.rt.Exec(ctx, id, cmd, streams)
	if stdinR != nil {
		stdinR.Close()
	}
	var status wschannel.Status
	if err != nil {
		status = wschannel.ErrorStatus(err)
		a.log.V(1).Info("exec failed", "container", id, "command", cmd, "error", err)
	} else {
		status = wschannel.ExitStatus(cmd, code)
	}
	if ctx.Err() == nil {
		_ = conn.WriteFrame(wschannel.StreamError, status.Encode())
	}
	conn.Close()
	cancel()
	reader.Wait()
}
