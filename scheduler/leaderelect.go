package scheduler

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/reconcile/leader"
)

// ErrLeadershipLost: the scheduler lost its lease while running; Run stops
// scheduling and returns it, so that a deposed scheduler never binds.
var ErrLeadershipLost = errors.New("scheduler: leadership lost")

// DefaultLeaderElectionLease is kube-scheduler's lease, kube-system/kube-scheduler.
var DefaultLeaderElectionLease = apis.Key{Namespace: "kube-system", Name: "kube-scheduler"}

// LeaderElection configures leader election among scheduler replicas. The
// zero value works: kube-scheduler's lease and timings, an identity of
// Options.Identity or else hostname_random.
type LeaderElection struct {
	// Lease names the Lease object (DefaultLeaderElectionLease).
	Lease apis.Key
	// Options are the elector's (lease duration, renew deadline, retry
	// period; its Clock and Logger default to the scheduler's).
	leader.Options
}

// IsLeader reports whether the scheduler schedules now: it holds the lease,
// or runs without leader election.
func (sc *Scheduler) IsLeader() bool {
	if sc.opts.LeaderElection == nil {
		return true
	}
	sc.electorMu.Lock()
	e := sc.elector
	sc.electorMu.Unlock()
	return e != nil && e.IsLeader()
}

// runElected campaigns for the lease and runs the scheduling loop while
// leading. The informers keep running meanwhile, so a new leader starts
// with a warm cache and queue.
func (sc *Scheduler) runElected(ctx context.Context, bg *sync.WaitGroup) error {
	le := *sc.opts.LeaderElection
	if le.Lease.Name == "" {
		le.Lease = DefaultLeaderElectionLease
	}
	if le.Clock == nil {
		le.Clock = sc.clock
	}
	if le.Logger.GetSink() == nil {
		le.Logger = sc.log
	}
	id := sc.opts.Identity
	if id == "" {
		host, _ := os.Hostname()
		var b [6]byte
		_, _ = rand.Read(b[:])
		id = host + "_" + hex.EncodeToString(b[:])
	}
	var loopErr error
	e, err := leader.New(sc.store, le.Lease, id, leader.Callbacks{
		OnStartedLeading: func(ctx context.Context) {
			sc.log.Info("started leading", "lease", le.Lease, "identity", id)
			loopErr = sc.scheduleLoop(ctx, bg)
		},
	}, le.Options)
	if err != nil {
		return fmt.Errorf("scheduler: leader election: %w", err)
	}
	sc.electorMu.Lock()
	sc.elector = e
	sc.electorMu.Unlock()
	if err := e.Run(ctx); err != nil {
		return fmt.Errorf("scheduler: leader election: %w", err)
	}
	if loopErr != nil {
		return loopErr
	}
	if ctx.Err() == nil {
		return fmt.Errorf("%w: lease %s, identity %s", ErrLeadershipLost, le.Lease, id)
	}
	return nil
}
