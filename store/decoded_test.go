package store_test

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/store"
	"github.com/gantry-sdk/gantry/store/storetest"
)

// The store's contract holds with a decoded cache so small that it evicts
// all the time (the default one is run by TestStoreConformance).
func TestStoreConformanceTinyDecodedCache(t *testing.T) {
	storetest.RunStore(t, func(t *testing.T) store.Store {
		s, _ := openStore(t, store.Options{DecodedCacheSize: 2})
		return s
	})
}

// And with none.
func TestNoDecodedCache(t *testing.T) {
	s, _ := openStore(t, store.Options{DecodedCacheSize: -1})
	ctx := t.Context()
	w := store.For[*Widget](s)
	_, err := w.Create(ctx, widget("a", "red"), store.WriteOptions{})
	require.NoError(t, err)
	l1, err := s.ListShared(ctx, w.Kind().GVK, store.ListOptions{})
	require.NoError(t, err)
	l2, err := s.ListShared(ctx, w.Kind().GVK, store.ListOptions{})
	require.NoError(t, err)
	require.Len(t, l1.Items, 1)
	assert.NotSame(t, l1.Items[0], l2.Items[0], "without a cache every read decodes")
	assert.Equal(t, "red", l2.Items[0].(*Widget).Spec.Color)
}

func widget(name, color string) *Widget {
	return &Widget{ObjectMeta: apis.ObjectMeta{Namespace: "default", Name: name}, Spec: storetest.WidgetSpec{Color: color}}
}

// ListShared hands out the same objects every time; List, Get and writes
// hand out copies that the caller may change without the store seeing it.
func TestListSharedAndCopies(t *testing.T) {
	s, _ := openStore(t, store.Options{})
	ctx := t.Context()
	w := store.For[*Widget](s)
	created, err := w.Create(ctx, widget("a", "red"), store.WriteOptions{})
	require.NoError(t, err)
	created.Spec.Color = "changed by the creator"

	gvk := w.Kind().GVK
	l1, err := s.ListShared(ctx, gvk, store.ListOptions{})
	require.NoError(t, err)
	l2, err := s.ListShared(ctx, gvk, store.ListOptions{})
	require.NoError(t, err)
	require.Len(t, l1.Items, 1)
	require.Len(t, l2.Items, 1)
	assert.Same(t, l1.Items[0], l2.Items[0], "ListShared shares the decoded object")
	assert.Equal(t, "red", l1.Items[0].(*Widget).Spec.Color)
	assert.Equal(t, created.ResourceVersion, l1.Items[0].Meta().ResourceVersion)

	own, err := w.List(ctx, store.ListOptions{})
	require.NoError(t, err)
	require.Len(t, own.Items, 1)
	assert.NotSame(t, l1.Items[0], own.Items[0], "List hands out a copy")
	own.Items[0].Spec.Color = "changed by a lister"
	own.Items[0].Labels = map[string]string{"x": "y"}

	got, err := w.Get(ctx, apis.KeyOf(created), store.GetOptions{})
	require.NoError(t, err)
	assert.NotSame(t, l1.Items[0], got)
	assert.Equal(t, "red", got.Spec.Color)
	assert.Nil(t, got.Labels)
	got.Spec.Color = "changed by a getter"

	l3, err := s.ListShared(ctx, gvk, store.ListOptions{})
	require.NoError(t, err)
	assert.Equal(t, "red", l3.Items[0].(*Widget).Spec.Color)
}

// A dry run decodes a value at the current revision that is not stored: it
// must not stand for the stored value afterwards.
func TestDecodedCacheIgnoresDryRun(t *testing.T) {
	s, _ := openStore(t, store.Options{})
	ctx := t.Context()
	w := store.For[*Widget](s)
	created, err := w.Create(ctx, widget("a", "red"), store.WriteOptions{})
	require.NoError(t, err)
	created.Spec.Color = "green"
	dry, err := w.Update(ctx, created, store.WriteOptions{DryRun: true})
	require.NoError(t, err)
	assert.Equal(t, "green", dry.Spec.Color)

	got, err := w.Get(ctx, apis.KeyOf(created), store.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "red", got.Spec.Color)
	l, err := s.ListShared(ctx, w.Kind().GVK, store.ListOptions{})
	require.NoError(t, err)
	require.Len(t, l.Items, 1)
	assert.Equal(t, "red", l.Items[0].(*Widget).Spec.Color)

	// A real update is seen at its new revision.
	updated, err := w.Update(ctx, created, store.WriteOptions{})
	require.NoError(t, err)
	l, err = s.ListShared(ctx, w.Kind().GVK, store.ListOptions{})
	require.NoError(t, err)
	assert.Equal(t, "green", l.Items[0].(*Widget).Spec.Color)
	assert.Equal(t, updated.ResourceVersion, l.Items[0].Meta().ResourceVersion)

	// Past revisions still read as they were.
	past, err := w.Get(ctx, apis.KeyOf(created), store.GetOptions{Revision: mustRev(t, got.ResourceVersion)})
	require.NoError(t, err)
	assert.Equal(t, "red", past.Spec.Color)
}

func mustRev(t *testing.T, rv string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(rv, 10, 64)
	require.NoError(t, err)
	return n
}
