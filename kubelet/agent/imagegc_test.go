package agent

import (
	"bytes"
	"context"
	"crypto/rand"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/kubelet"
	"github.com/gantry-sdk/gantry/kubelet/cri/critest"
	"github.com/gantry-sdk/gantry/kubelet/fake"
	"github.com/gantry-sdk/gantry/kubelet/imagegc"
	"github.com/gantry-sdk/gantry/store"
)

const mib = 1 << 20

// imageNames lists the names of the runtime's images, sorted.
func imageNames(t testing.TB, rt kubelet.Runtime) []string {
	imgs, err := rt.ListImages(context.Background())
	require.NoError(t, err)
	var out []string
	for _, i := range imgs {
		out = append(out, i.Names...)
	}
	slices.Sort(out)
	return out
}

// nodeEvents returns the events about the Node with reason.
func (h *harness) nodeEvents(reason string) []*core.Event {
	var out []*core.Event
	for _, e := range h.events(reason) {
		if e.InvolvedObject.Kind == "Node" && e.InvolvedObject.Name == h.node {
			out = append(out, e)
		}
	}
	return out
}

// runPodWith runs a pod of one container named as the pod.
func (h *harness) runPodWith(name, image string, restart core.RestartPolicy) {
	p := simplePod(name, name)
	p.Spec.Containers[0].Image = image
	p.Spec.RestartPolicy = restart
	h.create(p)
}

func (h *harness) deletePodNow(name string) {
	zero := int64(0)
	_, err := store.For[*core.Pod](h.s).Delete(context.Background(), apis.Key{Namespace: "default", Name: name}, store.DeleteOptions{GracePeriodSeconds: &zero})
	require.NoError(h.t, err)
	h.eventually(10*time.Second, name+" gone", func() bool { return h.pod(name) == nil && len(h.containers(name)) == 0 })
}

// TestImageGC runs the agent's collector over the simulated runtime for 20
// minutes of fake time: nothing goes under the high threshold; over it,
// unused images go least recently used first (never used before used), down
// to the low threshold and no further; images of running and exited
// containers and pinned ones stay; when it cannot get under the threshold it
// frees what it may, warns FreeDiskSpaceFailed on the Node, and
// ImageGCFailed once that happens twice in a row.
func TestImageGC(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		images := []string{"app:v1", "done:v1", "never:v1", "old:v1", "older:v1", "pause:v1"}
		sizes := map[string]uint64{"app:v1": 10 * mib, "fresh:v1": 8 * mib}
		for _, n := range images[1:] {
			sizes[n] = 8 * mib
		}
		// 50 MiB of images on 100 MiB: 50 %.
		rt := fake.New(fake.Options{Images: images, ImageSizes: sizes, ImageFsCapacity: 100 * mib})
		rt.Script("done", fake.Behavior{Exit: true, ExitAfter: time.Second})
		h := newHarnessOn(t, rt, "n1", Options{PinnedImages: []string{"pause:v1"}})
		h.rt = rt
		start := time.Now()

		// older:v1 used by a pod that is gone at 0:00, old:v1 at 1:00; app:v1
		// runs; done:v1's container exited and stays (pod Succeeded).
		h.runPodWith("older", "older:v1", core.RestartPolicyAlways)
		h.eventually(10*time.Second, "older running", h.phase("older", core.PodRunning))
		h.deletePodNow("older")
		time.Sleep(time.Minute)
		h.runPodWith("old", "old:v1", core.RestartPolicyAlways)
		h.eventually(10*time.Second, "old running", h.phase("old", core.PodRunning))
		h.deletePodNow("old")
		h.runPodWith("web", "app:v1", core.RestartPolicyAlways)
		h.runPodWith("done", "done:v1", core.RestartPolicyNever)
		h.eventually(10*time.Second, "web running", h.phase("web", core.PodRunning))
		h.eventually(10*time.Second, "done succeeded", h.phase("done", core.PodSucceeded))
		assert.Equal(t, images, imageNames(t, rt), "collections under the high threshold remove nothing")

		// fresh:v1 is pulled just before the collection at 5:00 (never used, so
		// second in line) and 40 MiB of other files make 98 MiB used, 98 % >=
		// 85 %: 18 MiB must go to get down to 80 %. never:v1 (8), then, fresh:v1
		// being younger than 2 min, older:v1 (8) and old:v1 (8), in that order.
		time.Sleep(start.Add(5*time.Minute - time.Second).Sub(time.Now()))
		_, err := rt.PullImage(context.Background(), "fresh:v1")
		require.NoError(t, err)
		rt.SetImageFs(0, 40*mib)
		time.Sleep(2 * time.Second)
		synctest.Wait()
		assert.Equal(t, []string{"app:v1", "done:v1", "fresh:v1", "pause:v1"}, imageNames(t, rt))
		assert.Empty(t, h.nodeEvents("FreeDiskSpaceFailed"))
		require.NoError(t, rt.RemoveImage(context.Background(), "fresh:v1"))

		// 80 MiB of other files: 106 MiB > capacity, 20 MiB to free and
		// nothing may go.
		rt.SetImageFs(0, 80*mib)
		time.Sleep(5 * time.Minute)
		synctest.Wait()
		assert.Equal(t, []string{"app:v1", "done:v1", "pause:v1"}, imageNames(t, rt))
		require.Len(t, h.nodeEvents("FreeDiskSpaceFailed"), 1)
		e := h.nodeEvents("FreeDiskSpaceFailed")[0]
		assert.Equal(t, core.EventTypeWarning, e.EventType)
		assert.Equal(t, "default", e.Namespace)
		assert.Contains(t, e.Message, "attempted to free 20971520 bytes, but only found 0 bytes eligible to free")
		assert.Empty(t, h.nodeEvents("ImageGCFailed"), "a single failure is not reported")
		time.Sleep(5 * time.Minute)
		synctest.Wait()
		require.Len(t, h.nodeEvents("ImageGCFailed"), 1)
		assert.Equal(t, core.EventTypeWarning, h.nodeEvents("ImageGCFailed")[0].EventType)

		// Space back: the next collection succeeds and the failure streak ends.
		rt.SetImageFs(0, 0)
		time.Sleep(5 * time.Minute)
		synctest.Wait()
		require.NoError(t, h.agent.CollectImages(context.Background()))
	})
}

// TestImageGCMaxAgeAndRestart: with imageMaximumGCAge, an image unused for
// that long goes whatever the usage, but not before the collector has run
// that long; a restarted agent starts its records again (images first seen
// at the restart) and does not remove what it has not known for MaxAge.
func TestImageGCMaxAgeAndRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rt := fake.New(fake.Options{Images: []string{"app:v1", "stale:v1"}})
		h := newHarnessOn(t, rt, "n1", Options{ImageGC: imagegc.Policy{MaxAge: 30 * time.Minute}})
		h.rt = rt
		h.runPodWith("web", "app:v1", core.RestartPolicyAlways)
		h.eventually(10*time.Second, "web running", h.phase("web", core.PodRunning))
		time.Sleep(29 * time.Minute)
		h.restart()
		time.Sleep(29 * time.Minute)
		synctest.Wait()
		assert.Equal(t, []string{"app:v1", "stale:v1"}, imageNames(t, rt), "the restarted agent has known stale:v1 for 29 min only")
		// Collections at 30 min after the restart (not over MaxAge), then 35.
		time.Sleep(7 * time.Minute)
		synctest.Wait()
		assert.Equal(t, []string{"app:v1"}, imageNames(t, rt), "unused for 35 min since the restart")
	})
}

func TestImageGCOptionsValidated(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, Options{})
		_, err := New("n2", h.s, h.rt, Options{ImageGC: imagegc.Policy{HighThresholdPercent: 70, LowThresholdPercent: 75}})
		require.ErrorIs(t, err, ErrInvalid)
		require.ErrorIs(t, err, imagegc.ErrInvalid)
		assert.ErrorContains(t, err, "lowThresholdPercent 75 must be less than highThresholdPercent 70")
	})
}

// imageGCOnRealRuntime: over a real runtime, an unused imported image is
// removed while the busybox image of a running pod and the pinned sandbox
// image stay. The thresholds (realImageGCOptions) are under the image
// filesystem's measured usage, so the collection must run; no real
// collection gets a shared disk that much lower, so it also reports
// FreeDiskSpaceFailed on the Node.
func imageGCOnRealRuntime(t *testing.T, h *harness) {
	ctx := context.Background()
	p := busyboxPod("web", "sleep 3600")
	h.create(p)
	h.eventually(60*time.Second, "web running", h.phase("web", core.PodRunning))

	// A 1 MiB image nobody uses.
	noise := make([]byte, mib)
	_, _ = rand.Read(noise)
	layer, err := critest.FileLayer(map[string][]byte{"noise": noise})
	require.NoError(t, err)
	var archive bytes.Buffer
	extra := "gantry.local/gc-extra:" + h.node
	require.NoError(t, critest.WriteOCIArchive(&archive, layer, critest.Image{Name: extra, Cmd: []string{"/noise"}}))
	_, err = h.run.ImportImage(ctx, &archive)
	require.NoError(t, err)
	_, err = h.run.ImageStatus(ctx, extra)
	require.NoError(t, err)

	err = h.agent.CollectImages(ctx)
	require.ErrorIs(t, err, imagegc.ErrFreeSpaceFailed)
	_, err = h.run.ImageStatus(ctx, extra)
	require.ErrorIs(t, err, kubelet.ErrNotFound, "the unused image is removed")
	for _, keep := range []string{critest.BusyboxImage, critest.PauseImage} {
		_, err := h.run.ImageStatus(ctx, keep)
		require.NoError(t, err, "%s stays", keep)
	}
	require.Len(t, h.nodeEvents("FreeDiskSpaceFailed"), 1)
	assert.Equal(t, core.PodRunning, h.pod("web").Status.Phase)
}

// realImageGCOptions measures the usage of the private containerd's image
// filesystem (one for its CRI and native namespaces) and sets the high
// threshold 5 points under it; no minimum age (the imported image is
// seconds old); no periodic collection (the test runs one once its pod
// runs); the sandbox image pinned as the kubelet's pod infra image
// (containerd 1.6 does not pin it).
func realImageGCOptions(t *testing.T) func(*Options) {
	env := realRuntime(t)
	ctx := context.Background()
	rt, err := env.Dial(ctx)
	require.NoError(t, err)
	defer rt.Close()
	fs, err := rt.ImageFsInfo(ctx)
	require.NoError(t, err)
	plan, err := imagegc.Decide(imagegc.Policy{HighThresholdPercent: 100, LowThresholdPercent: 1}, time.Now(), time.Now(), fs, nil)
	require.NoError(t, err)
	require.Greater(t, plan.UsagePercent, 10, "the image filesystem is nearly empty: no threshold fits under its usage")
	high := plan.UsagePercent - 5
	t.Logf("image fs %s usage %d %%: thresholds %d/%d", fs.Mountpoint, plan.UsagePercent, high, high-1)
	return func(o *Options) {
		o.ImageGCPeriod = -1
		o.ImageGC = imagegc.Policy{HighThresholdPercent: high, LowThresholdPercent: high - 1, MinAge: -1}
		o.PinnedImages = []string{critest.PauseImage}
	}
}

func TestRealImageGC(t *testing.T) {
	imageGCOnRealRuntime(t, newRealHarness(t, "real-imagegc", realImageGCOptions(t)))
}

func TestNativeImageGC(t *testing.T) {
	h, _ := newNativeHarness(t, "native-imagegc", realImageGCOptions(t))
	imageGCOnRealRuntime(t, h)
}
