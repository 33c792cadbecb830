// Package imagegc is the node agent's image garbage collection policy, as
// the kubelet's: when the image filesystem's usage (100 -
// available*100/capacity) reaches HighThresholdPercent (85), unused images are
// removed, least recently used first, until usage would be down to
// LowThresholdPercent (80). Images in use by any container (running or not,
// of any pod) and pinned images never go; images known for less than MinAge
// (2 min) are spared; with MaxAge set, images unused for longer go whatever
// the usage.
//
// The package does no I/O and reads no clock, in the style of
// go.etcd.io/raft: a Tracker keeps when each image was first seen and last
// used, Decide turns the records and the filesystem's usage into a Plan, and
// the caller (kubelet/agent) lists the runtime, removes the images and
// reports what it freed to Plan.Check.
//
// # Usage
//
//	tr := imagegc.NewTracker()
//	// on every container created: tr.Touch(imageRef, now)
//	// every 5 minutes:
//	imgs := tr.Observe(now, runtimeImages, runtimeContainers, pinned)
//	plan, err := imagegc.Decide(policy, now, tr.Began(), fsUsage, imgs)
//	var freed uint64
//	for _, r := range plan.Remove {
//		if tr.UsedSince(r.Image.Image, now) {
//			continue // a container was made from it meanwhile
//		}
//		if rt.RemoveImage(ctx, r.Image.ID) == nil {
//			freed += r.Image.Size
//			tr.Forget(r.Image.ID)
//		}
//	}
//	err = plan.Check(freed) // ErrFreeSpaceFailed if short of BytesToFree
package imagegc
