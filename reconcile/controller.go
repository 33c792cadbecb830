package reconcile

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"

	"github.com/gantry-sdk/gantry/apis"
)

// Reconciler brings the world in line with the desired state of the object
// named by key. It is level-triggered: it reads the current state (from an
// informer's cache) rather than acting on the event that queued the key, so
// any number of changes coalesce into one call. It must be idempotent.
type Reconciler interface {
	Reconcile(ctx context.Context, key apis.Key) (Result, error)
}

// Func adapts a function to a Reconciler.
type Func func(ctx context.Context, key apis.Key) (Result, error)

// Reconcile calls f.
func (f Func) Reconcile(ctx context.Context, key apis.Key) (Result, error) { return f(ctx, key) }

// Result tells the controller what to do with a key after a successful
// Reconcile. The zero value means done: the key's backoff is reset.
type Result struct {
	// RequeueAfter reconciles the key again after this long (and resets its backoff).
	RequeueAfter time.Duration
	// Requeue reconciles the key again after its backoff delay, as after an error.
	Requeue bool
}

// Options tune a Controller. The zero value works: one worker, no logging,
// no metrics, the real clock, client-go's retry limits.
type Options struct {
	// Workers is the number of keys reconciled concurrently; 0 means 1.
	Workers int
	Logger  logr.Logger
	Metrics *Metrics
	Clock   Clock
	// BaseDelay, MaxDelay, QPS and Burst bound retries, as in QueueOptions.
	BaseDelay time.Duration
	MaxDelay  time.Duration
	QPS       float64
	Burst     int
}

// Controller runs a Reconciler on the keys its sources produce, with N
// workers over a de-duplicating, rate-limited Queue: a key is never
// reconciled by two workers at once; errors are retried with backoff,
// terminal errors are not, and panics become errors.
type Controller struct {
	name    string
	r       Reconciler
	opts    Options
	log     logr.Logger
	metrics *controllerMetrics
	queue   *Queue[apis.Key]

	mu      sync.Mutex
	sources []Source
	started bool
	ready   atomic.Bool // sources synced, workers running
}

// NewController returns a controller called name (it labels logs and
// metrics) that reconciles with r. Add sources with Watch, then Run it.
func NewController(name string, r Reconciler, opts Options) *Controller {
	if opts.Workers <= 0 {
		opts.Workers = 1
	}
	log := opts.Logger
	if log.GetSink() == nil {
		log = logr.Discard()
	}
	return &Controller{
		name:    name,
		r:       r,
		opts:    opts,
		log:     log.WithValues("controller", name),
		metrics: opts.Metrics.forController(name),
		queue: NewQueue[apis.Key](QueueOptions{
			Name: name, Metrics: opts.Metrics, Clock: opts.Clock,
			BaseDelay: opts.BaseDelay, MaxDelay: opts.MaxDelay, QPS: opts.QPS, Burst: opts.Burst,
		}),
	}
}

// Watch adds sources of keys. It fails once the controller runs.
func (c *Controller) Watch(srcs ...Source) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.started {
		return fmt.Errorf("controller %s: watch: %w", c.name, ErrAlreadyStarted)
	}
	c.sources = append(c.sources, srcs...)
	return nil
}

// Enqueue asks for key to be reconciled, as a source would.
func (c *Controller) Enqueue(key apis.Key) { c.queue.Add(key) }

// Run starts the sources, waits until each has delivered its initial state,
// then reconciles with the configured workers until ctx ends. It returns
// once every worker has finished its current key; a controller runs once.
func (c *Controller) Run(ctx context.Context) error {
	c.mu.Lock()
	if c.started {
		c.mu.Unlock()
		return fmt.Errorf("controller %s: run: %w", c.name, ErrAlreadyStarted)
	}
	c.started = true
	srcs := c.sources
	c.mu.Unlock()
	defer c.queue.ShutDown()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the sources
	for _, s := range srcs {
		if err := s.Start(ctx, c.queue.Add); err != nil {
			return fmt.Errorf("controller %s: start source: %w", c.name, err)
		}
	}
	for _, s := range srcs {
		if err := s.WaitForSync(ctx); err != nil {
			return fmt.Errorf("controller %s: wait for sources to sync: %w", c.name, err)
		}
	}
	c.log.Info("Starting workers", "workers", c.opts.Workers)
	if m := c.metrics; m != nil {
		m.maxConcurrent.Set(float64(c.opts.Workers))
	}
	c.ready.Store(true)
	defer c.ready.Store(false)
	var wg sync.WaitGroup
	for range c.opts.Workers {
		wg.Go(func() {
			for c.processNext(ctx) {
			}
		})
	}
	<-ctx.Done()
	c.log.Info("Stopping workers")
	c.queue.ShutDown()
	wg.Wait()
	return nil
}

func (c *Controller) processNext(ctx context.Context) bool {
	key, ok := c.queue.Get()
	if !ok {
		return false
	}
	defer c.queue.Done(key)
	m := c.metrics
	if m != nil {
		m.active.Inc()
		defer m.active.Dec()
	}
	log := c.log.WithValues("key", key.String())
	clock := clockOr(c.opts.Clock)
	start := clock.Now()
	res, err := c.reconcile(logr.NewContext(ctx, log), key)
	if m != nil {
		m.time.Observe(clock.Now().Sub(start).Seconds())
	}
	switch {
	case err != nil && IsTerminal(err):
		c.queue.Forget(key)
		log.Error(err, "Reconciler error (terminal: not retried)")
		if m != nil {
			m.errored.Inc()
			m.errors.Inc()
			m.terminal.Inc()
		}
	case err != nil:
		c.queue.AddRateLimited(key)
		log.Error(err, "Reconciler error")
		if m != nil {
			m.errored.Inc()
			m.errors.Inc()
		}
	case res.RequeueAfter > 0:
		c.queue.Forget(key)
		c.queue.AddAfter(key, res.RequeueAfter)
		if m != nil {
			m.requeueAfter.Inc()
		}
	case res.Requeue:
		c.queue.AddRateLimited(key)
		if m != nil {
			m.requeue.Inc()
		}
	default:
		c.queue.Forget(key)
		if m != nil {
			m.success.Inc()
		}
	}
	return true
}

// reconcile calls the Reconciler, turning a panic into an ErrPanic error.
func (c *Controller) reconcile(ctx context.Context, key apis.Key) (res Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			if c.metrics != nil {
				c.metrics.panics.Inc()
			}
			err = fmt.Errorf("%w reconciling %s: %v\n%s", ErrPanic, key, p, debug.Stack())
		}
	}()
	return c.r.Reconcile(ctx, key)
}
