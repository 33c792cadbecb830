package informer

import (
	"context"
	"errors"
	"maps"
	"reflect"
	"slices"
	"sync"

	"github.com/go-logr/logr"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/store"
)

// Factory shares one informer per kind among many consumers (controllers,
// the scheduler), so each kind is listed, watched and cached once.
type Factory struct {
	s              store.Store
	log            logr.Logger
	checkMutations bool

	mu        sync.Mutex
	informers map[reflect.Type]runner
	running   map[reflect.Type]bool
	wg        sync.WaitGroup
}

type runner interface {
	Run(ctx context.Context) error
	WaitForSync(ctx context.Context) error
	CheckMutations() error
}

// FactoryOptions tune a Factory; the zero value works.
type FactoryOptions struct {
	Logger logr.Logger
	// CheckMutations creates every informer with Options.CheckMutations,
	// for tests: see Factory.CheckMutations.
	CheckMutations bool
}

// NewFactory returns a factory of informers over s.
func NewFactory(s store.Store, opts FactoryOptions) *Factory {
	return &Factory{s: s, log: opts.Logger, checkMutations: opts.CheckMutations,
		informers: map[reflect.Type]runner{}, running: map[reflect.Type]bool{}}
}

// Shared returns the factory's informer of kind T, creating it on first use.
// Add indexes to it with AddIndex; it runs once the factory is started.
func Shared[T apis.Object](f *Factory) *Informer[T] {
	t := reflect.TypeFor[T]()
	f.mu.Lock()
	defer f.mu.Unlock()
	if inf, ok := f.informers[t]; ok {
		return inf.(*Informer[T])
	}
	inf := New[T](f.s, Options[T]{Logger: f.log, CheckMutations: f.checkMutations})
	f.informers[t] = inf
	return inf
}

// Start runs every informer not yet running, until ctx ends. Call it again
// after asking for more kinds.
func (f *Factory) Start(ctx context.Context) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for t, inf := range f.informers {
		if f.running[t] {
			continue
		}
		f.running[t] = true
		f.wg.Go(func() { _ = inf.Run(ctx) })
	}
}

// WaitForSync blocks until every started informer has synced, or ctx ends.
func (f *Factory) WaitForSync(ctx context.Context) error {
	f.mu.Lock()
	var infs []runner
	for t, inf := range f.informers {
		if f.running[t] {
			infs = append(infs, inf)
		}
	}
	f.mu.Unlock()
	for _, inf := range infs {
		if err := inf.WaitForSync(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Wait blocks until every informer started by Start has returned (after
// the context given to Start ended).
func (f *Factory) Wait() { f.wg.Wait() }

// CheckMutations runs every informer's CheckMutations (the factory needs
// FactoryOptions.CheckMutations) and joins what they report.
func (f *Factory) CheckMutations() error {
	f.mu.Lock()
	infs := slices.Collect(maps.Values(f.informers))
	f.mu.Unlock()
	var errs []error
	for _, inf := range infs {
		errs = append(errs, inf.CheckMutations())
	}
	return errors.Join(errs...)
}
