package informer

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/gantry-sdk/gantry/apis"
)

// Sentinel errors of the mutation check (Options.CheckMutations).
var (
	// ErrMutated: a consumer modified an object of the informer's cache.
	ErrMutated = errors.New("informer: a cached object was modified")
	// ErrNotCheckingMutations: CheckMutations on an informer created
	// without Options.CheckMutations, which therefore has nothing to compare.
	ErrNotCheckingMutations = errors.New("informer: created without Options.CheckMutations")
)

// mutationGuard keeps a private deep copy of each cached object, to tell
// whether a consumer modified the shared one. Its methods do nothing on a
// nil guard, so an informer without the option pays one nil check per
// change. The informer's mu guards it.
type mutationGuard[T apis.Object] struct {
	copies  map[apis.Key]T
	mutated []string // keys whose object was found modified as it left the cache
}

// record remembers obj's state as cached under k.
func (g *mutationGuard[T]) record(k apis.Key, obj T) {
	if g == nil {
		return
	}
	g.copies[k] = apis.DeepCopy(obj)
}

// drop compares obj, which leaves the cache, with its copy and forgets it:
// a modification is remembered for CheckMutations, since the object will
// not be in the cache to compare then.
func (g *mutationGuard[T]) drop(k apis.Key, obj T) {
	if g == nil {
		return
	}
	if c, ok := g.copies[k]; ok && !reflect.DeepEqual(c, obj) {
		g.mutated = append(g.mutated, describe(k, obj))
	}
	delete(g.copies, k)
}

func describe[T apis.Object](k apis.Key, obj T) string {
	return fmt.Sprintf("%s at resourceVersion %s", k, obj.Meta().ResourceVersion)
}

// CheckMutations reports, with ErrMutated, every cached object a consumer
// has modified since the informer cached it: those cached now and those
// that have left the cache since (replaced or deleted). It needs an
// informer created with Options.CheckMutations (ErrNotCheckingMutations
// otherwise); call it at the end of a test.
func (inf *Informer[T]) CheckMutations() error {
	inf.mu.RLock()
	defer inf.mu.RUnlock()
	g := inf.guard
	if g == nil {
		return ErrNotCheckingMutations
	}
	found := slices.Clone(g.mutated)
	for k, c := range g.copies {
		if obj, ok := inf.items[k.Namespace][k.Name]; ok && !reflect.DeepEqual(c, obj) {
			found = append(found, describe(k, obj))
		}
	}
	if len(found) == 0 {
		return nil
	}
	slices.Sort(found)
	return fmt.Errorf("%w (never modify one; copy it with apis.DeepCopy): %s", ErrMutated, strings.Join(found, ", "))
}
