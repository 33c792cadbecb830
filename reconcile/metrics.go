package reconcile

import (
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the Prometheus metrics of work queues, controllers and leader
// election, under the names client-go and controller-runtime use, so existing
// dashboards and alerts work unchanged. Create one per Registerer with
// NewMetrics and pass it in the Options of every queue, controller and
// elector; a nil *Metrics records nothing.
type Metrics struct {
	depth         *prometheus.GaugeVec
	adds          *prometheus.CounterVec
	queueDuration *prometheus.HistogramVec
	workDuration  *prometheus.HistogramVec
	retries       *prometheus.CounterVec
	unfinished    *prometheus.Desc
	longest       *prometheus.Desc

	reconcileTotal  *prometheus.CounterVec
	reconcileErrors *prometheus.CounterVec
	terminalErrors  *prometheus.CounterVec
	reconcilePanics *prometheus.CounterVec
	reconcileTime   *prometheus.HistogramVec
	maxConcurrent   *prometheus.GaugeVec
	activeWorkers   *prometheus.GaugeVec
	leaderStatus    *prometheus.GaugeVec

	mu     sync.Mutex
	queues map[*queueMetrics]struct{} // live queues, for the in-flight gauges computed at scrape time
}

// NewMetrics creates the metrics and registers them into reg. It fails if
// they are already registered there (one Metrics per Registerer).
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	queueLabel := []string{"name"}
	ctrlLabel := []string{"controller"}
	m := &Metrics{
		depth: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "workqueue_depth", Help: "Current depth of workqueue",
		}, queueLabel),
		adds: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "workqueue_adds_total", Help: "Total number of adds handled by workqueue",
		}, queueLabel),
		queueDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "workqueue_queue_duration_seconds",
			Help:    "How long in seconds an item stays in workqueue before being requested",
			Buckets: prometheus.ExponentialBuckets(1e-8, 10, 10),
		}, queueLabel),
		workDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "workqueue_work_duration_seconds",
			Help:    "How long in seconds processing an item from workqueue takes",
			Buckets: prometheus.ExponentialBuckets(1e-8, 10, 10),
		}, queueLabel),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "workqueue_retries_total", Help: "Total number of retries handled by workqueue",
		}, queueLabel),
		unfinished: prometheus.NewDesc("workqueue_unfinished_work_seconds",
			"How many seconds of work has been done that is in progress and hasn't been observed by work_duration. "+
				"Large values indicate stuck threads.", queueLabel, nil),
		longest: prometheus.NewDesc("workqueue_longest_running_processor_seconds",
			"How many seconds has the longest running processor for workqueue been running.", queueLabel, nil),

		reconcileTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "controller_runtime_reconcile_total", Help: "Total number of reconciliations per controller",
		}, []string{"controller", "result"}),
		reconcileErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "controller_runtime_reconcile_errors_total", Help: "Total number of reconciliation errors per controller",
		}, ctrlLabel),
		terminalErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "controller_runtime_terminal_reconcile_errors_total",
			Help: "Total number of terminal reconciliation errors per controller",
		}, ctrlLabel),
		reconcilePanics: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "controller_runtime_reconcile_panics_total", Help: "Total number of reconciliation panics per controller",
		}, ctrlLabel),
		reconcileTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "controller_runtime_reconcile_time_seconds",
			Help:    "Length of time per reconciliation per controller",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 15),
		}, ctrlLabel),
		maxConcurrent: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "controller_runtime_max_concurrent_reconciles", Help: "Maximum number of concurrent reconciles per controller",
		}, ctrlLabel),
		activeWorkers: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "controller_runtime_active_workers", Help: "Number of currently used workers per controller",
		}, ctrlLabel),
		leaderStatus: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "leader_election_master_status",
			Help: "Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master. 'name' is the string used to identify the lease.",
		}, queueLabel),
		queues: map[*queueMetrics]struct{}{},
	}
	for _, c := range []prometheus.Collector{
		m.depth, m.adds, m.queueDuration, m.workDuration, m.retries, inflightCollector{m},
		m.reconcileTotal, m.reconcileErrors, m.terminalErrors, m.reconcilePanics, m.reconcileTime,
		m.maxConcurrent, m.activeWorkers, m.leaderStatus,
	} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("reconcile: register metrics: %w", err)
		}
	}
	return m, nil
}

// SetLeader records whether this process holds the lease called name.
func (m *Metrics) SetLeader(name string, leading bool) {
	if m == nil {
		return
	}
	v := 0.0
	if leading {
		v = 1
	}
	m.leaderStatus.WithLabelValues(name).Set(v)
}

// inflightCollector computes the in-flight gauges at scrape time from the
// live queues, so no goroutine has to refresh them.
type inflightCollector struct{ m *Metrics }

func (c inflightCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.m.unfinished
	ch <- c.m.longest
}

func (c inflightCollector) Collect(ch chan<- prometheus.Metric) {
	c.m.mu.Lock()
	qs := make([]*queueMetrics, 0, len(c.m.queues))
	for q := range c.m.queues {
		qs = append(qs, q)
	}
	c.m.mu.Unlock()
	// Several queues may share a name: sum unfinished work, take the longest.
	type agg struct{ unfinished, longest float64 }
	byName := map[string]*agg{}
	for _, q := range qs {
		u, l := q.inflight()
		a := byName[q.name]
		if a == nil {
			a = &agg{}
			byName[q.name] = a
		}
		a.unfinished += u
		a.longest = max(a.longest, l)
	}
	for name, a := range byName {
		ch <- prometheus.MustNewConstMetric(c.m.unfinished, prometheus.GaugeValue, a.unfinished, name)
		ch <- prometheus.MustNewConstMetric(c.m.longest, prometheus.GaugeValue, a.longest, name)
	}
}

// queueMetrics are one queue's metrics with their labels bound, so the hot
// path does no label lookups.
type queueMetrics struct {
	name          string
	depth         prometheus.Gauge
	adds          prometheus.Counter
	queueDuration prometheus.Observer
	workDuration  prometheus.Observer
	retries       prometheus.Counter
	// inflight returns the seconds of unfinished work and of the longest running item.
	inflight func() (unfinished, longest float64)
}

func (m *Metrics) forQueue(name string, inflight func() (float64, float64)) *queueMetrics {
	if m == nil {
		return nil
	}
	q := &queueMetrics{
		name:          name,
		depth:         m.depth.WithLabelValues(name),
		adds:          m.adds.WithLabelValues(name),
		queueDuration: m.queueDuration.WithLabelValues(name),
		workDuration:  m.workDuration.WithLabelValues(name),
		retries:       m.retries.WithLabelValues(name),
		inflight:      inflight,
	}
	m.mu.Lock()
	m.queues[q] = struct{}{}
	m.mu.Unlock()
	return q
}

func (m *Metrics) releaseQueue(q *queueMetrics) {
	if m == nil || q == nil {
		return
	}
	m.mu.Lock()
	delete(m.queues, q)
	m.mu.Unlock()
}

// controllerMetrics are one controller's metrics with their labels bound.
type controllerMetrics struct {
	success, errored, requeue, requeueAfter prometheus.Counter
	errors, terminal, panics                prometheus.Counter
	time                                    prometheus.Observer
	maxConcurrent, active                   prometheus.Gauge
}

// The result label values of controller_runtime_reconcile_total.
const (
	resultSuccess      = "success"
	resultError        = "error"
	resultRequeue      = "requeue"
	resultRequeueAfter = "requeue_after"
)

func (m *Metrics) forController(name string) *controllerMetrics {
	if m == nil {
		return nil
	}
	return &controllerMetrics{
		success:       m.reconcileTotal.WithLabelValues(name, resultSuccess),
		errored:       m.reconcileTotal.WithLabelValues(name, resultError),
		requeue:       m.reconcileTotal.WithLabelValues(name, resultRequeue),
		requeueAfter:  m.reconcileTotal.WithLabelValues(name, resultRequeueAfter),
		errors:        m.reconcileErrors.WithLabelValues(name),
		terminal:      m.terminalErrors.WithLabelValues(name),
		panics:        m.reconcilePanics.WithLabelValues(name),
		time:          m.reconcileTime.WithLabelValues(name),
		maxConcurrent: m.maxConcurrent.WithLabelValues(name),
		active:        m.activeWorkers.WithLabelValues(name),
	}
}

func seconds(d time.Duration) float64 { return d.Seconds() }

// LeaderStatusGauge returns the leader_election_master_status gauge of the
// lease called name (for tests and health checks).
func (m *Metrics) LeaderStatusGauge(name string) prometheus.Gauge {
	return m.leaderStatus.WithLabelValues(name)
}
