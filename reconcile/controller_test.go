package reconcile

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-logr/logr/funcr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/informer"
)

// runController runs c until the test's bubble ends it; stop cancels and waits.
func runController(t *testing.T, c *Controller) (stop func()) {
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	return func() {
		cancel()
		require.NoError(t, <-done)
	}
}

// calls records when each key was reconciled.
type calls struct {
	mu sync.Mutex
	at map[apis.Key][]time.Time
}

func (c *calls) record(k apis.Key) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at == nil {
		c.at = map[apis.Key][]time.Time{}
	}
	c.at[k] = append(c.at[k], time.Now())
	return len(c.at[k])
}

func (c *calls) gaps(k apis.Key) []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []time.Duration
	for i := 1; i < len(c.at[k]); i++ {
		out = append(out, c.at[k][i].Sub(c.at[k][i-1]))
	}
	return out
}

func (c *calls) count(k apis.Key) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.at[k])
}

func newMetrics(t *testing.T) *Metrics {
	m, err := NewMetrics(prometheus.NewPedanticRegistry())
	require.NoError(t, err)
	return m
}

func TestControllerRetriesErrorsWithBackoffUntilSuccess(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var log strings.Builder
		var logMu sync.Mutex
		logger := funcr.New(func(prefix, args string) {
			logMu.Lock()
			log.WriteString(args + "\n")
			logMu.Unlock()
		}, funcr.Options{})
		m := newMetrics(t)
		var rec calls
		c := NewController("web", Func(func(ctx context.Context, k apis.Key) (Result, error) {
			if rec.record(k) <= 3 {
				return Result{}, errors.New("boom")
			}
			return Result{}, nil
		}), Options{Metrics: m, Logger: logger})
		stop := runController(t, c)
		c.Enqueue(key("a"))
		time.Sleep(time.Second)
		synctest.Wait()
		assert.Equal(t, 4, rec.count(key("a")))
		assert.Equal(t, []time.Duration{5 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond}, rec.gaps(key("a")))
		assert.Equal(t, 0, c.queue.NumRequeues(key("a")), "success forgets the backoff")
		assert.Equal(t, 3.0, testutil.ToFloat64(m.reconcileTotal.WithLabelValues("web", "error")))
		assert.Equal(t, 3.0, testutil.ToFloat64(m.reconcileErrors.WithLabelValues("web")))
		assert.Equal(t, 1.0, testutil.ToFloat64(m.reconcileTotal.WithLabelValues("web", "success")))
		assert.Equal(t, 1.0, testutil.ToFloat64(m.maxConcurrent.WithLabelValues("web")))
		stop()
		logMu.Lock()
		defer logMu.Unlock()
		assert.Contains(t, log.String(), `"msg"="Reconciler error" "error"="boom" "controller"="web" "key"="ns/a"`)
	})
}

func TestControllerDoesNotRetryTerminalErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMetrics(t)
		var rec calls
		c := NewController("web", Func(func(ctx context.Context, k apis.Key) (Result, error) {
			rec.record(k)
			return Result{}, Terminal(fmt.Errorf("spec.replicas: %w", errors.New("must be >= 0")))
		}), Options{Metrics: m})
		stop := runController(t, c)
		defer stop()
		c.Enqueue(key("a"))
		time.Sleep(time.Hour)
		synctest.Wait()
		assert.Equal(t, 1, rec.count(key("a")))
		assert.Equal(t, 1.0, testutil.ToFloat64(m.terminalErrors.WithLabelValues("web")))
		assert.Equal(t, 1.0, testutil.ToFloat64(m.reconcileErrors.WithLabelValues("web")))
	})
}

func TestTerminalWrapsAndMarks(t *testing.T) {
	base := errors.New("bad")
	err := fmt.Errorf("reconcile x: %w", Terminal(base))
	assert.True(t, IsTerminal(err))
	assert.ErrorIs(t, err, base)
	assert.False(t, IsTerminal(base))
	assert.NoError(t, Terminal(nil))
}

func TestControllerRecoversPanicsIntoRetriedErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMetrics(t)
		var rec calls
		c := NewController("web", Func(func(ctx context.Context, k apis.Key) (Result, error) {
			if rec.record(k) == 1 {
				var m map[string]int
				m["x"] = 1 // nil map write: a panic
			}
			return Result{}, nil
		}), Options{Metrics: m})
		// Observe the error the panic became through the reconcile path itself.
		res, err := c.reconcile(context.Background(), key("direct"))
		assert.Zero(t, res)
		require.ErrorIs(t, err, ErrPanic)
		assert.Contains(t, err.Error(), "ns/direct")
		assert.Contains(t, err.Error(), "assignment to entry in nil map")

		stop := runController(t, c)
		defer stop()
		c.Enqueue(key("a"))
		time.Sleep(time.Second)
		synctest.Wait()
		assert.Equal(t, 2, rec.count(key("a")), "the panicking call is retried")
		assert.Equal(t, 2.0, testutil.ToFloat64(m.reconcilePanics.WithLabelValues("web")), "the direct call and the worker's")
	})
}

func TestControllerRequeueAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMetrics(t)
		var rec calls
		c := NewController("web", Func(func(ctx context.Context, k apis.Key) (Result, error) {
			switch rec.record(k) {
			case 1:
				return Result{RequeueAfter: 30 * time.Second}, nil
			case 2:
				return Result{Requeue: true}, nil
			}
			return Result{}, nil
		}), Options{Metrics: m})
		stop := runController(t, c)
		defer stop()
		c.Enqueue(key("a"))
		time.Sleep(time.Minute)
		synctest.Wait()
		assert.Equal(t, []time.Duration{30 * time.Second, 5 * time.Millisecond}, rec.gaps(key("a")))
		assert.Equal(t, 1.0, testutil.ToFloat64(m.reconcileTotal.WithLabelValues("web", "requeue_after")))
		assert.Equal(t, 1.0, testutil.ToFloat64(m.reconcileTotal.WithLabelValues("web", "requeue")))
	})
}

// TestControllerWorkersRunDistinctKeysConcurrently: with 3 workers, 3 keys
// are in flight at once, but a key re-added while in flight waits.
func TestControllerWorkersRunDistinctKeysConcurrently(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMetrics(t)
		release := make(chan struct{})
		var mu sync.Mutex
		inFlight := map[apis.Key]int{}
		maxPerKey, total, maxTotal := 0, 0, 0
		c := NewController("web", Func(func(ctx context.Context, k apis.Key) (Result, error) {
			mu.Lock()
			inFlight[k]++
			total++
			maxPerKey = max(maxPerKey, inFlight[k])
			maxTotal = max(maxTotal, total)
			mu.Unlock()
			<-release
			mu.Lock()
			inFlight[k]--
			total--
			mu.Unlock()
			return Result{}, nil
		}), Options{Workers: 3, Metrics: m})
		stop := runController(t, c)
		defer stop()
		for _, n := range []string{"a", "b", "c", "a", "b"} {
			c.Enqueue(key(n))
		}
		synctest.Wait()
		assert.Equal(t, 3.0, testutil.ToFloat64(m.activeWorkers.WithLabelValues("web")))
		c.Enqueue(key("a")) // in flight: must wait for its Done
		c.Enqueue(key("d"))
		synctest.Wait()
		close(release)
		synctest.Wait()
		mu.Lock()
		defer mu.Unlock()
		assert.Equal(t, 1, maxPerKey)
		assert.Equal(t, 3, maxTotal)
		assert.Equal(t, 0.0, testutil.ToFloat64(m.activeWorkers.WithLabelValues("web")))
	})
}

func TestControllerRunsOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := NewController("web", Func(func(context.Context, apis.Key) (Result, error) { return Result{}, nil }), Options{})
		stop := runController(t, c)
		synctest.Wait()
		assert.ErrorIs(t, c.Run(t.Context()), ErrAlreadyStarted)
		assert.ErrorIs(t, c.Watch(Channel(nil)), ErrAlreadyStarted)
		stop()
	})
}

// gatedSource is synced only when its gate closes.
type gatedSource struct {
	Source
	gate chan struct{}
}

func (g gatedSource) WaitForSync(ctx context.Context) error {
	select {
	case <-g.gate:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func TestControllerWaitsForSourcesToSync(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		keys := make(chan apis.Key, 1)
		gate := make(chan struct{})
		var rec calls
		c := NewController("web", Func(func(ctx context.Context, k apis.Key) (Result, error) {
			rec.record(k)
			return Result{}, nil
		}), Options{})
		require.NoError(t, c.Watch(gatedSource{Channel(keys), gate}))
		stop := runController(t, c)
		defer stop()
		keys <- key("a")
		synctest.Wait()
		assert.Equal(t, 0, rec.count(key("a")), "no reconcile before the sources synced")
		close(gate)
		synctest.Wait()
		assert.Equal(t, 1, rec.count(key("a")))
	})
}

func TestControllerRunFailsWhenContextEndsBeforeSync(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := NewController("web", Func(func(context.Context, apis.Key) (Result, error) { return Result{}, nil }), Options{})
		require.NoError(t, c.Watch(gatedSource{Channel(nil), make(chan struct{})}))
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		assert.ErrorIs(t, c.Run(ctx), context.DeadlineExceeded)
	})
}

// handlerSource hands the registered handler to the test, to drive the
// source adapters with objects directly.
type handlerSource[T apis.Object] struct {
	mu sync.Mutex
	h  informer.Handler[T]
}

func (s *handlerSource[T]) AddHandler(h informer.Handler[T]) func() {
	s.mu.Lock()
	s.h = h
	s.mu.Unlock()
	return func() { s.mu.Lock(); s.h = nil; s.mu.Unlock() }
}

func (s *handlerSource[T]) WaitForSync(context.Context) error { return nil }

// widget is a user-defined kind for the tests.
type widget struct {
	apis.TypeMeta   `json:",inline"`
	apis.ObjectMeta `json:"metadata"`
}

func newWidget(ns, name string, owners ...apis.OwnerReference) *widget {
	return &widget{ObjectMeta: apis.ObjectMeta{Namespace: ns, Name: name, OwnerReferences: owners}}
}

func TestSourcesMapObjectsToKeys(t *testing.T) {
	yes, no := true, false
	siteGVK := apis.GroupVersionKind{Group: "example.com", Version: "v1", Kind: "Website"}
	ref := func(apiVersion, kind, name string, controller *bool) apis.OwnerReference {
		return apis.OwnerReference{APIVersion: apiVersion, Kind: kind, Name: name, Controller: controller}
	}
	tests := []struct {
		name   string
		source func(EventSource[*widget]) Source
		drive  func(informer.Handler[*widget])
		want   []apis.Key
	}{{
		name:   "For maps an object to its own key",
		source: func(s EventSource[*widget]) Source { return For[*widget](s) },
		drive:  func(h informer.Handler[*widget]) { h.OnAdd(newWidget("ns", "a")) },
		want:   []apis.Key{{Namespace: "ns", Name: "a"}},
	}, {
		name:   "For maps a delete to the deleted object's key",
		source: func(s EventSource[*widget]) Source { return For[*widget](s) },
		drive:  func(h informer.Handler[*widget]) { h.OnDelete(newWidget("ns", "gone")) },
		want:   []apis.Key{{Namespace: "ns", Name: "gone"}},
	}, {
		name:   "Owns maps a child to its controlling owner of the kind",
		source: func(s EventSource[*widget]) Source { return Owns[*widget](s, siteGVK) },
		drive: func(h informer.Handler[*widget]) {
			h.OnAdd(newWidget("ns", "child",
				ref("example.com/v1", "Website", "not-controller", &no),
				ref("other.io/v1", "Website", "other-group", &yes),
				ref("example.com/v1beta1", "Website", "site", &yes)))
		},
		want: []apis.Key{{Namespace: "ns", Name: "site"}},
	}, {
		name:   "Owns ignores children without a controlling owner of the kind",
		source: func(s EventSource[*widget]) Source { return Owns[*widget](s, siteGVK) },
		drive: func(h informer.Handler[*widget]) {
			h.OnAdd(newWidget("ns", "orphan"))
			h.OnAdd(newWidget("ns", "child", ref("example.com/v1", "Website", "site", nil)))
			h.OnAdd(newWidget("ns", "child2", ref("example.com/v1", "Database", "db", &yes)))
		},
	}, {
		name:   "Owns maps both the old and the new owner on an update",
		source: func(s EventSource[*widget]) Source { return Owns[*widget](s, siteGVK) },
		drive: func(h informer.Handler[*widget]) {
			h.OnUpdate(newWidget("ns", "c", ref("example.com/v1", "Website", "old", &yes)),
				newWidget("ns", "c", ref("example.com/v1", "Website", "new", &yes)))
		},
		want: []apis.Key{{Namespace: "ns", Name: "old"}, {Namespace: "ns", Name: "new"}},
	}, {
		name: "Watches maps through the function",
		source: func(s EventSource[*widget]) Source {
			return Watches[*widget](s, func(w *widget) []apis.Key {
				return []apis.Key{{Namespace: "x", Name: w.Name + "-1"}, {Namespace: "x", Name: w.Name + "-2"}}
			})
		},
		drive: func(h informer.Handler[*widget]) { h.OnAdd(newWidget("ns", "cm")) },
		want:  []apis.Key{{Namespace: "x", Name: "cm-1"}, {Namespace: "x", Name: "cm-2"}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs := &handlerSource[*widget]{}
			var got []apis.Key
			ctx, cancel := context.WithCancel(t.Context())
			require.NoError(t, tt.source(hs).Start(ctx, func(k apis.Key) { got = append(got, k) }))
			tt.drive(hs.h)
			assert.Equal(t, tt.want, got)
			cancel()
			assert.Eventually(t, func() bool { hs.mu.Lock(); defer hs.mu.Unlock(); return hs.h == nil },
				time.Second, time.Millisecond, "the handler is removed when ctx ends")
		})
	}
}
