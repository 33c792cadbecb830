package memory

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
)

func TestTxnEncodingMatchesProto(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 500 {
		rev := rng.Int64N(1 << uint(rng.IntN(62)+1))
		if rev == 0 {
			rev = 1
		}
		ws := make([]write, 1+rng.IntN(5))
		for j := range ws {
			ws[j].key = fmt.Sprintf("key-%d-%s", j, make([]byte, rng.IntN(200)))
			if rng.IntN(3) == 0 {
				ws[j].del = true
			} else {
				ws[j].value = make([]byte, rng.IntN(300))
				for k := range ws[j].value {
					ws[j].value[k] = byte(rng.IntN(256))
				}
			}
		}
		want, err := proto.MarshalOptions{Deterministic: true}.Marshal(txnRecord(rev, ws))
		require.NoError(t, err)
		frame := appendTxnFrame([]byte("prefix"), rev, ws)[len("prefix"):]
		payload, n, err := nextFrame(frame)
		require.NoError(t, err)
		require.Equal(t, len(frame), n)
		require.Equal(t, want, payload, "case %d", i)
	}
}
