package imagegc_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/gantry-sdk/gantry/kubelet"
	"github.com/gantry-sdk/gantry/kubelet/imagegc"
)

// record is the golden view of an observed image.
type record struct {
	FirstSeen, LastUsed time.Time
	InUse, Pinned       bool
}

func records(imgs []imagegc.Image) map[string]record {
	out := map[string]record{}
	for _, i := range imgs {
		out[i.ID] = record{i.FirstSeen, i.LastUsed, i.InUse, i.Pinned}
	}
	return out
}

func TestTracker(t *testing.T) {
	app := kubelet.Image{ID: "sha256:app", Names: []string{"app:v1"}, Size: mb}
	db := kubelet.Image{ID: "sha256:db", Names: []string{"db:v1", "db:latest"}, Size: mb}
	pause := kubelet.Image{ID: "sha256:pause", Names: []string{"pause:3"}, Size: mb}
	tr := imagegc.NewTracker()
	assert.True(t, tr.Began().IsZero())

	// First sight: everything first seen now; a container (exited counts)
	// using app by ID marks it in use and used now.
	t1 := t0
	got := tr.Observe(t1, []kubelet.Image{app, db, pause}, []kubelet.ContainerStatus{
		{ID: "c1", Image: "app:v1", ImageID: "sha256:app", State: kubelet.ContainerExited},
	}, []string{"pause:3"})
	assert.Equal(t, t1, tr.Began())
	assert.Equal(t, map[string]record{
		"sha256:app":   {FirstSeen: t1, LastUsed: t1, InUse: true},
		"sha256:db":    {FirstSeen: t1},
		"sha256:pause": {FirstSeen: t1, Pinned: true},
	}, records(got))

	// A container made from db by one of its names: a use at that time, and
	// it blocks a removal planned before.
	t2 := t1.Add(time.Minute)
	tr.Touch("db:latest", t2)
	assert.True(t, tr.UsedSince(db, t2))
	assert.False(t, tr.UsedSince(db, t2.Add(time.Second)))
	assert.False(t, tr.UsedSince(app, t1))

	// Later, with the container gone: app keeps its last use, db has the
	// touched one; the container of db by name only marks it in use.
	t3 := t2.Add(time.Minute)
	got = tr.Observe(t3, []kubelet.Image{app, db}, []kubelet.ContainerStatus{{ID: "c2", Image: "db:v1"}}, nil)
	assert.Equal(t, map[string]record{
		"sha256:app": {FirstSeen: t1, LastUsed: t1},
		"sha256:db":  {FirstSeen: t1, LastUsed: t3, InUse: true},
	}, records(got))
	assert.False(t, tr.UsedSince(db, t2), "touches are folded into the records")

	// pause went away and came back: a new first sight. A forgotten image too.
	t4 := t3.Add(time.Minute)
	tr.Forget("sha256:app")
	got = tr.Observe(t4, []kubelet.Image{app, db, pause}, nil, nil)
	assert.Equal(t, map[string]record{
		"sha256:app":   {FirstSeen: t4},
		"sha256:db":    {FirstSeen: t1, LastUsed: t3},
		"sha256:pause": {FirstSeen: t4},
	}, records(got))

	// A restarted agent has a new tracker: history starts again from the
	// running containers.
	restarted := imagegc.NewTracker()
	got = restarted.Observe(t4, []kubelet.Image{app, db}, []kubelet.ContainerStatus{{ImageID: "sha256:db"}}, nil)
	assert.Equal(t, map[string]record{
		"sha256:app": {FirstSeen: t4},
		"sha256:db":  {FirstSeen: t4, LastUsed: t4, InUse: true},
	}, records(got))

	// The runtime's own pin counts like the configured ones.
	sandbox := kubelet.Image{ID: "sha256:sandbox", Names: []string{"registry.k8s.io/pause:3.10"}, Pinned: true}
	got = tr.Observe(t4, []kubelet.Image{sandbox}, nil, nil)
	assert.Equal(t, map[string]record{"sha256:sandbox": {FirstSeen: t4, Pinned: true}}, records(got))

	// Touch of an empty reference is ignored; a later touch wins, an earlier one does not.
	tr.Touch("", t4)
	tr.Touch("app:v1", t4.Add(2*time.Second))
	tr.Touch("app:v1", t4.Add(time.Second))
	assert.True(t, tr.UsedSince(app, t4.Add(2*time.Second)))
}
