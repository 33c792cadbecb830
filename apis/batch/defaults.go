package batch

import (
	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/core"
)

// Defaults of batch/v1.
const (
	DefaultBackoffLimit               int32 = 6
	DefaultSuccessfulJobsHistoryLimit int32 = 3
	DefaultFailedJobsHistoryLimit     int32 = 1
)

func int32Ptr(v int32) *int32 { return &v }

func boolPtr(v bool) *bool { return &v }

// DefaultJob fills a Job's spec (DefaultJobSpec) and, unless the selector is
// manual, labels the template with the job name and selects on it. (Kubernetes
// selects on the job's uid, which the store assigns only after defaulting;
// the name label is stable for the job's lifetime.)
func DefaultJob(j *Job) {
	DefaultJobSpec(&j.Spec)
	if j.Spec.ManualSelector != nil && *j.Spec.ManualSelector {
		return
	}
	if j.Name == "" {
		return
	}
	t := &j.Spec.Template
	if t.Labels == nil {
		t.Labels = map[string]string{}
	}
	if _, ok := t.Labels[JobNameLabel]; !ok {
		t.Labels[JobNameLabel] = j.Name
	}
	if _, ok := t.Labels[LegacyJobNameLabel]; !ok {
		t.Labels[LegacyJobNameLabel] = j.Name
	}
	if j.Spec.Selector == nil {
		j.Spec.Selector = &apis.LabelSelector{MatchLabels: map[string]string{JobNameLabel: j.Name}}
	}
}

// DefaultJobSpec sets completions and parallelism (1 and 1 when both are
// unset, else parallelism 1), backoffLimit 6, completionMode NonIndexed,
// suspend false, podReplacementPolicy (Failed with a podFailurePolicy, else
// TerminatingOrFailed), manualSelector false and the template defaults.
func DefaultJobSpec(s *JobSpec) {
	if s.Completions == nil && s.Parallelism == nil {
		s.Completions = int32Ptr(1)
		s.Parallelism = int32Ptr(1)
	}
	if s.Parallelism == nil {
		s.Parallelism = int32Ptr(1)
	}
	if s.BackoffLimit == nil {
		if s.BackoffLimitPerIndex != nil {
			s.BackoffLimit = int32Ptr(1<<31 - 1)
		} else {
			s.BackoffLimit = int32Ptr(DefaultBackoffLimit)
		}
	}
	if s.CompletionMode == nil {
		m := NonIndexedCompletion
		s.CompletionMode = &m
	}
	if s.Suspend == nil {
		s.Suspend = boolPtr(false)
	}
	if s.PodReplacementPolicy == nil {
		p := TerminatingOrFailed
		if s.PodFailurePolicy != nil {
			p = Failed
		}
		s.PodReplacementPolicy = &p
	}
	if s.ManualSelector == nil {
		s.ManualSelector = boolPtr(false)
	}
	core.DefaultPodSpec(&s.Template.Spec)
}

// DefaultCronJob sets concurrencyPolicy Allow, suspend false, history limits
// 3 successful and 1 failed, and the job template defaults.
func DefaultCronJob(c *CronJob) {
	s := &c.Spec
	if s.ConcurrencyPolicy == "" {
		s.ConcurrencyPolicy = AllowConcurrent
	}
	if s.Suspend == nil {
		s.Suspend = boolPtr(false)
	}
	if s.SuccessfulJobsHistoryLimit == nil {
		s.SuccessfulJobsHistoryLimit = int32Ptr(DefaultSuccessfulJobsHistoryLimit)
	}
	if s.FailedJobsHistoryLimit == nil {
		s.FailedJobsHistoryLimit = int32Ptr(DefaultFailedJobsHistoryLimit)
	}
	DefaultJobSpec(&s.JobTemplate.Spec)
}
