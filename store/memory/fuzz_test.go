package memory

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gantry-sdk/gantry/store"
)

// validLog returns the bytes of a log with puts, a delete and a compaction.
func validLog(tb testing.TB) []byte {
	tb.Helper()
	var b []byte
	var err error
	m := newMVCC()
	for i, ws := range [][]write{
		{{key: "a", value: []byte("1")}},
		{{key: "b", value: []byte("2")}, {key: "a", value: []byte("3")}},
		{{key: "a", del: true}},
	} {
		m.apply(int64(i+1), ws)
		if b, err = appendMessageFrame(b, txnRecord(int64(i+1), ws)); err != nil {
			tb.Fatal(err)
		}
	}
	if b, err = appendMessageFrame(b, compactionRecord(2)); err != nil {
		tb.Fatal(err)
	}
	return b
}

// FuzzReplay opens a KV on a log of arbitrary bytes: it never panics, and
// either opens (and then works) or refuses with ErrCorrupt naming the file.
func FuzzReplay(f *testing.F) {
	good := validLog(f)
	f.Add(good)
	f.Add(good[:len(good)-3])
	f.Add(append(append([]byte(nil), good...), 0, 0, 0))
	f.Add([]byte{})
	f.Add([]byte("garbage that is not a log"))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		name := segmentName(1)
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
		kv, err := Open(dir, Options{})
		if err != nil {
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), name) {
				t.Fatalf("refusal without ErrCorrupt and the file name: %v", err)
			}
			return
		}
		defer kv.Close()
		ctx := context.Background()
		page, err := kv.Range(ctx, "", store.RangeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		rev, err := kv.Txn(ctx, store.Txn{Then: []store.Op{store.Put("fuzz", []byte("x"))}})
		if err != nil {
			t.Fatal(err)
		}
		if rev != page.Revision+1 {
			t.Fatalf("write after replay at revision %d, want %d", rev, page.Revision+1)
		}
	})
}

// FuzzDecodeRecord decodes arbitrary payloads as log records and replays the
// ones that decode: never a panic.
func FuzzDecodeRecord(f *testing.F) {
	good := validLog(f)
	for off := 0; off < len(good); {
		payload, n, err := nextFrame(good[off:])
		if err != nil {
			f.Fatal(err)
		}
		f.Add(payload)
		off += n
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, payload []byte) {
		rec, err := decodeRecord(payload)
		if err != nil {
			return
		}
		m := newMVCC()
		m.apply(1, []write{{key: "a", value: []byte("1")}})
		_, _ = applyRecord(m, rec)
		if err := m.checkLog(); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzFrame reads frames from arbitrary bytes: never a panic, and a frame it
// accepts re-encodes to the same bytes.
func FuzzFrame(f *testing.F) {
	f.Add(validLog(f))
	f.Add(appendFrame(nil, []byte("payload")))
	f.Fuzz(func(t *testing.T, data []byte) {
		payload, n, err := nextFrame(data)
		if err != nil {
			return
		}
		if got := appendFrame(nil, payload); string(got) != string(data[:n]) {
			t.Fatalf("frame does not round trip")
		}
	})
}

// FuzzSnapshot loads arbitrary bytes as a snapshot: never a panic; a refusal
// is ErrCorrupt naming the file.
func FuzzSnapshot(f *testing.F) {
	m := newMVCC()
	m.apply(1, []write{{key: "a", value: []byte("1")}, {key: "b", value: []byte("2")}})
	m.apply(2, []write{{key: "a", del: true}})
	m.apply(3, []write{{key: "a", value: []byte("4")}})
	m.compact(2)
	dir := f.TempDir()
	if err := writeSnapshot(dir, m.view()); err != nil {
		f.Fatal(err)
	}
	good, err := os.ReadFile(filepath.Join(dir, snapshotName(3)))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), snapshotName(1))
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		m, err := loadSnapshot(path)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), filepath.Base(path)) {
				t.Fatalf("refusal without ErrCorrupt and the file name: %v", err)
			}
			return
		}
		m.rangeAt("", m.latest, store.RangeOptions{}, true)
		m.eventsFrom(nil, "", m.compacted, m.latest)
	})
}
