package batch

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/apis/field"
	"github.com/gantry-sdk/gantry/apis/field/fieldtest"
)

func ptr[T any](v T) *T { return &v }

func validJob() *Job {
	j := &Job{
		ObjectMeta: apis.ObjectMeta{Name: "pi", Namespace: "default"},
		Spec: JobSpec{Template: core.PodTemplateSpec{Spec: core.PodSpec{
			RestartPolicy: core.RestartPolicyNever,
			Containers:    []core.Container{{Name: "pi", Image: "perl:5.34"}},
		}}},
	}
	DefaultJob(j)
	return j
}

func TestDefaultJob(t *testing.T) {
	j := validJob()
	s := j.Spec
	assert.Equal(t, int32(1), *s.Completions)
	assert.Equal(t, int32(1), *s.Parallelism)
	assert.Equal(t, int32(6), *s.BackoffLimit)
	assert.Equal(t, NonIndexedCompletion, *s.CompletionMode)
	assert.False(t, *s.Suspend)
	assert.False(t, *s.ManualSelector)
	assert.Equal(t, TerminatingOrFailed, *s.PodReplacementPolicy)
	assert.Equal(t, "pi", s.Template.Labels[JobNameLabel])
	assert.Equal(t, "pi", s.Template.Labels[LegacyJobNameLabel])
	assert.Equal(t, map[string]string{JobNameLabel: "pi"}, s.Selector.MatchLabels)

	par := &JobSpec{Parallelism: ptr(int32(4)), PodFailurePolicy: &PodFailurePolicy{}}
	DefaultJobSpec(par)
	assert.Nil(t, par.Completions, "work-queue jobs keep completions unset")
	assert.Equal(t, Failed, *par.PodReplacementPolicy)

	manual := &Job{ObjectMeta: apis.ObjectMeta{Name: "m"}, Spec: JobSpec{ManualSelector: ptr(true)}}
	DefaultJob(manual)
	assert.Nil(t, manual.Spec.Selector)
}

func TestValidateJob(t *testing.T) {
	assert.Empty(t, ValidateJob(validJob()))
	tests := []struct {
		name   string
		mutate func(j *Job)
		path   string
		typ    field.Type
	}{
		{"restartPolicy Always", func(j *Job) { j.Spec.Template.Spec.RestartPolicy = core.RestartPolicyAlways }, "spec.template.spec.restartPolicy", field.TypeNotSupported},
		{"parallelism", func(j *Job) { j.Spec.Parallelism = ptr(int32(-1)) }, "spec.parallelism", field.TypeInvalid},
		{"completions", func(j *Job) { j.Spec.Completions = ptr(int32(-1)) }, "spec.completions", field.TypeInvalid},
		{"backoffLimit", func(j *Job) { j.Spec.BackoffLimit = ptr(int32(-1)) }, "spec.backoffLimit", field.TypeInvalid},
		{"activeDeadlineSeconds", func(j *Job) { j.Spec.ActiveDeadlineSeconds = ptr(int64(0)) }, "spec.activeDeadlineSeconds", field.TypeInvalid},
		{"ttl", func(j *Job) { j.Spec.TTLSecondsAfterFinished = ptr(int32(-1)) }, "spec.ttlSecondsAfterFinished", field.TypeInvalid},
		{"completionMode", func(j *Job) { j.Spec.CompletionMode = ptr(CompletionMode("Sometimes")) }, "spec.completionMode", field.TypeNotSupported},
		{"indexed needs completions", func(j *Job) { j.Spec.CompletionMode = ptr(IndexedCompletion); j.Spec.Completions = nil }, "spec.completions", field.TypeRequired},
		{"selector mismatch", func(j *Job) { j.Spec.Selector.MatchLabels[JobNameLabel] = "other" }, "spec.template.metadata.labels", field.TypeInvalid},
		{"selector required", func(j *Job) { j.Spec.Selector = nil }, "spec.selector", field.TypeRequired},
		{"container", func(j *Job) { j.Spec.Template.Spec.Containers = nil }, "spec.template.spec.containers", field.TypeRequired},
		{"podReplacementPolicy", func(j *Job) { j.Spec.PodReplacementPolicy = ptr(PodReplacementPolicy("Never")) }, "spec.podReplacementPolicy", field.TypeNotSupported},
		{"selector syntax", func(j *Job) { j.Spec.Selector.MatchLabels["x"] = "a b" }, "spec.selector.matchLabels[x]", field.TypeInvalid},
		{"name", func(j *Job) { j.Name = "Pi" }, "metadata.name", field.TypeInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := validJob()
			tt.mutate(j)
			fieldtest.ExpectOnly(t, ValidateJob(j), tt.path, tt.typ)
		})
	}
	old := validJob()
	j := validJob()
	j.Spec.Selector = &apis.LabelSelector{MatchLabels: map[string]string{"x": "y"}}
	fieldtest.ExpectOnly(t, ValidateJobUpdate(j, old), "spec.selector", field.TypeInvalid)
	assert.Empty(t, ValidateJobUpdate(validJob(), old))
	j = validJob()
	j.Spec.CompletionMode = ptr(IndexedCompletion)
	fieldtest.ExpectOnly(t, ValidateJobUpdate(j, old), "spec.completionMode", field.TypeInvalid)
}

func validCronJob() *CronJob {
	c := &CronJob{
		ObjectMeta: apis.ObjectMeta{Name: "nightly", Namespace: "default"},
		Spec: CronJobSpec{
			Schedule: "0 3 * * 1-5",
			JobTemplate: JobTemplateSpec{Spec: JobSpec{Template: core.PodTemplateSpec{Spec: core.PodSpec{
				RestartPolicy: core.RestartPolicyOnFailure,
				Containers:    []core.Container{{Name: "backup", Image: "backup:1"}},
			}}}},
		},
	}
	DefaultCronJob(c)
	return c
}

func TestCronJob(t *testing.T) {
	c := validCronJob()
	assert.Equal(t, AllowConcurrent, c.Spec.ConcurrencyPolicy)
	assert.False(t, *c.Spec.Suspend)
	assert.Equal(t, int32(3), *c.Spec.SuccessfulJobsHistoryLimit)
	assert.Equal(t, int32(1), *c.Spec.FailedJobsHistoryLimit)
	assert.Equal(t, int32(6), *c.Spec.JobTemplate.Spec.BackoffLimit)
	assert.Empty(t, ValidateCronJob(c))
	tests := []struct {
		name   string
		mutate func(c *CronJob)
		path   string
		typ    field.Type
	}{
		{"schedule required", func(c *CronJob) { c.Spec.Schedule = "" }, "spec.schedule", field.TypeRequired},
		{"schedule fields", func(c *CronJob) { c.Spec.Schedule = "* * *" }, "spec.schedule", field.TypeInvalid},
		{"schedule minute range", func(c *CronJob) { c.Spec.Schedule = "60 * * * *" }, "spec.schedule", field.TypeInvalid},
		{"schedule backwards range", func(c *CronJob) { c.Spec.Schedule = "* 5-1 * * *" }, "spec.schedule", field.TypeInvalid},
		{"schedule step", func(c *CronJob) { c.Spec.Schedule = "*/0 * * * *" }, "spec.schedule", field.TypeInvalid},
		{"schedule TZ", func(c *CronJob) { c.Spec.Schedule = "TZ=UTC * * * * *" }, "spec.schedule", field.TypeInvalid},
		{"schedule macro", func(c *CronJob) { c.Spec.Schedule = "@fortnightly" }, "spec.schedule", field.TypeInvalid},
		{"timeZone", func(c *CronJob) { c.Spec.TimeZone = ptr("Mars/Olympus") }, "spec.timeZone", field.TypeInvalid},
		{"concurrencyPolicy", func(c *CronJob) { c.Spec.ConcurrencyPolicy = "Queue" }, "spec.concurrencyPolicy", field.TypeNotSupported},
		{"startingDeadline", func(c *CronJob) { c.Spec.StartingDeadlineSeconds = ptr(int64(-1)) }, "spec.startingDeadlineSeconds", field.TypeInvalid},
		{"history", func(c *CronJob) { c.Spec.FailedJobsHistoryLimit = ptr(int32(-1)) }, "spec.failedJobsHistoryLimit", field.TypeInvalid},
		{"job restartPolicy", func(c *CronJob) { c.Spec.JobTemplate.Spec.Template.Spec.RestartPolicy = core.RestartPolicyAlways }, "spec.jobTemplate.spec.template.spec.restartPolicy", field.TypeNotSupported},
		{"schedule range end", func(c *CronJob) { c.Spec.Schedule = "0 0 1-32 * *" }, "spec.schedule", field.TypeInvalid},
		{"schedule every", func(c *CronJob) { c.Spec.Schedule = "@every soon" }, "spec.schedule", field.TypeInvalid},
		{"concurrencyPolicy required", func(c *CronJob) { c.Spec.ConcurrencyPolicy = "" }, "spec.concurrencyPolicy", field.TypeRequired},
		{"successful history", func(c *CronJob) { c.Spec.SuccessfulJobsHistoryLimit = ptr(int32(-1)) }, "spec.successfulJobsHistoryLimit", field.TypeInvalid},
		{"timeZone Local", func(c *CronJob) { c.Spec.TimeZone = ptr("Local") }, "spec.timeZone", field.TypeInvalid},
		{"template label", func(c *CronJob) { c.Spec.JobTemplate.Spec.Template.Labels = map[string]string{"a": "b c"} }, "spec.jobTemplate.spec.template.metadata.labels[a]", field.TypeInvalid},
		{"name length", func(c *CronJob) { c.Name = "a-name-that-is-far-too-long-for-the-jobs-it-would-create" }, "metadata.name", field.TypeInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validCronJob()
			tt.mutate(c)
			fieldtest.ExpectOnly(t, ValidateCronJob(c), tt.path, tt.typ)
		})
	}
	for _, ok := range []string{"*/15 * * * *", "0 0 1 jan,jul *", "30 2 * * SUN-SAT", "@hourly", "@every 90s", "0 0 * * 7", "5,10-20/5 * ? * *"} {
		assert.Empty(t, ValidateSchedule(ok), ok)
	}
	c = validCronJob()
	c.Spec.TimeZone = ptr("Europe/Berlin")
	assert.Empty(t, ValidateCronJob(c))
}

func TestRegistration(t *testing.T) {
	s := apis.NewScheme()
	require.NoError(t, AddToScheme(s))
	k, err := s.ByResource("cj")
	require.NoError(t, err)
	assert.Equal(t, "batch/v1, Kind=CronJob", k.GVK.String())
	k, err = s.ByResource("jobs.batch")
	require.NoError(t, err)
	assert.Equal(t, "3", k.Fields(&Job{Status: JobStatus{Succeeded: 3}})["status.successful"])
}
