package agent

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http/httptest"
	"os/exec"
	"testing"
	"time"

	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/kubelet"
	"github.com/gantry-sdk/gantry/kubelet/wschannel"
)

// BenchmarkExecLatency measures an exec of `true` in a running busybox
// container, dial to exit code, in one run on the package's private
// containerd: straight on each runtime (native containerd, CRI), and through
// the agent's Handler over a WebSocket on loopback (what the API server's
// proxy adds on top is not counted); beside `ctr task exec` of the same
// command into the native pod's container (the CLI's process start included).
func BenchmarkExecLatency(b *testing.B) {
	run := func(b *testing.B, h *harness, viaAgent bool) {
		runWith(b, h, func(ctx context.Context, id, url string) (int32, error) {
			if !viaAgent {
				return h.run.Exec(ctx, id, []string{"true"}, kubelet.ExecStreams{Stdout: io.Discard, Stderr: io.Discard})
			}
			c, err := wschannel.Dial(ctx, url, wschannel.ProtocolV5)
			if err != nil {
				return 0, err
			}
			defer c.Close()
			return wschannel.Exec(ctx, c, kubelet.ExecStreams{Stdout: io.Discard, Stderr: io.Discard})
		})
	}
	b.Run("native-runtime", func(b *testing.B) { h, _ := newNativeHarness(b, "bench-exec-n1"); run(b, h, false) })
	b.Run("native-agent", func(b *testing.B) { h, _ := newNativeHarness(b, "bench-exec-n2"); run(b, h, true) })
	b.Run("cri-runtime", func(b *testing.B) { run(b, newRealHarness(b, "bench-exec-c1"), false) })
	b.Run("cri-agent", func(b *testing.B) { run(b, newRealHarness(b, "bench-exec-c2"), true) })
	b.Run("ctr-task-exec", func(b *testing.B) {
		h, rt := newNativeHarness(b, "bench-exec-n3")
		env := realRuntime(b)
		n := 0
		runWith(b, h, func(ctx context.Context, id, _ string) (int32, error) {
			n++
			out, err := exec.CommandContext(ctx, "ctr", "--address", env.Socket, "--namespace", rt.Namespace(),
				"task", "exec", "--exec-id", fmt.Sprintf("bench-%d", n), id, "true").CombinedOutput()
			if err != nil {
				return 0, fmt.Errorf("%w: %s", err, out)
			}
			return 0, nil
		})
	})
}

// runWith times one exec per op in the container of a running busybox pod.
func runWith(b *testing.B, h *harness, execOnce func(ctx context.Context, id, url string) (int32, error)) {
	p := busyboxPod("bench", "exec sleep 3600")
	p.Spec.RestartPolicy = core.RestartPolicyNever // see execAndPortForward
	h.create(p)
	h.eventually(60*time.Second, "running", h.phase("bench", core.PodRunning))
	ctx := context.Background()
	var id string
	for _, c := range h.containers("c0") {
		if c.State == kubelet.ContainerRunning {
			id = c.ID
		}
	}
	srv := httptest.NewServer(h.agent.Handler())
	defer srv.Close()
	url := wsURL(srv, "/exec/default/bench/c0?command=true&stdout=1&stderr=1")
	for b.Loop() {
		if code, err := execOnce(ctx, id, url); err != nil || code != 0 {
			b.Fatal(code, err)
		}
	}
}

// BenchmarkPortForwardThroughput echoes 32 KiB per op through the agent's
// port-forward (fake runtime, in-memory backend, WebSocket on loopback),
// beside the same echo over a plain loopback TCP connection.
func BenchmarkPortForwardThroughput(b *testing.B) {
	echo := func(c net.Conn) {
		defer c.Close()
		_, _ = io.Copy(c, c)
	}
	chunk := make([]byte, 32<<10)
	pump := func(b *testing.B, conn net.Conn) {
		back := make([]byte, len(chunk))
		b.SetBytes(int64(len(chunk)))
		for b.Loop() {
			if _, err := conn.Write(chunk); err != nil {
				b.Fatal(err)
			}
			if _, err := io.ReadFull(conn, back); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("agent", func(b *testing.B) {
		h, srv := streamServer(b)
		h.rt.ServePort(8080, echo)
		c, err := wschannel.Dial(context.Background(), wsURL(srv, "/portForward/default/shell?port=8080"), wschannel.ProtocolV4)
		if err != nil {
			b.Fatal(err)
		}
		conn := wschannel.DialPort(c, 8080)
		defer conn.Close()
		pump(b, conn)
	})
	b.Run("tcp-loopback", func(b *testing.B) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		defer ln.Close()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				go echo(c)
			}
		}()
		conn, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close()
		pump(b, conn)
	})
}
