package batch

import (
	"strconv"
	"strings"
	"time"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/apis/field"
	"github.com/gantry-sdk/gantry/apis/labels"
)

var metadataPath = field.NewPath("metadata")

func nonneg32(v *int32, p *field.Path) field.ErrorList {
	if v == nil {
		return nil
	}
	return apis.ValidateNonnegative(*v, p)
}

// ValidateJob checks a Job's metadata and spec.
func ValidateJob(j *Job) field.ErrorList {
	errs := apis.ValidateObjectMeta(&j.ObjectMeta, true, apis.IsDNS1123Subdomain, metadataPath)
	return append(errs, ValidateJobSpec(&j.Spec, field.NewPath("spec"))...)
}

// ValidateJobSpec checks counts (≥ 0), the selector (required and matching
// the template), the template with restartPolicy OnFailure or Never, and the
// completion mode.
func ValidateJobSpec(s *JobSpec, sp *field.Path) field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, nonneg32(s.Parallelism, sp.Child("parallelism"))...)
	errs = append(errs, nonneg32(s.Completions, sp.Child("completions"))...)
	errs = append(errs, nonneg32(s.BackoffLimit, sp.Child("backoffLimit"))...)
	errs = append(errs, nonneg32(s.TTLSecondsAfterFinished, sp.Child("ttlSecondsAfterFinished"))...)
	if d := s.ActiveDeadlineSeconds; d != nil && *d <= 0 {
		errs = append(errs, field.Invalid(sp.Child("activeDeadlineSeconds"), *d, "must be greater than 0"))
	}
	if m := s.CompletionMode; m != nil {
		switch *m {
		case NonIndexedCompletion:
		case IndexedCompletion:
			if s.Completions == nil {
				errs = append(errs, field.Required(sp.Child("completions"), "when completion mode is Indexed"))
			}
		default:
			errs = append(errs, field.NotSupported(sp.Child("completionMode"), string(*m), []string{string(NonIndexedCompletion), string(IndexedCompletion)}))
		}
	}
	if p := s.PodReplacementPolicy; p != nil && *p != TerminatingOrFailed && *p != Failed {
		errs = append(errs, field.NotSupported(sp.Child("podReplacementPolicy"), string(*p), []string{string(TerminatingOrFailed), string(Failed)}))
	}
	if s.Selector == nil {
		errs = append(errs, field.Required(sp.Child("selector"), ""))
	} else {
		serrs := apis.ValidateLabelSelector(s.Selector, sp.Child("selector"))
		errs = append(errs, serrs...)
		if len(serrs) == 0 {
			if sel, err := labels.FromLabelSelector(s.Selector); err != nil {
				errs = append(errs, field.Invalid(sp.Child("selector"), "", err.Error()))
			} else if !sel.Matches(labels.Set(s.Template.Labels)) {
				errs = append(errs, field.Invalid(sp.Child("template", "metadata", "labels"), labels.Set(s.Template.Labels).String(), "`selector` does not match template `labels`"))
			}
		}
	}
	tp := sp.Child("template")
	errs = append(errs, core.ValidatePodTemplateSpec(&s.Template, tp)...)
	errs = append(errs, core.ValidateTemplateRestartPolicy(&s.Template.Spec, tp.Child("spec"), core.RestartPolicyOnFailure, core.RestartPolicyNever)...)
	return errs
}

// ValidateJobUpdate keeps the selector and, while the Job is not suspended,
// the template; completions may change only for Indexed jobs.
func ValidateJobUpdate(j, old *Job) field.ErrorList {
	var errs field.ErrorList
	sp := field.NewPath("spec")
	if !equalSelectors(j.Spec.Selector, old.Spec.Selector) {
		errs = append(errs, field.Invalid(sp.Child("selector"), "", "field is immutable"))
	}
	if old.Spec.CompletionMode != nil && j.Spec.CompletionMode != nil && *old.Spec.CompletionMode != *j.Spec.CompletionMode {
		errs = append(errs, field.Invalid(sp.Child("completionMode"), string(*j.Spec.CompletionMode), "field is immutable"))
	}
	return errs
}

func equalSelectors(a, b *apis.LabelSelector) bool {
	sa, errA := labels.FromLabelSelector(a)
	sb, errB := labels.FromLabelSelector(b)
	if errA != nil || errB != nil {
		return errA == nil && errB == nil
	}
	return sa.String() == sb.String() && labels.IsNothing(sa) == labels.IsNothing(sb)
}

// ValidateCronJob checks the schedule (five-field cron or a macro), the time
// zone, the concurrency policy, the history limits and the job template.
func ValidateCronJob(c *CronJob) field.ErrorList {
	// CronJob names become job name prefixes plus an 11-character suffix.
	errs := apis.ValidateObjectMeta(&c.ObjectMeta, true, apis.IsDNS1123Subdomain, metadataPath)
	if len(c.Name) > 52 {
		errs = append(errs, field.Invalid(metadataPath.Child("name"), c.Name, "must be no more than 52 characters"))
	}
	sp := field.NewPath("spec")
	if c.Spec.Schedule == "" {
		errs = append(errs, field.Required(sp.Child("schedule"), ""))
	} else if err := ValidateSchedule(c.Spec.Schedule); err != "" {
		errs = append(errs, field.Invalid(sp.Child("schedule"), c.Spec.Schedule, err))
	}
	if tz := c.Spec.TimeZone; tz != nil {
		if _, err := time.LoadLocation(*tz); err != nil || strings.EqualFold(*tz, "local") {
			errs = append(errs, field.Invalid(sp.Child("timeZone"), *tz, "unknown time zone"))
		}
	}
	switch c.Spec.ConcurrencyPolicy {
	case AllowConcurrent, ForbidConcurrent, ReplaceConcurrent:
	case "":
		errs = append(errs, field.Required(sp.Child("concurrencyPolicy"), ""))
	default:
		errs = append(errs, field.NotSupported(sp.Child("concurrencyPolicy"), string(c.Spec.ConcurrencyPolicy), []string{"Allow", "Forbid", "Replace"}))
	}
	if d := c.Spec.StartingDeadlineSeconds; d != nil && *d < 0 {
		errs = append(errs, field.Invalid(sp.Child("startingDeadlineSeconds"), *d, "must be greater than or equal to 0"))
	}
	errs = append(errs, nonneg32(c.Spec.SuccessfulJobsHistoryLimit, sp.Child("successfulJobsHistoryLimit"))...)
	errs = append(errs, nonneg32(c.Spec.FailedJobsHistoryLimit, sp.Child("failedJobsHistoryLimit"))...)
	jp := sp.Child("jobTemplate", "spec")
	js := &c.Spec.JobTemplate.Spec
	// The CronJob controller sets the selector of each Job it creates, so the
	// template usually has none; check the rest of the job spec.
	withSelector := *js
	if withSelector.Selector == nil {
		withSelector.Selector = &apis.LabelSelector{} // matches every template
	}
	return append(errs, ValidateJobSpec(&withSelector, jp)...)
}

// cron field bounds: minute, hour, day of month, month, day of week.
var cronBounds = [5][2]int{{0, 59}, {0, 23}, {1, 31}, {1, 12}, {0, 7}}

var cronNames = [5]map[string]int{
	3: {"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12},
	4: {"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6},
}

// ValidateSchedule checks a cron schedule in the standard five-field syntax
// (with ranges, lists, steps, month and weekday names) or a macro (@hourly,
// @daily, @every 1h...). It returns "" when valid, else the reason.
func ValidateSchedule(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "TZ=") || strings.HasPrefix(s, "CRON_TZ=") {
		return "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"
	}
	if strings.HasPrefix(s, "@") {
		switch s {
		case "@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly":
			return ""
		}
		if d, ok := strings.CutPrefix(s, "@every "); ok {
			if v, err := time.ParseDuration(d); err == nil && v > 0 {
				return ""
			}
			return "invalid duration in @every"
		}
		return "unrecognized descriptor: " + s
	}
	fields := strings.Fields(s)
	if len(fields) != 5 {
		return "expected exactly 5 fields, found " + strconv.Itoa(len(fields)) + ": " + s
	}
	for i, f := range fields {
		for _, part := range strings.Split(f, ",") {
			if msg := validateCronPart(part, i); msg != "" {
				return msg
			}
		}
	}
	return ""
}

func validateCronPart(part string, idx int) string {
	lo, hi := cronBounds[idx][0], cronBounds[idx][1]
	rng, step, hasStep := strings.Cut(part, "/")
	if hasStep {
		n, err := strconv.Atoi(step)
		if err != nil || n <= 0 {
			return "invalid step " + strconv.Quote(step)
		}
	}
	if rng == "*" || rng == "?" {
		return ""
	}
	a, b, isRange := strings.Cut(rng, "-")
	parse := func(v string) (int, bool) {
		if n, ok := cronNames[idx][strings.ToLower(v)]; ok {
			return n, true
		}
		n, err := strconv.Atoi(v)
		return n, err == nil && n >= lo && n <= hi
	}
	start, ok := parse(a)
	if !ok {
		return "value " + strconv.Quote(a) + " out of range [" + strconv.Itoa(lo) + "-" + strconv.Itoa(hi) + "]"
	}
	if isRange {
		end, ok := parse(b)
		if !ok {
			return "value " + strconv.Quote(b) + " out of range [" + strconv.Itoa(lo) + "-" + strconv.Itoa(hi) + "]"
		}
		if end < start {
			return "beginning of range (" + a + ") beyond end of range (" + b + ")"
		}
	}
	return ""
}
