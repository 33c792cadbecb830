package containerd

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/kubelet"
)

// FuzzCRIWriter: whatever the chunking of a stream, the log file reads back
// (kubelet.ReadLogs) as the stream's lines, long ones split and joined again.
func FuzzCRIWriter(f *testing.F) {
	f.Add([]byte("one\ntwo\n"), uint16(3))
	f.Add([]byte("no newline at the end"), uint16(1))
	f.Add([]byte("\n\n\nempty lines\n"), uint16(2))
	f.Add(bytes.Repeat([]byte("x"), 2*maxLogLine), uint16(4096))
	f.Add(append(bytes.Repeat([]byte("y"), maxLogLine), '\n'), uint16(7))
	f.Fuzz(func(t *testing.T, stream []byte, chunk uint16) {
		if bytes.IndexByte(stream, '\r') >= 0 || len(stream) > 1<<20 {
			t.Skip() // bufio.Scanner reads \r\n as \n: not this writer's concern
		}
		path := filepath.Join(t.TempDir(), "log")
		file, err := os.Create(path)
		require.NoError(t, err)
		w := &criWriter{mu: &sync.Mutex{}, f: file, stream: "stdout"}
		size := int(chunk)%8192 + 1
		for p := stream; len(p) > 0; {
			n := min(size, len(p))
			m, err := w.Write(p[:n])
			require.NoError(t, err)
			require.Equal(t, n, m)
			p = p[n:]
		}
		w.flush()
		require.NoError(t, file.Close())

		want := strings.Split(string(stream), "\n")
		if want[len(want)-1] == "" {
			want = want[:len(want)-1]
		}
		got := []string{}
		rf, err := os.Open(path)
		require.NoError(t, err)
		defer rf.Close()
		require.NoError(t, kubelet.ReadLogs(rf, func(l kubelet.LogLine) bool {
			require.Equal(t, "stdout", l.Stream)
			got = append(got, string(l.Content))
			return true
		}))
		if len(want) == 0 {
			want = []string{}
		}
		require.Equal(t, want, got)
	})
}
