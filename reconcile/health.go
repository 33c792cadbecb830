package reconcile

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// Check is a named health or readiness check: nil means healthy.
type Check struct {
	Name  string
	Check func(r *http.Request) error
}

// HealthHandler serves checks as Kubernetes serves /healthz and /readyz:
// 200 "ok" when every check passes, 500 with the failing checks otherwise;
// with ?verbose, every check is listed. Mount it at /healthz or /readyz.
func HealthHandler(checks ...Check) http.Handler {
	checks = slices.Clone(checks)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b strings.Builder
		failed := false
		for _, c := range checks {
			if err := c.Check(r); err != nil {
				failed = true
				fmt.Fprintf(&b, "[-]%s failed: %v\n", c.Name, err)
			} else {
				fmt.Fprintf(&b, "[+]%s ok\n", c.Name)
			}
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, verbose := r.URL.Query()["verbose"]
		if failed {
			w.WriteHeader(http.StatusInternalServerError)
			b.WriteString("check failed\n")
			_, _ = w.Write([]byte(onlyFailures(b.String(), verbose)))
			return
		}
		if verbose {
			_, _ = w.Write([]byte(b.String() + "check passed\n"))
			return
		}
		_, _ = w.Write([]byte("ok"))
	})
}

func onlyFailures(report string, verbose bool) string {
	if verbose {
		return report
	}
	var out []string
	for line := range strings.SplitSeq(report, "\n") {
		if !strings.HasPrefix(line, "[+]") && line != "" {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n") + "\n"
}

// ReadyCheck is a readiness check that passes once the controller's
// sources have synced and its workers run.
func (c *Controller) ReadyCheck() Check {
	return Check{Name: "controller-" + c.name, Check: func(*http.Request) error {
		if !c.ready.Load() {
			return fmt.Errorf("controller %s: sources not synced", c.name)
		}
		return nil
	}}
}
