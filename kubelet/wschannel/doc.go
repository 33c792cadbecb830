// Package wschannel speaks Kubernetes' WebSocket channel protocols, the wire
// of "kubectl exec" and "kubectl port-forward" between the API server, the
// node agent and a CRI runtime's streaming server.
//
// Each binary WebSocket message carries one stream's data, its first byte
// naming the stream. Exec (subprotocols v5.channel.k8s.io and
// v4.channel.k8s.io) uses 0 stdin, 1 stdout, 2 stderr, 3 the exit Status
// (metav1.Status JSON: Success, or Failure with reason NonZeroExitCode and
// the code as an ExitCode cause), 4 terminal resizes ({"Width":w,"Height":h})
// and, in v5 only, 255 to close a stream (payload: its ID), which is how a
// client ends stdin. Port-forward (v4.channel.k8s.io) gives port i the data
// channel 2i and the error channel 2i+1; the server opens each with the port
// as 2 bytes little-endian. The base64 variants and SPDY are not spoken.
//
// The package holds the pure codecs (DecodeFrame, DecodeResize, DecodeStatus,
// ParsePortHeader, ParsePorts...), a Conn over github.com/gorilla/websocket,
// and the client sides of both sessions (Exec, DialPort). The server sides
// live in kubelet/agent.
//
// # Usage
//
//	c, err := wschannel.Dial(ctx, "ws://node:10250/exec/default/web/app?command=sh&stdin=1&stdout=1&stderr=1",
//		wschannel.ProtocolV5, wschannel.ProtocolV4)
//	if err != nil { ... }
//	defer c.Close()
//	code, err := wschannel.Exec(ctx, c, kubelet.ExecStreams{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr})
package wschannel
