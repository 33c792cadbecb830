package imagegc_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/kubelet"
	"github.com/gantry-sdk/gantry/kubelet/imagegc"
)

const mb = 1 << 20

var t0 = time.Date(2026, 11, 22, 4, 0, 0, 0, time.UTC)

// img is an image of size MiB, first seen seenAgo before now and last used
// usedAgo before now (0: never).
type img struct {
	id               string
	size             uint64
	seenAgo, usedAgo time.Duration
	inUse, pinned    bool
}

func (i img) at(now time.Time) imagegc.Image {
	out := imagegc.Image{
		Image:     kubelet.Image{ID: i.id, Names: []string{"example.com/" + i.id + ":v1"}, Size: i.size * mb},
		FirstSeen: now.Add(-i.seenAgo), InUse: i.inUse, Pinned: i.pinned,
	}
	if i.usedAgo > 0 {
		out.LastUsed = now.Add(-i.usedAgo)
	}
	return out
}

// fs is a 100 MiB image filesystem with avail MiB available.
func fs(avail uint64) kubelet.FsUsage {
	return kubelet.FsUsage{Mountpoint: "/images", CapacityBytes: 100 * mb, AvailableBytes: avail * mb}
}

func TestDecide(t *testing.T) {
	old := 10 * time.Minute
	for _, tc := range []struct {
		name    string
		policy  imagegc.Policy
		running time.Duration // since the collector began
		fs      kubelet.FsUsage
		images  []img
		// golden: the removals as "id:reason", the usage, what must be freed,
		// and Check's verdict if the removals all succeed.
		remove  []string
		usage   int
		toFree  uint64
		checkOK bool
		err     error
	}{
		{
			name: "under the high threshold nothing goes", fs: fs(16),
			images: []img{{id: "a", size: 5, seenAgo: old}},
			usage:  84, checkOK: true,
		},
		{
			name: "at the high threshold frees down to the low one, no more", fs: fs(15),
			images: []img{{id: "c", size: 4, seenAgo: old, usedAgo: 1 * time.Minute}, {id: "a", size: 3, seenAgo: old, usedAgo: 5 * time.Minute}, {id: "b", size: 2, seenAgo: old, usedAgo: 3 * time.Minute}},
			remove: []string{"a:DiskUsage", "b:DiskUsage"}, usage: 85, toFree: 5 * mb, checkOK: true,
		},
		{
			name: "least recently used first, never used before used, then oldest seen, then ID", fs: fs(5),
			images: []img{
				{id: "used-1m", size: 1, seenAgo: old, usedAgo: time.Minute},
				{id: "used-9m", size: 1, seenAgo: old, usedAgo: 9 * time.Minute},
				{id: "never-b", size: 1, seenAgo: old},
				{id: "never-a", size: 1, seenAgo: old},
				{id: "never-older", size: 1, seenAgo: 2 * old},
			},
			remove: []string{"never-older:DiskUsage", "never-a:DiskUsage", "never-b:DiskUsage", "used-9m:DiskUsage", "used-1m:DiskUsage"},
			usage:  95, toFree: 15 * mb,
		},
		{
			name: "images in use or pinned never go, however old", fs: fs(10),
			images: []img{{id: "running", size: 50, seenAgo: old, inUse: true}, {id: "pause", size: 50, seenAgo: old, pinned: true}, {id: "free", size: 20, seenAgo: old, usedAgo: time.Minute}},
			remove: []string{"free:DiskUsage"}, usage: 90, toFree: 10 * mb, checkOK: true,
		},
		{
			name: "images younger than minAge are spared; exactly minAge may go", fs: fs(10),
			images: []img{{id: "new", size: 20, seenAgo: 119 * time.Second}, {id: "two-min", size: 20, seenAgo: 2 * time.Minute, usedAgo: time.Second}},
			remove: []string{"two-min:DiskUsage"}, usage: 90, toFree: 10 * mb, checkOK: true,
		},
		{
			name: "negative minAge spares nobody", policy: imagegc.Policy{MinAge: -1}, fs: fs(10),
			images: []img{{id: "new", size: 20}},
			remove: []string{"new:DiskUsage"}, usage: 90, toFree: 10 * mb, checkOK: true,
		},
		{
			name: "cannot get under the threshold: everything eligible goes, Check fails", fs: fs(5),
			images: []img{{id: "a", size: 2, seenAgo: old}, {id: "b", size: 1, seenAgo: old}, {id: "busy", size: 30, seenAgo: old, inUse: true}, {id: "young", size: 30, seenAgo: time.Second}},
			remove: []string{"a:DiskUsage", "b:DiskUsage"}, usage: 95, toFree: 15 * mb,
		},
		{
			name: "nothing at all to remove", fs: fs(0),
			images: []img{{id: "busy", size: 30, seenAgo: old, inUse: true}},
			usage:  100, toFree: 20 * mb,
		},
		{
			name: "custom thresholds", policy: imagegc.Policy{HighThresholdPercent: 50, LowThresholdPercent: 40}, fs: fs(49),
			images: []img{{id: "a", size: 8, seenAgo: old}, {id: "b", size: 8, seenAgo: old, usedAgo: time.Minute}},
			remove: []string{"a:DiskUsage", "b:DiskUsage"}, usage: 51, toFree: 11 * mb, checkOK: true,
		},
		{
			name: "high threshold 100 turns disk-based collection off", policy: imagegc.Policy{HighThresholdPercent: 100}, fs: fs(1),
			images: []img{{id: "a", size: 8, seenAgo: old}},
			usage:  99, checkOK: true,
		},
		{
			name: "available above capacity counts as empty", fs: kubelet.FsUsage{CapacityBytes: 100 * mb, AvailableBytes: 200 * mb},
			images: []img{{id: "a", size: 8, seenAgo: old}},
			usage:  0, checkOK: true,
		},
		{
			name: "maxAge removes images unused for longer, whatever the usage", policy: imagegc.Policy{MaxAge: time.Hour}, running: 2 * time.Hour, fs: fs(90),
			images: []img{
				{id: "stale", size: 1, seenAgo: 3 * time.Hour, usedAgo: 61 * time.Minute},
				{id: "fresh", size: 1, seenAgo: 3 * time.Hour, usedAgo: 59 * time.Minute},
				{id: "never-used-old", size: 1, seenAgo: 61 * time.Minute},
				{id: "never-used-new", size: 1, seenAgo: 30 * time.Minute},
				{id: "stale-but-running", size: 1, seenAgo: 3 * time.Hour, usedAgo: 2 * time.Hour, inUse: true},
			},
			remove: []string{"never-used-old:MaxAge", "stale:MaxAge"}, usage: 10, checkOK: true,
		},
		{
			name: "maxAge waits until the collector has run that long", policy: imagegc.Policy{MaxAge: time.Hour}, running: time.Hour, fs: fs(90),
			images: []img{{id: "stale", size: 1, seenAgo: 3 * time.Hour, usedAgo: 2 * time.Hour}},
			usage:  10, checkOK: true,
		},
		{
			name: "maxAge removals count toward the space to free", policy: imagegc.Policy{MaxAge: time.Hour}, running: 2 * time.Hour, fs: fs(10),
			images: []img{{id: "stale", size: 6, seenAgo: 3 * time.Hour, usedAgo: 2 * time.Hour}, {id: "lru", size: 6, seenAgo: old, usedAgo: 5 * time.Minute}, {id: "recent", size: 6, seenAgo: old, usedAgo: time.Minute}},
			remove: []string{"stale:MaxAge", "lru:DiskUsage"}, usage: 90, toFree: 10 * mb, checkOK: true,
		},
		{
			name: "zero capacity: MaxAge removals only, and an error", policy: imagegc.Policy{MaxAge: time.Hour}, running: 2 * time.Hour, fs: kubelet.FsUsage{},
			images: []img{{id: "stale", size: 6, seenAgo: 3 * time.Hour, usedAgo: 2 * time.Hour}, {id: "lru", size: 6, seenAgo: old}},
			remove: []string{"stale:MaxAge"}, checkOK: true, err: imagegc.ErrInvalidCapacity,
		},
		{
			name: "an invalid policy plans nothing", policy: imagegc.Policy{HighThresholdPercent: 50, LowThresholdPercent: 60}, fs: fs(0),
			images:  []img{{id: "a", size: 8, seenAgo: old}},
			checkOK: true, err: imagegc.ErrInvalid,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := t0.Add(24 * time.Hour)
			began := now.Add(-tc.running)
			var images []imagegc.Image
			for _, i := range tc.images {
				images = append(images, i.at(now))
			}
			plan, err := imagegc.Decide(tc.policy, now, began, tc.fs, images)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
			} else {
				require.NoError(t, err)
			}
			var got []string
			var freed uint64
			for _, r := range plan.Remove {
				got = append(got, fmt.Sprintf("%s:%s", r.Image.ID, r.Reason))
				freed += r.Image.Size
			}
			assert.Equal(t, tc.remove, got)
			assert.Equal(t, tc.usage, plan.UsagePercent, "usage")
			assert.Equal(t, tc.toFree, plan.BytesToFree, "bytes to free")
			if err := plan.Check(freed); tc.checkOK {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, imagegc.ErrFreeSpaceFailed)
				assert.ErrorContains(t, err, fmt.Sprintf("attempted to free %d bytes, but only found %d bytes", tc.toFree, freed))
			}
		})
	}
}

func TestPolicyWithDefaults(t *testing.T) {
	p, err := imagegc.Policy{}.WithDefaults()
	require.NoError(t, err)
	assert.Equal(t, imagegc.Policy{HighThresholdPercent: 85, LowThresholdPercent: 80, MinAge: 2 * time.Minute}, p)
	again, err := p.WithDefaults()
	require.NoError(t, err)
	assert.Equal(t, p, again)
	none := imagegc.Policy{MinAge: -1}
	none, err = none.WithDefaults()
	require.NoError(t, err)
	none, err = none.WithDefaults()
	require.NoError(t, err)
	assert.Equal(t, time.Duration(-1), none.MinAge, "no minimum age stays none")

	for _, tc := range []struct {
		policy imagegc.Policy
		field  string
	}{
		{imagegc.Policy{HighThresholdPercent: 101}, "highThresholdPercent 101"},
		{imagegc.Policy{HighThresholdPercent: -1}, "highThresholdPercent -1"},
		{imagegc.Policy{LowThresholdPercent: 101}, "lowThresholdPercent 101"},
		{imagegc.Policy{LowThresholdPercent: -5}, "lowThresholdPercent -5"},
		{imagegc.Policy{LowThresholdPercent: 85}, "lowThresholdPercent 85 must be less than highThresholdPercent 85"},
		{imagegc.Policy{MaxAge: -time.Second}, "maxAge -1s"},
		{imagegc.Policy{MaxAge: time.Minute}, "maxAge 1m0s must be greater than minAge 2m0s"},
	} {
		t.Run(tc.field, func(t *testing.T) {
			_, err := tc.policy.WithDefaults()
			require.ErrorIs(t, err, imagegc.ErrInvalid)
			assert.ErrorContains(t, err, tc.field)
		})
	}
}
