// Package batch holds the batch/v1 kinds Job and CronJob, with Kubernetes'
// defaults (backoffLimit 6, completions and parallelism 1, concurrencyPolicy
// Allow, history limits 3 and 1) and validation, including the cron schedule
// syntax (five fields with ranges, lists, steps and names, or a macro).
//
// Unless spec.manualSelector is true, DefaultJob labels the pod template
// with the job's name and selects on it (Kubernetes selects on the uid, which
// Gantry's store assigns after defaulting).
//
// # Usage
//
//	s := apis.NewScheme()
//	if err := batch.AddToScheme(s); err != nil { ... }
//	if msg := batch.ValidateSchedule("*/5 * * * *"); msg != "" { ... }
package batch
