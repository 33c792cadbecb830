package cri

import (
	"context"
	"fmt"
	"net"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/gantry-sdk/gantry/kubelet"
	"github.com/gantry-sdk/gantry/kubelet/wschannel"
)

// Exec implements kubelet.Streaming through the runtime's streaming server:
// CRI's Exec returns its URL, spoken to over WebSocket (ProtocolV5, else
// ProtocolV4), as the API server would. Over v4 (containerd 1.6/1.7) stdin's
// EOF cannot be told to the process: it sees stdin end only when it exits.
func (r *Runtime) Exec(ctx context.Context, id string, cmd []string, s kubelet.ExecStreams) (int32, error) {
	if len(cmd) == 0 {
		return 0, fmt.Errorf("%w: exec in %s: command is empty", kubelet.ErrInvalid, id)
	}
	resp, err := r.rt.Exec(ctx, &runtimeapi.ExecRequest{
		ContainerId: id, Cmd: cmd, Tty: s.TTY,
		// Stdout always: the server wants one stream at least.
		Stdin: s.Stdin != nil, Stdout: true, Stderr: !s.TTY,
	})
	if err != nil {
		return 0, wrap("exec in", id, err)
	}
	c, err := wschannel.Dial(ctx, resp.Url, wschannel.ProtocolV5, wschannel.ProtocolV4)
	if err != nil {
		return 0, fmt.Errorf("cri: exec in %s: %w", id, err)
	}
	defer c.Close()
	code, err := wschannel.Exec(ctx, c, s)
	if err != nil {
		return 0, fmt.Errorf("cri: exec in %s: %w", id, err)
	}
	return code, nil
}

// DialPod implements kubelet.Streaming through the runtime's streaming
// server (CRI's PortForward), which dials inside the pod's network
// namespace. The stream is opened before the server connects to the port: a
// refused connection shows as the first Read's error.
func (r *Runtime) DialPod(ctx context.Context, id string, port uint16) (net.Conn, error) {
	resp, err := r.rt.PortForward(ctx, &runtimeapi.PortForwardRequest{PodSandboxId: id, Port: []int32{int32(port)}})
	if err != nil {
		return nil, wrap("port forward", id, err)
	}
	url := fmt.Sprintf("%s?port=%d", resp.Url, port)
	c, err := wschannel.Dial(ctx, url, wschannel.ProtocolV4)
	if err != nil {
		return nil, fmt.Errorf("cri: port forward %s port %d: %w", id, port, err)
	}
	return wschannel.DialPort(c, port), nil
}
