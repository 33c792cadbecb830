package imagegc_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/gantry-sdk/gantry/kubelet"
	"github.com/gantry-sdk/gantry/kubelet/imagegc"
)

// BenchmarkCollection is one collection's CPU on a node with 1,000 images
// and 110 pods' containers: Observe then Decide, most images to go.
func BenchmarkCollection(b *testing.B) {
	var images []kubelet.Image
	var containers []kubelet.ContainerStatus
	for i := range 1000 {
		id := fmt.Sprintf("sha256:%064d", i)
		images = append(images, kubelet.Image{ID: id, Names: []string{fmt.Sprintf("example.com/app-%d:v1", i)}, Size: 50 << 20})
		if i < 110 {
			containers = append(containers, kubelet.ContainerStatus{ID: fmt.Sprint(i), ImageID: id})
		}
	}
	tr := imagegc.NewTracker()
	tr.Observe(t0, images, containers, nil)
	fs := kubelet.FsUsage{CapacityBytes: 100 << 30, AvailableBytes: 1 << 30}
	now := t0
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(5 * time.Minute)
		plan, err := imagegc.Decide(imagegc.Policy{}, now, t0, fs, tr.Observe(now, images, containers, nil))
		if err != nil || len(plan.Remove) == 0 {
			b.Fatal(err, len(plan.Remove))
		}
	}
}
