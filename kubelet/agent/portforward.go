package agent

import (
	"cmp"
	"context"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sync"

	"github.com/gantry-sdk/gantry/kubelet"
	"github.com/gantry-sdk/gantry/kubelet/wschannel"
)

func (a *Agent) servePortForward(w http.ResponseWriter, r *http.Request) {
	ports, err := wschannel.ParsePorts(r.URL.Query()["port"])
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if !requireWebSocket(w, r, true, wschannel.ProtocolV4) {
		return
	}
	l := a.podLabels(r)
	ready := kubelet.SandboxReady
	sbs, err := a.rt.ListPodSandboxes(r.Context(), kubelet.SandboxFilter{Labels: l, State: &ready})
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	if len(sbs) == 0 {
		http.Error(w, fmt.Sprintf("pod %s/%s has no ready sandbox on node %s", l[kubelet.LabelPodNamespace], l[kubelet.LabelPodName], a.node), http.StatusNotFound)
		return
	}
	id := slices.MaxFunc(sbs, func(x, y kubelet.SandboxStatus) int { return cmp.Compare(x.Attempt, y.Attempt) }).ID
	ws, err := wschannel.Upgrader(wschannel.ProtocolV4).Upgrade(w, r, nil)
	if err != nil {
		return
	}
	conn := wschannel.NewConn(ws)
	defer conn.Close()
	a.forwardSession(r.Context(), conn, id, ports)
}

// forwardSession forwards ports of sandbox id over conn: port i has data
// channel 2i and error channel 2i+1, each opened by the port's header. A
// port whose connection ends is done; the session ends when all are, or
// when the client goes.
func (a *Agent) forwardSession(ctx context.Context, conn *wschannel.Conn, id string, ports []uint16) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pods := make([]net.Conn, len(ports))
	var pumps sync.WaitGroup
	for i, port := range ports {
		data, errc := byte(2*i), byte(2*i+1)
		if conn.WriteFrame(data, wschannel.PortHeader(port)) != nil || conn.WriteFrame(errc, wschannel.PortHeader(port)) != nil {
			cancel() // the client is gone: close what is open below
			break
		}
		c, err := a.rt.DialPod(ctx, id, port)
		if err != nil {
			_ = conn.WriteFrame(errc, fmt.Appendf(nil, "error forwarding port %d to pod sandbox %s: %v", port, id, err))
			continue
		}
		pods[i] = c
		pumps.Go(func() {
			defer c.Close()
			buf := make([]byte, 32<<10)
			for {
				n, err := c.Read(buf)
				if n > 0 && conn.WriteFrame(data, buf[:n]) != nil {
					return
				}
				if err != nil {
					return
				}
			}
		})
	}
	allDone := make(chan struct{})
	go func() { pumps.Wait(); close(allDone) }()
	var reader sync.WaitGroup
	reader.Go(func() {
		defer cancel()
		for {
			f, err := conn.ReadFrame()
			if err != nil {
				return
			}
			i := int(f.Stream) / 2
			if f.Stream%2 != 0 || i >= len(pods) || pods[i] == nil {
				continue
			}
			if _, err := pods[i].Write(f.Data); err != nil {
				pods[i].Close()
			}
		}
	})
	select {
	case <-allDone:
	case <-ctx.Done():
	}
	for _, c := range pods {
		if c != nil {
			c.Close()
		}
	}
	conn.Close()
	reader.Wait()
	<-allDone
}
