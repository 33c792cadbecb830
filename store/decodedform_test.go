package store_test

import (
	"context"
	"encoding/json"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/builtin"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/apis/resource"
	"github.com/gantry-sdk/gantry/store"
	"github.com/gantry-sdk/gantry/store/storetest"
)

// The Store suite, with every written object the store keeps as decoded
// (instead of decoding what it just wrote) checked against a decoding.
func TestStoreConformanceVerifyingWrittenObjects(t *testing.T) {
	var total atomic.Int64
	storetest.RunStore(t, func(t *testing.T) store.Store {
		s, _ := openStore(t, store.Options{})
		n := s.VerifyWritten(t.Errorf)
		t.Cleanup(func() { total.Add(n.Load()) })
		return s
	})
	require.Positive(t, total.Load(), "no written object was kept: the check checked nothing")
}

// Built-in kinds written with values in and out of decoded form: what the
// store keeps always equals a decoding, whichever way it went.
func TestWrittenObjectsEqualTheirDecoding(t *testing.T) {
	ctx := context.Background()
	scheme, err := builtin.NewScheme()
	require.NoError(t, err)
	s, err := store.New(newKV(t), scheme, store.Options{})
	require.NoError(t, err)
	n := s.VerifyWritten(t.Errorf)
	now := time.Now()
	events := store.For[*core.Event](s)
	for i, tm := range []time.Time{now, now.Truncate(time.Second), now.Truncate(time.Second).Local(), now.UTC(), {}} {
		ev := &core.Event{
			ObjectMeta:     apis.ObjectMeta{Namespace: "default", Name: "e" + string(rune('a'+i)), Annotations: map[string]string{}},
			InvolvedObject: core.ObjectReference{Kind: "Pod", Name: "p", Namespace: "default"},
			Reason:         "Scheduled", Message: "bad \xff utf-8", EventType: core.EventTypeNormal,
			FirstTimestamp: apis.NewTime(tm), LastTimestamp: apis.NewTime(tm), EventTime: apis.MicroTime{Time: tm},
		}
		created, err := events.Create(ctx, ev, store.WriteOptions{})
		require.NoError(t, err)
		created.Message = "fine"
		created.Count = 2
		_, err = events.Update(ctx, created, store.WriteOptions{})
		require.NoError(t, err)
	}
	pods := store.For[*core.Pod](s)
	p := &core.Pod{ObjectMeta: apis.ObjectMeta{Namespace: "default", Name: "p", Labels: map[string]string{}},
		Spec: core.PodSpec{Containers: []core.Container{{Name: "c", Image: "busybox", Args: []string{},
			Resources: core.ResourceRequirements{Requests: core.ResourceList{
				core.ResourceCPU:    resource.MustParse("100m"),
				core.ResourceMemory: resource.NewQuantity(1<<20, resource.BinarySI)}}}}}}
	created, err := pods.Create(ctx, p, store.WriteOptions{})
	require.NoError(t, err)
	created.Status.Conditions = []core.PodCondition{{Type: core.PodReady, Status: apis.ConditionTrue, LastTransitionTime: apis.NewTime(now)}}
	_, err = pods.UpdateStatus(ctx, created, store.WriteOptions{})
	require.NoError(t, err)
	require.Positive(t, n.Load())
}

// roundTrip decodes obj's JSON into a new object of its type.
func roundTrip[T apis.Object](t testing.TB, obj T, fresh T) T {
	data, err := json.Marshal(obj)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, fresh))
	return fresh
}

// DecodedForm answers true only for objects that decoding their JSON gives
// back exactly, and false for the known ways a round trip changes a value.
func TestDecodedForm(t *testing.T) {
	sec := time.Date(2026, 11, 22, 1, 2, 3, 0, time.Local)
	tests := []struct {
		name string
		edit func(p *core.Pod)
		want bool
	}{
		{"as decoded", func(*core.Pod) {}, true},
		{"time with nanoseconds", func(p *core.Pod) { p.CreationTimestamp = apis.NewTime(sec.Add(5)) }, false},
		{"time in UTC", func(p *core.Pod) { p.CreationTimestamp = apis.NewTime(sec.UTC()) }, false},
		{"time with a monotonic reading", func(p *core.Pod) { p.CreationTimestamp = apis.NewTime(time.Now()) }, false},
		{"zero time with a zone", func(p *core.Pod) { p.CreationTimestamp = apis.NewTime(time.Time{}.Local()) }, false},
		{"empty omitempty slice", func(p *core.Pod) { p.Finalizers = []string{} }, false},
		{"empty omitempty map", func(p *core.Pod) { p.Annotations = map[string]string{} }, false},
		{"invalid UTF-8", func(p *core.Pod) { p.Labels["app"] = "\xff" }, false},
		{"invalid UTF-8 key", func(p *core.Pod) { p.Labels["\xff"] = "x" }, false},
		{"quantity as parsed", func(p *core.Pod) {
			p.Spec.Containers[0].Resources.Requests = core.ResourceList{core.ResourceCPU: resource.MustParse("100m")}
		}, true},
		{"raw JSON", func(p *core.Pod) {
			raw := apis.RawJSON(`{"f:metadata":{}}`)
			p.ManagedFields = []apis.ManagedFieldsEntry{{Manager: "m", FieldsV1: &raw}}
		}, false},
		{"condition times as decoded", func(p *core.Pod) {
			p.Status.Conditions = []core.PodCondition{{Type: core.PodReady, Status: apis.ConditionTrue, LastTransitionTime: apis.NewTime(sec)}}
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &core.Pod{
				TypeMeta:   apis.TypeMeta{APIVersion: "v1", Kind: "Pod"},
				ObjectMeta: apis.ObjectMeta{Namespace: "default", Name: "p", Labels: map[string]string{"app": "web"}, CreationTimestamp: apis.NewTime(sec)},
				Spec:       core.PodSpec{Containers: []core.Container{{Name: "c", Image: "busybox"}}},
			}
			tt.edit(p)
			got := store.DecodedForm(p)
			require.Equal(t, tt.want, got)
			if got {
				require.True(t, reflect.DeepEqual(p, roundTrip(t, p, &core.Pod{})), "decoded form, yet the round trip changed it")
			}
		})
	}
}

// FuzzDecodedForm: whenever DecodedForm says an Event is in decoded form,
// decoding its JSON gives it back exactly.
func FuzzDecodedForm(f *testing.F) {
	f.Add("web", "Scheduled", "Successfully assigned", int64(1700000000), int64(0), int32(1), true)
	f.Add("w\xffb", "", "\u2028<&>", int64(-5), int64(999), int32(0), false)
	f.Fuzz(func(t *testing.T, name, reason, msg string, sec, nsec int64, count int32, local bool) {
		tm := time.Unix(sec%(1<<34), nsec%int64(time.Second))
		if local {
			tm = tm.Local()
		} else {
			tm = tm.UTC()
		}
		ev := &core.Event{
			ObjectMeta:     apis.ObjectMeta{Namespace: "default", Name: name, CreationTimestamp: apis.NewTime(tm)},
			InvolvedObject: core.ObjectReference{Kind: "Pod", Name: name},
			Reason:         reason, Message: msg, Count: count,
			FirstTimestamp: apis.NewTime(tm), EventTime: apis.MicroTime{Time: tm},
		}
		if !store.DecodedForm(ev) {
			return
		}
		require.True(t, reflect.DeepEqual(ev, roundTrip(t, ev, &core.Event{})), "decoded form, yet the round trip changed %#v", ev)
	})
}
