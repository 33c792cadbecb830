package batch

import (
	"strconv"

	"github.com/gantry-sdk/gantry/apis"
)

// GroupVersion is batch/v1.
var GroupVersion = apis.GroupVersion{Group: "batch", Version: "v1"}

// AddToScheme registers Job and CronJob.
func AddToScheme(s *apis.Scheme) error {
	if err := apis.Register[Job](s, apis.Kind[*Job]{
		GroupVersionKind: GroupVersion.WithKind("Job"), Resource: "jobs",
		Default: DefaultJob, Validate: ValidateJob, ValidateUpdate: ValidateJobUpdate,
		Fields: func(j *Job) map[string]string {
			return map[string]string{"status.successful": strconv.Itoa(int(j.Status.Succeeded))}
		},
	}); err != nil {
		return err
	}
	return apis.Register[CronJob](s, apis.Kind[*CronJob]{
		GroupVersionKind: GroupVersion.WithKind("CronJob"), Resource: "cronjobs", ShortNames: []string{"cj"},
		Default: DefaultCronJob, Validate: ValidateCronJob,
	})
}
