package reconcile

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/apis"
)

func key(name string) apis.Key { return apis.Key{Namespace: "ns", Name: name} }

func TestQueueDeduplicatesWaitingKeys(t *testing.T) {
	q := NewQueue[apis.Key](QueueOptions{})
	defer q.ShutDown()
	for range 5 {
		q.Add(key("a"))
	}
	q.Add(key("b"))
	require.Equal(t, 2, q.Len())
	k, ok := q.Get()
	require.True(t, ok)
	assert.Equal(t, key("a"), k)
	k, _ = q.Get()
	assert.Equal(t, key("b"), k)
	assert.Equal(t, 0, q.Len())
}

func TestQueueRequeuesKeyAddedWhileProcessing(t *testing.T) {
	q := NewQueue[apis.Key](QueueOptions{})
	defer q.ShutDown()
	q.Add(key("a"))
	k, _ := q.Get()
	q.Add(key("a"))
	q.Add(key("a"))
	assert.Equal(t, 0, q.Len(), "a key in flight is not handed out again before Done")
	q.Done(k)
	assert.Equal(t, 1, q.Len(), "the key added while in flight is queued once after Done")
	k, _ = q.Get()
	q.Done(k)
	assert.Equal(t, 0, q.Len())
	q.Done(k) // a second Done is ignored
	assert.Equal(t, 0, q.Len())
}

// TestQueueMatchesModel runs random single-threaded operations against a
// queue and against a plain model of its rules, and compares.
// With 64 keys, and adds outpacing gets, many keys are queued at once.
func TestQueueMatchesModel(t *testing.T) {
	for _, keySpace := range []int{8, 64} {
		for seed := range uint64(20) {
			t.Run(fmt.Sprintf("keys=%d/seed=%d", keySpace, seed), func(t *testing.T) {
				testQueueMatchesModel(t, keySpace, seed)
			})
		}
	}
}

func testQueueMatchesModel(t *testing.T, keySpace int, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 1))
	q := NewQueue[int](QueueOptions{})
	defer q.ShutDown()
	var modelQueue []int
	inFlight := map[int]bool{}
	dirty := map[int]bool{}
	queued := map[int]bool{}
	for range 2000 {
		op := rng.IntN(3)
		if keySpace > 8 && rng.IntN(2) == 0 {
			op = 0 // adds outpace gets: many keys queue up
		}
		switch {
		case op == 0:
			k := rng.IntN(keySpace)
			q.Add(k)
			switch {
			case queued[k] || dirty[k]:
			case inFlight[k]:
				dirty[k] = true
			default:
				queued[k] = true
				modelQueue = append(modelQueue, k)
			}
		case op == 1 && len(modelQueue) > 0:
			k, ok := q.Get()
			require.True(t, ok)
			require.Equal(t, modelQueue[0], k)
			modelQueue = modelQueue[1:]
			delete(queued, k)
			inFlight[k] = true
		case op == 2 && len(inFlight) > 0:
			var k int
			for k = range inFlight {
				break
			}
			q.Done(k)
			delete(inFlight, k)
			if dirty[k] {
				delete(dirty, k)
				queued[k] = true
				modelQueue = append(modelQueue, k)
			}
		}
		require.Equal(t, len(modelQueue), q.Len())
	}
	requireTableConsistent(t, q)
}

// requireTableConsistent checks that the key table holds exactly the keys
// queued or in flight, each findable under its own key.
func requireTableConsistent[K comparable](t *testing.T, q *Queue[K]) {
	t.Helper()
	q.mu.Lock()
	defer q.mu.Unlock()
	n := 0
	q.entries.all(func(e *entry[K]) {
		n++
		require.NotZero(t, e.state&(stateQueued|stateProcessing), "entry %v is queued or in flight", e.key)
		require.Same(t, e, q.entries.get(e.key))
	})
	require.Equal(t, q.active, n)
}

// TestQueueNeverHandsOneKeyToTwoWorkers hammers a queue from many producers
// and workers: no key may be in flight twice, and every key's last processing
// must start after its last add (no add is lost).
func TestQueueNeverHandsOneKeyToTwoWorkers(t *testing.T) {
	const keys, producers, workers, addsPerProducer = 16, 8, 8, 2000
	q := NewQueue[int](QueueOptions{})
	var inFlight [keys]atomic.Int32
	var added [keys]atomic.Int64
	var seen [keys]atomic.Int64 // the highest add count observed at the start of a processing
	var violations atomic.Int64

	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				k, ok := q.Get()
				if !ok {
					return
				}
				if !inFlight[k].CompareAndSwap(0, 1) {
					violations.Add(1)
				}
				n := added[k].Load()
				for {
					old := seen[k].Load()
					if n <= old || seen[k].CompareAndSwap(old, n) {
						break
					}
				}
				for range rand.IntN(3) {
					runtime.Gosched()
				}
				inFlight[k].Store(0)
				q.Done(k)
			}
		})
	}
	var producersWG sync.WaitGroup
	for p := range producers {
		producersWG.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(p), 2))
			for range addsPerProducer {
				k := rng.IntN(keys)
				added[k].Add(1)
				q.Add(k)
			}
		})
	}
	producersWG.Wait()
	require.NoError(t, q.ShutDownWithDrain(context.Background()))
	wg.Wait()
	assert.Zero(t, violations.Load(), "a key was handed to two workers at once")
	for k := range keys {
		assert.Equal(t, added[k].Load(), seen[k].Load(), "key %d: last add not processed", k)
	}
}

func TestQueueBackoffGrowsAndResets(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := NewQueue[string](QueueOptions{QPS: -1})
		defer q.ShutDown()
		retry := func() time.Duration {
			start := time.Now()
			q.AddRateLimited("k")
			k, ok := q.Get()
			require.True(t, ok)
			q.Done(k)
			return time.Since(start)
		}
		for i, want := range []time.Duration{5, 10, 20, 40, 80} {
			assert.Equal(t, want*time.Millisecond, retry(), "retry %d", i)
		}
		assert.Equal(t, 5, q.NumRequeues("k"))
		q.Forget("k")
		assert.Equal(t, 0, q.NumRequeues("k"))
		assert.Equal(t, 5*time.Millisecond, retry(), "Forget resets the backoff")
	})
}

func TestQueueBackoffIsCapped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := NewQueue[string](QueueOptions{QPS: -1})
		defer q.ShutDown()
		q.mu.Lock()
		for range 100 {
			q.backoffLocked("k")
		}
		d := q.backoffLocked("k")
		q.mu.Unlock()
		assert.Equal(t, DefaultMaxDelay, d)

		q2 := NewQueue[string](QueueOptions{QPS: -1, BaseDelay: time.Second, MaxDelay: 3 * time.Second})
		defer q2.ShutDown()
		var got []time.Duration
		q2.mu.Lock()
		for range 4 {
			got = append(got, q2.backoffLocked("k"))
		}
		q2.mu.Unlock()
		assert.Equal(t, []time.Duration{time.Second, 2 * time.Second, 3 * time.Second, 3 * time.Second}, got)
	})
}

// TestQueueTokenBucketLimitsAllRetries: the default bucket (10 qps, burst 100)
// lets 100 retries through at their own backoff, then spaces them 100 ms apart.
func TestQueueTokenBucketLimitsAllRetries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := NewQueue[int](QueueOptions{})
		defer q.ShutDown()
		start := time.Now()
		for k := range 103 {
			q.AddRateLimited(k)
		}
		readyAt := map[int]time.Duration{}
		for range 103 {
			k, ok := q.Get()
			require.True(t, ok)
			readyAt[k] = time.Since(start)
			q.Done(k)
		}
		assert.Equal(t, 5*time.Millisecond, readyAt[0])
		assert.Equal(t, 5*time.Millisecond, readyAt[99])
		assert.Equal(t, 100*time.Millisecond, readyAt[100])
		assert.Equal(t, 200*time.Millisecond, readyAt[101])
		assert.Equal(t, 300*time.Millisecond, readyAt[102])
	})
}

func TestQueueAddAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := NewQueue[string](QueueOptions{})
		defer q.ShutDown()
		start := time.Now()
		q.AddAfter("late", 3*time.Second)
		q.AddAfter("early", time.Second)
		q.AddAfter("moved", 10*time.Second)
		q.AddAfter("moved", 2*time.Second) // the earlier add wins
		q.AddAfter("moved", 5*time.Second)
		q.AddAfter("now", 0)
		var order []string
		var at []time.Duration
		for range 4 {
			k, ok := q.Get()
			require.True(t, ok)
			order = append(order, k)
			at = append(at, time.Since(start))
			q.Done(k)
		}
		assert.Equal(t, []string{"now", "early", "moved", "late"}, order)
		assert.Equal(t, []time.Duration{0, time.Second, 2 * time.Second, 3 * time.Second}, at)
		synctest.Wait()
		assert.Equal(t, 0, q.Len(), "the superseded delayed adds of a key do not fire again")
		time.Sleep(time.Hour)
		assert.Equal(t, 0, q.Len())
	})
}

func TestQueueShutDownReleasesBlockedGet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := NewQueue[string](QueueOptions{})
		q.AddAfter("delayed", time.Minute)
		done := make(chan bool)
		go func() {
			_, ok := q.Get()
			done <- ok
		}()
		synctest.Wait()
		q.ShutDown()
		assert.False(t, <-done)
		q.Add("x")
		_, ok := q.Get()
		assert.False(t, ok, "adds after ShutDown are ignored")
		time.Sleep(2 * time.Minute)
		assert.Equal(t, 0, q.Len(), "pending delayed adds are dropped")
	})
}

func TestQueueShutDownDropsQueuedKeys(t *testing.T) {
	q := NewQueue[string](QueueOptions{})
	q.Add("a")
	q.Add("b")
	q.ShutDown()
	_, ok := q.Get()
	assert.False(t, ok)
	assert.Equal(t, 0, q.Len())
}

func TestQueueShutDownWithDrainWaitsForInFlightWork(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := NewQueue[string](QueueOptions{})
		q.Add("a")
		q.Add("b")
		a, _ := q.Get()
		q.Add("a") // dirty while in flight: must still be processed by the drain

		drained := make(chan error)
		go func() { drained <- q.ShutDownWithDrain(context.Background()) }()
		synctest.Wait()
		select {
		case <-drained:
			t.Fatal("drain returned while a key was in flight")
		default:
		}
		q.Add("c") // ignored: the queue is shutting down
		q.Done(a)
		var rest []string
		for {
			k, ok := q.Get()
			if !ok {
				break
			}
			rest = append(rest, k)
			q.Done(k)
		}
		assert.ElementsMatch(t, []string{"b", "a"}, rest)
		require.NoError(t, <-drained)
	})
}

func TestQueueShutDownWithDrainHonoursContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := NewQueue[string](QueueOptions{})
		q.Add("a")
		_, _ = q.Get()
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		err := q.ShutDownWithDrain(ctx)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		_, ok := q.Get()
		assert.False(t, ok)
	})
}

func TestQueueMetrics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg := prometheus.NewPedanticRegistry()
		m, err := NewMetrics(reg)
		require.NoError(t, err)
		q := NewQueue[string](QueueOptions{Name: "q", Metrics: m, QPS: -1})
		q.Add("a")
		q.Add("a")
		q.Add("b")
		assert.Equal(t, 2.0, testutil.ToFloat64(m.adds.WithLabelValues("q")))
		assert.Equal(t, 2.0, testutil.ToFloat64(m.depth.WithLabelValues("q")))
		k, _ := q.Get()
		time.Sleep(3 * time.Second)
		assert.Equal(t, 1.0, testutil.ToFloat64(m.depth.WithLabelValues("q")))
		require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP workqueue_longest_running_processor_seconds How many seconds has the longest running processor for workqueue been running.
# TYPE workqueue_longest_running_processor_seconds gauge
workqueue_longest_running_processor_seconds{name="q"} 3
# HELP workqueue_unfinished_work_seconds How many seconds of work has been done that is in progress and hasn't been observed by work_duration. Large values indicate stuck threads.
# TYPE workqueue_unfinished_work_seconds gauge
workqueue_unfinished_work_seconds{name="q"} 3
`), "workqueue_longest_running_processor_seconds", "workqueue_unfinished_work_seconds"))
		q.Done(k)
		q.AddRateLimited("c")
		assert.Equal(t, 1.0, testutil.ToFloat64(m.retries.WithLabelValues("q")))
		assert.Equal(t, 1, testutil.CollectAndCount(m.workDuration))
		q.ShutDown()
		assert.Equal(t, 0.0, testutil.ToFloat64(m.depth.WithLabelValues("q")), "dropped keys leave the depth")
		_, err = NewMetrics(reg)
		assert.Error(t, err, "registering twice into one registry fails")
	})
}

// TestQueueForgetsFinishedKeys: a finished key leaves the table, so a
// stream of distinct keys does not grow it, and a finished key added again
// behaves as new.
func TestQueueForgetsFinishedKeys(t *testing.T) {
	q := NewQueue[int](QueueOptions{})
	defer q.ShutDown()
	const n = 10000
	for i := range n {
		q.Add(i)
		if i%3 == 0 {
			q.Add(i) // de-duplicated
		}
		k, ok := q.Get()
		require.True(t, ok)
		require.Equal(t, i, k)
		q.Done(k)
		q.mu.Lock()
		require.Zero(t, q.entries.len())
		require.Zero(t, q.active)
		q.mu.Unlock()
	}
	requireTableConsistent(t, q)
	q.mu.Lock()
	require.Equal(t, minTableSlots, len(q.entries.slots), "the table never grew")
	q.mu.Unlock()
	// Many keys queued at once, some in flight, then all finished.
	for i := range n {
		q.Add(i)
	}
	var inFlight []int
	for range n / 2 {
		k, _ := q.Get()
		inFlight = append(inFlight, k)
	}
	requireTableConsistent(t, q)
	for _, k := range inFlight {
		q.Done(k)
	}
	for q.Len() > 0 {
		k, _ := q.Get()
		q.Done(k)
	}
	requireTableConsistent(t, q)
	// Keys finished, or never seen, all queue once.
	for _, k := range []int{n - 1, 0, n + 5} {
		q.Add(k)
		q.Add(k)
		assert.Equal(t, 1, q.Len())
		got, _ := q.Get()
		assert.Equal(t, k, got)
		q.Add(k) // while in flight
		q.Done(k)
		assert.Equal(t, 1, q.Len())
		got, _ = q.Get()
		q.Done(got)
		assert.Equal(t, 0, q.Len())
	}
	require.NoError(t, q.ShutDownWithDrain(t.Context()))
}

// TestQueueWakesParkedWorkers: keys added one at a time, each only after
// the previous one was processed, so workers park between keys: every add
// must wake one (a lost wake-up stalls the round).
func TestQueueWakesParkedWorkers(t *testing.T) {
	const workers, rounds = 4, 2000
	q := NewQueue[int](QueueOptions{})
	processed := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				k, ok := q.Get()
				if !ok {
					return
				}
				q.Done(k)
				processed <- k
			}
		})
	}
	for i := range rounds {
		q.Add(i)
		select {
		case k := <-processed:
			require.Equal(t, i, k)
		case <-time.After(30 * time.Second): // a liveness bound, not a timing assertion
			t.Fatalf("round %d: no worker woke for the added key", i)
		}
	}
	q.ShutDown()
	wg.Wait()
}
