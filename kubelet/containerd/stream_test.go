package containerd_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/kubelet"
	"github.com/gantry-sdk/gantry/kubelet/containerd"
)

// Ports bound to the pod's IPv6 loopback only are reached too (the suite's
// PortForwardLocalhost covers IPv4's; containerd's CRI dials IPv4 only).
func TestDialPodIPv6Loopback(t *testing.T) {
	rt := dial(t, containerd.Options{PoolSize: -1})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sb := podFor(t, ctx, rt, kubelet.SandboxConfig{Name: "dial6"})
	sleeper(t, ctx, rt, sb.ID, kubelet.ContainerConfig{Name: "web6", Command: []string{"httpd", "-f", "-p", "[::1]:8084", "-h", "/var/www"}})
	var body []byte
	require.Eventually(t, func() bool {
		c, err := rt.DialPod(ctx, sb.ID, 8084)
		if err != nil {
			return false
		}
		defer c.Close()
		if _, err := c.Write([]byte("GET /index.html HTTP/1.0\r\n\r\n")); err != nil {
			return false
		}
		body, err = io.ReadAll(c)
		return err == nil && strings.HasSuffix(string(body), "gantry\n")
	}, 20*time.Second, 50*time.Millisecond, "%q", body)
}
