package store_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/store"
)

// BenchmarkDecodedForm compares checking that an Event is in decoded form
// (what a write then keeps instead of decoding) with decoding it.
func BenchmarkDecodedForm(b *testing.B) {
	now := time.Now().Truncate(time.Second).Local()
	ev := &core.Event{
		TypeMeta:       apis.TypeMeta{APIVersion: "v1", Kind: "Event"},
		ObjectMeta:     apis.ObjectMeta{Namespace: "default", Name: "pod-00001.1879a", UID: "0b0e3b5c-5a1c-4bdf-9f0c-3b8c8d1c2f11", CreationTimestamp: apis.NewTime(now)},
		InvolvedObject: core.ObjectReference{Kind: "Pod", APIVersion: "v1", Name: "pod-00001", Namespace: "default", UID: "uid", ResourceVersion: "123"},
		Reason:         "Scheduled", Message: "Successfully assigned default/pod-00001 to node-00001", EventType: core.EventTypeNormal,
		Source: core.EventSource{Component: "default-scheduler"}, Count: 1, ReportingController: "default-scheduler",
		FirstTimestamp: apis.NewTime(now), LastTimestamp: apis.NewTime(now),
	}
	data, err := json.Marshal(ev)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("check", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !store.DecodedForm(ev) {
				b.Fatal("not in decoded form")
			}
		}
	})
	b.Run("check+copy", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !store.DecodedForm(ev) {
				b.Fatal("not in decoded form")
			}
			_ = apis.DeepCopy(ev)
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var out core.Event
			if err := json.Unmarshal(data, &out); err != nil {
				b.Fatal(err)
			}
		}
	})
}
