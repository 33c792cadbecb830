package fake_test

import (
	"context"
	"fmt"
	"time"

	"github.com/gantry-sdk/gantry/kubelet"
	"github.com/gantry-sdk/gantry/kubelet/fake"
)

// A container scripted to crash after three seconds, observed on a manual clock.
func Example() {
	ctx := context.Background()
	clock := fake.NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	rt := fake.New(fake.Options{Clock: clock, Images: []string{"app:v1"}})
	rt.Script("app", fake.Behavior{Exit: true, ExitAfter: 3 * time.Second, ExitCode: 1})

	sb, _ := rt.RunPodSandbox(ctx, kubelet.SandboxConfig{Name: "web", Namespace: "default", UID: "u1"})
	id, _ := rt.CreateContainer(ctx, sb.ID, kubelet.ContainerConfig{Name: "app", Image: "app:v1"})
	_ = rt.StartContainer(ctx, id)
	st, _ := rt.ContainerStatus(ctx, id)
	fmt.Println(sb.IP, st.State)

	clock.Advance(3 * time.Second)
	st, _ = rt.ContainerStatus(ctx, id)
	fmt.Println(st.State, st.ExitCode, st.Reason, st.FinishedAt.Sub(st.StartedAt))
	// Output:
	// 10.88.0.2 Running
	// Exited 1 Error 3s
}
