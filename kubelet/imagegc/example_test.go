package imagegc_test

import (
	"fmt"
	"time"

	"github.com/gantry-sdk/gantry/kubelet"
	"github.com/gantry-sdk/gantry/kubelet/imagegc"
)

// A node whose image filesystem is 90 % full: the unused images go, least
// recently used first, until 80 % would be reached; the running one stays.
func Example() {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	images := []kubelet.Image{
		{ID: "sha256:a", Names: []string{"app:v1"}, Size: 300 << 20},
		{ID: "sha256:b", Names: []string{"batch:v1"}, Size: 200 << 20},
		{ID: "sha256:c", Names: []string{"cron:v1"}, Size: 400 << 20},
	}
	tr := imagegc.NewTracker()
	tr.Observe(start, images, nil, nil)
	tr.Touch("cron:v1", start.Add(1*time.Minute)) // the agent made a container from it
	tr.Touch("batch:v1", start.Add(2*time.Minute))

	now := start.Add(10 * time.Minute)
	running := []kubelet.ContainerStatus{{ID: "web", Image: "app:v1", ImageID: "sha256:a", State: kubelet.ContainerRunning}}
	fs := kubelet.FsUsage{CapacityBytes: 5 << 30, AvailableBytes: 512 << 20}
	plan, err := imagegc.Decide(imagegc.Policy{}, now, tr.Began(), fs, tr.Observe(now, images, running, nil))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("usage %d%%, to free %d MiB\n", plan.UsagePercent, plan.BytesToFree>>20)
	var freed uint64
	for _, r := range plan.Remove {
		fmt.Println("remove", r.Image.Names[0], r.Reason)
		freed += r.Image.Size
	}
	fmt.Println("check:", plan.Check(freed))
	// Output:
	// usage 90%, to free 512 MiB
	// remove cron:v1 DiskUsage
	// remove batch:v1 DiskUsage
	// check: <nil>
}
