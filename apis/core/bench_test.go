package core

import (
	"encoding/json"
	"testing"
)

func BenchmarkDefaultPod(b *testing.B) {
	base := validPod()
	for b.Loop() {
		p := *base
		DefaultPod(&p)
	}
}

func BenchmarkValidatePod(b *testing.B) {
	p := validPod()
	for b.Loop() {
		if errs := ValidatePod(p); len(errs) > 0 {
			b.Fatal(errs)
		}
	}
}

func BenchmarkValidatePodUpdate(b *testing.B) {
	p, old := validPod(), validPod()
	p.Spec.Containers[0].Image = "nginx:2"
	for b.Loop() {
		if errs := ValidatePodUpdate(p, old); len(errs) > 0 {
			b.Fatal(errs)
		}
	}
}

func BenchmarkPodJSONRoundTrip(b *testing.B) {
	data, err := json.Marshal(validPod())
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		var p Pod
		if err := json.Unmarshal(data, &p); err != nil {
			b.Fatal(err)
		}
		if _, err := json.Marshal(&p); err != nil {
			b.Fatal(err)
		}
	}
}
