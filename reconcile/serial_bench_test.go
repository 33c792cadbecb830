package reconcile

import (
	"strconv"
	"testing"

	"github.com/gantry-sdk/gantry/apis"
)

// BenchmarkQueueSerial: one goroutine adds 64 distinct keys, then gets and
// dones them: the queue's own cost per item, without goroutine hand-offs.
func BenchmarkQueueSerial(b *testing.B) {
	keys := make([]apis.Key, 64)
	for i := range keys {
		keys[i] = apis.Key{Namespace: "default", Name: "pod-" + strconv.Itoa(i)}
	}
	q := NewQueue[apis.Key](QueueOptions{})
	defer q.ShutDown()
	for i := 0; i < b.N; i += len(keys) {
		for _, k := range keys {
			q.Add(k)
		}
		for range keys {
			k, _ := q.Get()
			q.Done(k)
		}
	}
}
