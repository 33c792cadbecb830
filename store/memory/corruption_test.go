package memory_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/store"
	"github.com/gantry-sdk/gantry/store/memory"
)

// writeKeys opens dir, puts k0..k(n-1) one per revision, and closes it.
func writeKeys(t *testing.T, dir string, opts memory.Options, from, n int) {
	t.Helper()
	kv, err := memory.Open(dir, opts)
	require.NoError(t, err)
	for i := from; i < from+n; i++ {
		_, err := kv.Txn(context.Background(), store.Txn{Then: []store.Op{store.Put(fmt.Sprintf("k%03d", i), fmt.Appendf(nil, "value-%d", i))}})
		require.NoError(t, err)
	}
	require.NoError(t, kv.Close())
}

func onlyFile(t *testing.T, dir, pattern string) string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, pattern))
	require.NoError(t, err)
	require.Len(t, files, 1, "files %s", pattern)
	return files[0]
}

func checkKeys(t *testing.T, kv *memory.KV, n int) {
	t.Helper()
	page, err := kv.Range(context.Background(), "k", store.RangeOptions{})
	require.NoError(t, err)
	require.Len(t, page.KVs, n)
	for i, got := range page.KVs {
		assert.Equal(t, fmt.Sprintf("k%03d", i), got.Key)
		assert.Equal(t, fmt.Sprintf("value-%d", i), string(got.Value))
	}
}

func TestCorruptLogRefused(t *testing.T) {
	for _, at := range []float64{0.02, 0.1, 0.25, 0.5, 0.75, 0.9} {
		t.Run(fmt.Sprint(at), func(t *testing.T) {
			dir := t.TempDir()
			writeKeys(t, dir, memory.Options{}, 0, 100)
			seg := onlyFile(t, dir, "*.wal")
			data, err := os.ReadFile(seg)
			require.NoError(t, err)
			data[int(float64(len(data))*at)] ^= 0x5a
			require.NoError(t, os.WriteFile(seg, data, 0o600))

			_, err = memory.Open(dir, memory.Options{})
			require.ErrorIs(t, err, memory.ErrCorrupt)
			assert.Contains(t, err.Error(), filepath.Base(seg), "the error names the file")
			assert.Contains(t, err.Error(), "offset", "the error names the offset")
			after, rerr := os.ReadFile(seg)
			require.NoError(t, rerr)
			assert.Equal(t, data, after, "a refused log is left as it was")
		})
	}
}

func TestCorruptSnapshotRefused(t *testing.T) {
	dir := t.TempDir()
	opts := memory.Options{SnapshotBytes: 2 << 10, SegmentBytes: 1 << 10}
	writeKeys(t, dir, opts, 0, 100)
	snaps, err := filepath.Glob(filepath.Join(dir, "snap-*.snap"))
	require.NoError(t, err)
	require.NotEmpty(t, snaps)
	snap := snaps[len(snaps)-1]
	data, err := os.ReadFile(snap)
	require.NoError(t, err)
	data[len(data)/2] ^= 0x01
	require.NoError(t, os.WriteFile(snap, data, 0o600))
	_, err = memory.Open(dir, opts)
	require.ErrorIs(t, err, memory.ErrCorrupt)
	assert.Contains(t, err.Error(), filepath.Base(snap))
	assert.Contains(t, err.Error(), "offset")
}

// TestTornTailRecovered cuts the log inside the frame of a final write, at
// every byte, as a crash during that write would: the KV opens with every
// earlier write, drops the torn one, and goes on writing after it.
func TestTornTailRecovered(t *testing.T) {
	base := t.TempDir()
	writeKeys(t, base, memory.Options{}, 0, 20)
	before, err := os.ReadFile(onlyFile(t, base, "*.wal"))
	require.NoError(t, err)
	writeKeys(t, base, memory.Options{}, 20, 1)
	seg := onlyFile(t, base, "*.wal")
	full, err := os.ReadFile(seg)
	require.NoError(t, err)
	frame := full[len(before):]
	require.NotEmpty(t, frame)

	for cut := 1; cut < len(frame); cut++ {
		dir := t.TempDir()
		path := filepath.Join(dir, filepath.Base(seg))
		require.NoError(t, os.WriteFile(path, append(append([]byte(nil), before...), frame[:cut]...), 0o600))
		kv, err := memory.Open(dir, memory.Options{})
		require.NoError(t, err, "cut at %d of %d", cut, len(frame))
		checkKeys(t, kv, 20)
		rev, err := kv.Txn(context.Background(), store.Txn{Then: []store.Op{store.Put("k020", []byte("value-20"))}})
		require.NoError(t, err)
		assert.EqualValues(t, 21, rev)
		require.NoError(t, kv.Close())

		kv, err = memory.Open(dir, memory.Options{})
		require.NoError(t, err, "reopen after recovering a torn tail")
		checkKeys(t, kv, 21)
		require.NoError(t, kv.Close())
	}
}

func TestZeroTailRecovered(t *testing.T) {
	dir := t.TempDir()
	writeKeys(t, dir, memory.Options{}, 0, 10)
	seg := onlyFile(t, dir, "*.wal")
	f, err := os.OpenFile(seg, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.Write(make([]byte, 4096)) // space a file system extended, never written
	require.NoError(t, err)
	require.NoError(t, f.Close())
	kv, err := memory.Open(dir, memory.Options{})
	require.NoError(t, err)
	checkKeys(t, kv, 10)
	require.NoError(t, kv.Close())
}

func TestGarbageTailRefused(t *testing.T) {
	dir := t.TempDir()
	writeKeys(t, dir, memory.Options{}, 0, 10)
	seg := onlyFile(t, dir, "*.wal")
	f, err := os.OpenFile(seg, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.Write([]byte("this was never a record header"))
	require.NoError(t, err)
	require.NoError(t, f.Close())
	_, err = memory.Open(dir, memory.Options{})
	require.True(t, errors.Is(err, memory.ErrCorrupt), "bytes we never wrote are not a torn write: %v", err)
}

// TestTornTailOnlyInLastSegment: a cut-short record in an earlier segment is
// corruption, not a crash, since segments are complete before the next starts.
func TestTornTailOnlyInLastSegment(t *testing.T) {
	dir := t.TempDir()
	writeKeys(t, dir, memory.Options{SegmentBytes: 200}, 0, 30)
	segs, err := filepath.Glob(filepath.Join(dir, "*.wal"))
	require.NoError(t, err)
	require.Greater(t, len(segs), 2)
	first := segs[0]
	data, err := os.ReadFile(first)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(first, data[:len(data)-3], 0o600))
	_, err = memory.Open(dir, memory.Options{SegmentBytes: 200})
	require.ErrorIs(t, err, memory.ErrCorrupt)
	assert.Contains(t, err.Error(), filepath.Base(first))
}

func TestMissingSegmentRefused(t *testing.T) {
	dir := t.TempDir()
	writeKeys(t, dir, memory.Options{SegmentBytes: 200}, 0, 30)
	segs, err := filepath.Glob(filepath.Join(dir, "*.wal"))
	require.NoError(t, err)
	require.Greater(t, len(segs), 2)
	require.NoError(t, os.Remove(segs[1]))
	_, err = memory.Open(dir, memory.Options{SegmentBytes: 200})
	require.ErrorIs(t, err, memory.ErrCorrupt, "a gap in the revisions is not silently skipped")
	assert.Contains(t, err.Error(), "missing")
}
