package imagegc

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gantry-sdk/gantry/kubelet"
)

// Sentinel errors of the package.
var (
	// ErrInvalid: the Policy is out of range (names the field).
	ErrInvalid = errors.New("imagegc: invalid policy")
	// ErrInvalidCapacity: the image filesystem reports a capacity of 0, so
	// no usage can be computed (the kubelet's InvalidDiskCapacity).
	ErrInvalidCapacity = errors.New("imagegc: invalid capacity 0 on image filesystem")
	// ErrFreeSpaceFailed: the images that may go do not free enough to get
	// under the low threshold (the kubelet's FreeDiskSpaceFailed).
	ErrFreeSpaceFailed = errors.New("imagegc: failed to garbage collect required amount of images")
)

// Kubelet defaults of a Policy's zero fields.
const (
	DefaultHighThresholdPercent = 85
	DefaultLowThresholdPercent  = 80
	DefaultMinAge               = 2 * time.Minute
)

// Policy is the kubelet's image GC configuration. Its zero value is the
// kubelet's defaults.
type Policy struct {
	// HighThresholdPercent is the image filesystem usage at or above which
	// images are removed (imageGCHighThresholdPercent); 0 means 85, 100
	// turns disk-based collection off.
	HighThresholdPercent int
	// LowThresholdPercent is the usage collection then aims for
	// (imageGCLowThresholdPercent); 0 means 80. It must be below the high one.
	LowThresholdPercent int
	// MinAge is how long an image must have been known before it may go
	// (imageMinimumGCAge); 0 means 2 min, negative means none.
	MinAge time.Duration
	// MaxAge removes an unused image once it has not been used for that long,
	// whatever the disk usage (imageMaximumGCAge); 0 means never. It counts
	// from the collector's start at the earliest, since use times do not
	// survive a restart.
	MaxAge time.Duration
}

// WithDefaults returns p with its zero fields set to the kubelet's defaults,
// or ErrInvalid naming the field out of range. Applying it twice changes
// nothing more.
func (p Policy) WithDefaults() (Policy, error) {
	if p.HighThresholdPercent == 0 {
		p.HighThresholdPercent = DefaultHighThresholdPercent
	}
	if p.LowThresholdPercent == 0 {
		p.LowThresholdPercent = DefaultLowThresholdPercent
	}
	if p.MinAge == 0 {
		p.MinAge = DefaultMinAge // a negative one stays: WithDefaults is idempotent
	}
	switch {
	case p.HighThresholdPercent < 0 || p.HighThresholdPercent > 100:
		return p, fmt.Errorf("%w: highThresholdPercent %d is not within 0..100", ErrInvalid, p.HighThresholdPercent)
	case p.LowThresholdPercent < 0 || p.LowThresholdPercent > 100:
		return p, fmt.Errorf("%w: lowThresholdPercent %d is not within 0..100", ErrInvalid, p.LowThresholdPercent)
	case p.LowThresholdPercent >= p.HighThresholdPercent:
		return p, fmt.Errorf("%w: lowThresholdPercent %d must be less than highThresholdPercent %d", ErrInvalid, p.LowThresholdPercent, p.HighThresholdPercent)
	case p.MaxAge < 0:
		return p, fmt.Errorf("%w: maxAge %s is negative", ErrInvalid, p.MaxAge)
	case p.MaxAge > 0 && p.MaxAge <= p.MinAge:
		return p, fmt.Errorf("%w: maxAge %s must be greater than minAge %s", ErrInvalid, p.MaxAge, p.MinAge)
	}
	return p, nil
}

// Image is an image as the collector sees it: the runtime's view with its
// record.
type Image struct {
	kubelet.Image
	// FirstSeen is when the collector first saw it; LastUsed when a container
	// last used it (zero: never, as far as this collector knows).
	FirstSeen, LastUsed time.Time
	// InUse: a container (of any state, of any pod) uses it. Pinned: the
	// configuration says keep it. Neither ever goes.
	InUse, Pinned bool
}

// lastActive is when the image was last known to matter: its last use, or
// when it appeared if never used.
func (i Image) lastActive() time.Time {
	if i.LastUsed.After(i.FirstSeen) {
		return i.LastUsed
	}
	return i.FirstSeen
}

// Reason says why an image is removed.
type Reason string

// Removal reasons.
const (
	// ReasonMaxAge: unused for longer than Policy.MaxAge.
	ReasonMaxAge Reason = "MaxAge"
	// ReasonDiskUsage: the image filesystem is over the high threshold.
	ReasonDiskUsage Reason = "DiskUsage"
)

// Removal is an image the plan removes.
type Removal struct {
	Image  Image
	Reason Reason
}

// Plan is one collection's decision: what to remove, in order, and what
// that must achieve.
type Plan struct {
	// Remove lists the images to remove in order: those over MaxAge, then,
	// least recently used first, as many as it takes to free BytesToFree.
	Remove []Removal
	// UsagePercent is the image filesystem's usage, 100 - available*100/capacity.
	UsagePercent int
	// BytesToFree is what must be freed to get down to the low threshold; 0
	// when usage is under the high one.
	BytesToFree uint64
}

// Decide plans a collection at now, for a collector that started at began,
// from the image filesystem's usage fs and the images with their records.
// It is a pure function: the caller removes the images and then calls
// Plan.Check with what it freed. With a zero capacity it still plans the
// MaxAge removals and returns ErrInvalidCapacity.
func Decide(p Policy, now, began time.Time, fs kubelet.FsUsage, images []Image) (Plan, error) {
	p, err := p.WithDefaults()
	if err != nil {
		return Plan{}, err
	}
	var candidates []Image
	for _, img := range images {
		if !img.InUse && !img.Pinned && img.ID != "" {
			candidates = append(candidates, img)
		}
	}
	// Least recently used first, never used before used; then the oldest
	// known; the ID makes the order total.
	slices.SortFunc(candidates, func(a, b Image) int {
		if c := a.LastUsed.Compare(b.LastUsed); c != 0 {
			return c
		}
		if c := a.FirstSeen.Compare(b.FirstSeen); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	var plan Plan
	var freed uint64
	// Before MaxAge has passed since the start, an image's lack of use is
	// not known for that long.
	if p.MaxAge > 0 && now.Sub(began) > p.MaxAge {
		kept := candidates[:0:0]
		for _, img := range candidates {
			if now.Sub(img.lastActive()) > p.MaxAge {
				plan.Remove = append(plan.Remove, Removal{Image: img, Reason: ReasonMaxAge})
				freed += img.Size
				continue
			}
			kept = append(kept, img)
		}
		candidates = kept
	}
	if fs.CapacityBytes == 0 {
		return plan, ErrInvalidCapacity
	}
	available := min(fs.AvailableBytes, fs.CapacityBytes)
	plan.UsagePercent = 100 - int(available*100/fs.CapacityBytes)
	if plan.UsagePercent < p.HighThresholdPercent {
		return plan, nil
	}
	target := fs.CapacityBytes * uint64(100-p.LowThresholdPercent) / 100
	if target <= available {
		return plan, nil
	}
	plan.BytesToFree = target - available
	for _, img := range candidates {
		if freed >= plan.BytesToFree {
			break
		}
		if p.MinAge > 0 && now.Sub(img.FirstSeen) < p.MinAge {
			continue
		}
		plan.Remove = append(plan.Remove, Removal{Image: img, Reason: ReasonDiskUsage})
		freed += img.Size
	}
	return plan, nil
}

// Check reports whether removing images of total size freed achieved the
// plan: ErrFreeSpaceFailed with both figures if it fell short.
func (p Plan) Check(freed uint64) error {
	if freed >= p.BytesToFree {
		return nil
	}
	return fmt.Errorf("%w: attempted to free %d bytes, but only found %d bytes eligible to free", ErrFreeSpaceFailed, p.BytesToFree, freed)
}
