package imagegc

import (
	"time"

	"github.com/gantry-sdk/gantry/kubelet"
)

// Tracker keeps the images' records between collections: when each was
// first seen and last used. It is not safe for concurrent use (the agent
// guards it); time is what its callers pass.
type Tracker struct {
	began   time.Time
	records map[string]*record // by image ID
	// touched holds uses by reference (a name or an ID) reported by Touch,
	// resolved to IDs at the next Observe.
	touched map[string]time.Time
}

type record struct {
	firstSeen, lastUsed time.Time
	names               []string
}

// NewTracker returns an empty Tracker.
func NewTracker() *Tracker {
	return &Tracker{records: map[string]*record{}, touched: map[string]time.Time{}}
}

// Began is when the tracker first observed the runtime (zero before).
func (t *Tracker) Began() time.Time { return t.began }

// Touch records that a container is being made from ref (an image name or
// ID) at now: the image counts as used then, and a collection planned before
// it does not remove it (see UsedSince).
func (t *Tracker) Touch(ref string, now time.Time) {
	if ref == "" {
		return
	}
	if at, ok := t.touched[ref]; !ok || now.After(at) {
		t.touched[ref] = now
	}
}

// UsedSince reports whether img was touched at or after since: a container
// made from it after the plan was made, which the plan could not know of.
func (t *Tracker) UsedSince(img kubelet.Image, since time.Time) bool {
	for _, ref := range append([]string{img.ID}, img.Names...) {
		if at, ok := t.touched[ref]; ok && !at.Before(since) {
			return true
		}
	}
	return false
}

// Observe updates the records from what the runtime holds at now and returns
// the images with them, ready for Decide. An image first seen gets
// FirstSeen now; one used by a container (any state; by ID or by name) is
// InUse, one the runtime pins or named in pinned is Pinned, and an in-use one gets LastUsed now;
// touches since the last Observe count as uses; records of images gone are
// dropped. After a restart the records start again from now: a new Tracker
// knows no history, and the running containers give the images in use.
func (t *Tracker) Observe(now time.Time, images []kubelet.Image, containers []kubelet.ContainerStatus, pinned []string) []Image {
	if t.began.IsZero() {
		t.began = now
	}
	used := make(map[string]bool, 2*len(containers))
	for _, c := range containers {
		if c.ImageID != "" {
			used[c.ImageID] = true
		}
		if c.Image != "" {
			used[c.Image] = true
		}
	}
	pins := make(map[string]bool, len(pinned))
	for _, p := range pinned {
		pins[p] = true
	}
	present := make(map[string]bool, len(images))
	out := make([]Image, 0, len(images))
	for _, img := range images {
		if img.ID == "" {
			continue
		}
		present[img.ID] = true
		rec, ok := t.records[img.ID]
		if !ok {
			rec = &record{firstSeen: now}
			t.records[img.ID] = rec
		}
		rec.names = img.Names
		gi := Image{Image: img, Pinned: img.Pinned}
		refs := append([]string{img.ID}, img.Names...)
		for _, ref := range refs {
			if used[ref] {
				gi.InUse = true
			}
			if pins[ref] {
				gi.Pinned = true
			}
			if at, ok := t.touched[ref]; ok && at.After(rec.lastUsed) {
				rec.lastUsed = at
			}
		}
		if gi.InUse {
			rec.lastUsed = now
		}
		gi.FirstSeen, gi.LastUsed = rec.firstSeen, rec.lastUsed
		out = append(out, gi)
	}
	for id := range t.records {
		if !present[id] {
			delete(t.records, id)
		}
	}
	// Touches are folded into the records; keep only those at now or later,
	// which a plan made now must still see.
	for ref, at := range t.touched {
		if at.Before(now) {
			delete(t.touched, ref)
		}
	}
	return out
}

// Forget drops the record of a removed image.
func (t *Tracker) Forget(id string) { delete(t.records, id) }
