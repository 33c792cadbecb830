package reconcile

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestKeyTableMatchesMap runs random inserts, lookups and removes, with
// growth and shrinking, against a Go map, and checks that every present key
// is found, every absent one is not, and no probe run is broken by a delete.
func TestKeyTableMatchesMap(t *testing.T) {
	for seed := range uint64(10) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 3))
			tab := newKeyTable[int]()
			model := map[int]*entry[int]{}
			// Phases of growth and shrinkage, over a key space that is
			// sometimes much larger than the table, sometimes smaller.
			for phase := range 6 {
				keySpace := []int{50, 5000, 300}[phase%3]
				insertBias := []int{70, 30}[phase%2]
				for range 4000 {
					k := rng.IntN(keySpace)
					h := tab.hash(k)
					i, e := tab.find(k, h)
					require.Same(t, model[k], e, "find(%d)", k)
					switch {
					case e == nil && rng.IntN(100) < insertBias:
						e = &entry[int]{key: k}
						tab.insertAt(i, h, e)
						model[k] = e
					case e != nil && rng.IntN(100) >= insertBias:
						tab.remove(e)
						delete(model, k)
					}
					require.Equal(t, len(model), tab.len())
				}
				for k, e := range model {
					require.Same(t, e, tab.get(k), "key %d after phase %d", k, phase)
				}
				n := 0
				tab.all(func(e *entry[int]) {
					n++
					require.Same(t, model[e.key], e)
				})
				require.Equal(t, len(model), n)
				require.LessOrEqual(t, 2*tab.len(), len(tab.slots), "at most half full")
			}
			for _, e := range model {
				tab.remove(e)
			}
			require.Zero(t, tab.len())
			// An emptied table shrinks once it has seen as many removes as
			// it has slots (so a swinging queue does not rebuild it each swing).
			for range 2 * len(tab.slots) {
				h := tab.hash(-1)
				i, _ := tab.find(-1, h)
				e := &entry[int]{key: -1}
				tab.insertAt(i, h, e)
				tab.remove(e)
			}
			require.Equal(t, minTableSlots, len(tab.slots), "an emptied table shrinks back")
		})
	}
}
