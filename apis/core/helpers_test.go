package core

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/resource"
)

func rl(cpu, mem string) ResourceList {
	return ResourceList{ResourceCPU: resource.MustParse(cpu), ResourceMemory: resource.MustParse(mem)}
}

func TestPodRequests(t *testing.T) {
	always := ptr(ContainerRestartPolicyAlways)
	tests := []struct {
		name     string
		spec     PodSpec
		cpu, mem string
	}{
		{"containers sum", PodSpec{Containers: []Container{
			{Resources: ResourceRequirements{Requests: rl("100m", "64Mi")}},
			{Resources: ResourceRequirements{Requests: rl("200m", "64Mi")}},
		}}, "300m", "128Mi"},
		{"init container peak wins", PodSpec{
			InitContainers: []Container{{Resources: ResourceRequirements{Requests: rl("1", "32Mi")}}},
			Containers:     []Container{{Resources: ResourceRequirements{Requests: rl("100m", "64Mi")}}},
		}, "1", "64Mi"},
		{"sidecar adds to everything after it", PodSpec{
			InitContainers: []Container{
				{RestartPolicy: always, Resources: ResourceRequirements{Requests: rl("100m", "16Mi")}},
				{Resources: ResourceRequirements{Requests: rl("500m", "16Mi")}},
			},
			Containers: []Container{{Resources: ResourceRequirements{Requests: rl("200m", "64Mi")}}},
		}, "600m", "80Mi"},
		{"overhead", PodSpec{
			Containers: []Container{{Resources: ResourceRequirements{Requests: rl("100m", "64Mi")}}},
			Overhead:   rl("250m", "120Mi"),
		}, "350m", "184Mi"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := PodRequests(&tt.spec)
			assert.Equal(t, 0, got.Cpu().Cmp(resource.MustParse(tt.cpu)), "cpu %s", got.Cpu().String())
			assert.Equal(t, 0, got.Memory().Cmp(resource.MustParse(tt.mem)), "memory %s", got.Memory().String())
		})
	}
	lim := PodLimits(&PodSpec{Containers: []Container{{Resources: ResourceRequirements{Limits: rl("1", "1Gi")}}, {}}})
	assert.Equal(t, "1Gi", lim.Memory().String())
	assert.Empty(t, PodRequests(&PodSpec{Containers: []Container{{}}}))
}

func TestPodConditions(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	p := &Pod{Status: PodStatus{Phase: PodRunning, Conditions: []PodCondition{
		{Type: PodScheduled, Status: apis.ConditionTrue},
		{Type: PodReady, Status: apis.ConditionTrue, LastTransitionTime: apis.NewTime(now.Add(-10 * time.Second))},
	}}}
	assert.True(t, IsPodReady(p))
	assert.True(t, IsPodAvailable(p, 0, now))
	assert.True(t, IsPodAvailable(p, 10, now))
	assert.False(t, IsPodAvailable(p, 11, now))
	assert.False(t, IsPodTerminal(p))
	p.Status.Conditions[1].Status = apis.ConditionFalse
	assert.False(t, IsPodReady(p))
	assert.False(t, IsPodAvailable(p, 0, now))
	assert.Nil(t, p.Status.GetPodCondition(ContainersReady))
	p.Status.Phase = PodSucceeded
	assert.True(t, IsPodTerminal(p))
}
