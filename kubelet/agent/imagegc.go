package agent

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/kubelet"
	"github.com/gantry-sdk/gantry/kubelet/imagegc"
)

// DefaultImageGCPeriod is how often images are collected (the kubelet's
// ImageGCPeriod).
const DefaultImageGCPeriod = 5 * time.Minute

// imageGC is the agent's side of image garbage collection: the records
// (imagegc.Tracker, guarded here) and the I/O of a collection.
type imageGC struct {
	policy imagegc.Policy // defaults filled
	period time.Duration  // negative: off
	pinned []string

	mu      sync.Mutex
	tracker *imagegc.Tracker
	// failed: the previous collection failed (ImageGCFailed is for repeated failures).
	failed bool
}

func newImageGC(o Options) (*imageGC, error) {
	p, err := o.ImageGC.WithDefaults()
	if err != nil {
		return nil, fmt.Errorf("%w: imageGC: %w", ErrInvalid, err)
	}
	period := o.ImageGCPeriod
	if period == 0 {
		period = DefaultImageGCPeriod
	}
	return &imageGC{policy: p, period: period, pinned: o.PinnedImages, tracker: imagegc.NewTracker()}, nil
}

// touch records that a container is being made from image ref.
func (g *imageGC) touch(ref string, now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.tracker.Touch(ref, now)
}

// imageGCLoop collects images at once and then every period, as the kubelet
// does; a failure twice in a row is an ImageGCFailed warning on the Node.
func (a *Agent) imageGCLoop(ctx context.Context) {
	g := a.imageGC
	if g.period < 0 {
		return
	}
	for {
		err := a.collectImages(ctx)
		if ctx.Err() != nil {
			return
		}
		g.mu.Lock()
		repeated := err != nil && g.failed
		g.failed = err != nil
		g.mu.Unlock()
		switch {
		case repeated:
			a.log.Error(err, "Image garbage collection failed multiple times in a row")
			a.events.nodeEvent(ctx, core.EventTypeWarning, "ImageGCFailed", err.Error())
		case err != nil:
			a.log.Error(err, "Image garbage collection failed once")
		}
		if !a.sleep(ctx, g.period) {
			return
		}
	}
}

// CollectImages runs one image garbage collection now: the images over
// MaxAge go, and if the image filesystem is at or over the high threshold,
// unused images least recently used first until it would be under the low
// one. It returns imagegc.ErrFreeSpaceFailed (wrapped) when it could not free
// enough, after a FreeDiskSpaceFailed warning on the Node. The agent's loop
// calls it every Options.ImageGCPeriod; callers may run it in between (a
// DiskPressure handler, a test).
func (a *Agent) CollectImages(ctx context.Context) error { return a.collectImages(ctx) }

func (a *Agent) collectImages(ctx context.Context) error {
	g := a.imageGC
	images, err := a.rt.ListImages(ctx)
	if err != nil {
		return fmt.Errorf("agent: image gc: %w", err)
	}
	// Every container of the runtime, of any pod and any state: an exited
	// container may be restarted from its image.
	containers, err := a.rt.ListContainers(ctx, kubelet.ContainerFilter{})
	if err != nil {
		return fmt.Errorf("agent: image gc: %w", err)
	}
	fs, err := a.rt.ImageFsInfo(ctx)
	if err != nil {
		return fmt.Errorf("agent: image gc: %w", err)
	}
	now := a.clock.Now()
	g.mu.Lock()
	observed := g.tracker.Observe(now, images, containers, g.pinned)
	plan, planErr := imagegc.Decide(g.policy, now, g.tracker.Began(), fs, observed)
	g.mu.Unlock()
	if errors.Is(planErr, imagegc.ErrInvalidCapacity) {
		a.events.nodeEvent(ctx, core.EventTypeWarning, "InvalidDiskCapacity", planErr.Error())
	} else if planErr != nil {
		return fmt.Errorf("agent: image gc: %w", planErr)
	}
	if plan.BytesToFree > 0 {
		a.log.Info("Disk usage on image filesystem is over the high threshold, trying to free bytes down to the low threshold",
			"usage", plan.UsagePercent, "highThreshold", g.policy.HighThresholdPercent,
			"amountToFree", plan.BytesToFree, "lowThreshold", g.policy.LowThresholdPercent, "mountpoint", fs.Mountpoint)
	}
	var freed uint64
	var removeErrs []error
	for _, r := range plan.Remove {
		img := r.Image
		g.mu.Lock()
		raced := g.tracker.UsedSince(img.Image, now)
		g.mu.Unlock()
		if raced {
			continue // a container is being made from it since the plan
		}
		if err := a.rt.RemoveImage(ctx, img.ID); err != nil {
			a.log.Error(err, "Failed to remove image", "imageID", img.ID, "names", img.Names)
			removeErrs = append(removeErrs, err)
			continue
		}
		freed += img.Size
		g.mu.Lock()
		g.tracker.Forget(img.ID)
		g.mu.Unlock()
		a.log.Info("Removed image", "imageID", img.ID, "names", img.Names, "size", img.Size, "reason", string(r.Reason),
			"lastUsed", img.LastUsed, "firstSeen", img.FirstSeen)
	}
	if planErr != nil {
		return fmt.Errorf("agent: image gc: %w", planErr)
	}
	if err := plan.Check(freed); err != nil {
		a.events.nodeEvent(ctx, core.EventTypeWarning, "FreeDiskSpaceFailed", err.Error())
		return fmt.Errorf("agent: image gc: %w", errors.Join(append([]error{err}, removeErrs...)...))
	}
	return nil
}
