package memory

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/gantry-sdk/gantry/store/memory/walpb"
)

// On disk, every record (of the log and of snapshots) is a frame:
//
//	[0:4)   payload length, little endian
//	[4:8)   CRC-32C of the payload
//	[8:12)  CRC-32C of bytes [0:8), so that a damaged length is told apart
//	        from a record cut short by a crash
//	[12:)   payload: a protobuf message of package walpb
const (
	frameHeader = 12
	// maxFrame bounds a payload, so that a damaged length cannot ask for an
	// absurd allocation.
	maxFrame = 1 << 30
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// appendFrame appends the frame of payload to dst.
func appendFrame(dst, payload []byte) []byte {
	var h [frameHeader]byte
	binary.LittleEndian.PutUint32(h[0:4], uint32(len(payload)))
	binary.LittleEndian.PutUint32(h[4:8], crc32.Checksum(payload, castagnoli))
	binary.LittleEndian.PutUint32(h[8:12], crc32.Checksum(h[0:8], castagnoli))
	dst = append(dst, h[:]...)
	return append(dst, payload...)
}

// appendMessageFrame marshals m into a frame at the end of dst.
func appendMessageFrame(dst []byte, m proto.Message) ([]byte, error) {
	start := len(dst)
	dst = append(dst, make([]byte, frameHeader)...)
	dst, err := proto.MarshalOptions{}.MarshalAppend(dst, m)
	if err != nil {
		return dst[:start], err
	}
	payload := dst[start+frameHeader:]
	h := dst[start : start+frameHeader]
	binary.LittleEndian.PutUint32(h[0:4], uint32(len(payload)))
	binary.LittleEndian.PutUint32(h[4:8], crc32.Checksum(payload, castagnoli))
	binary.LittleEndian.PutUint32(h[8:12], crc32.Checksum(h[0:8], castagnoli))
	return dst, nil
}

// errTorn marks a frame cut short at the end of the data: a write that a
// crash interrupted, never acknowledged.
var errTorn = errors.New("torn record at end of data")

// nextFrame reads the frame at the start of b. It returns the payload and the
// frame's total size, errTorn if b ends inside a frame that was being
// written, or another error if the frame is damaged.
func nextFrame(b []byte) (payload []byte, n int, err error) {
	if len(b) < frameHeader {
		return nil, 0, errTorn
	}
	h := b[:frameHeader]
	if crc32.Checksum(h[0:8], castagnoli) != binary.LittleEndian.Uint32(h[8:12]) {
		if allZero(b) {
			return nil, 0, errTorn // a tail of zeros: space the file system extended
		}
		return nil, 0, errors.New("record header checksum mismatch")
	}
	size := binary.LittleEndian.Uint32(h[0:4])
	if size > maxFrame {
		return nil, 0, fmt.Errorf("record length %d exceeds %d", size, maxFrame)
	}
	end := frameHeader + int(size)
	if end > len(b) {
		return nil, 0, errTorn
	}
	payload = b[frameHeader:end]
	if crc32.Checksum(payload, castagnoli) != binary.LittleEndian.Uint32(h[4:8]) {
		if end == len(b) {
			return nil, 0, errTorn // the last record, its payload partly written
		}
		return nil, 0, errors.New("record checksum mismatch")
	}
	return payload, end, nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// Files of a durable KV's directory.
const (
	segmentSuffix  = ".wal"
	snapshotPrefix = "snap-"
	snapshotSuffix = ".snap"
	tmpSuffix      = ".tmp"
	lockName       = "LOCK"
)

func segmentName(seq uint64) string { return fmt.Sprintf("%016x%s", seq, segmentSuffix) }

func snapshotName(rev int64) string {
	return fmt.Sprintf("%s%016x%s", snapshotPrefix, rev, snapshotSuffix)
}

// dirFiles lists the segments (by sequence) and snapshots (by revision) of dir.
func dirFiles(dir string) (segments []uint64, snapshots []int64, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, err
	}
	for _, e := range entries {
		name := e.Name()
		switch {
		case strings.HasSuffix(name, tmpSuffix):
			// An unfinished snapshot: never renamed, so never relied on.
			_ = os.Remove(filepath.Join(dir, name))
		case strings.HasSuffix(name, segmentSuffix):
			seq, err := strconv.ParseUint(strings.TrimSuffix(name, segmentSuffix), 16, 64)
			if err != nil {
				return nil, nil, fmt.Errorf("memory: unexpected file %s in %s", name, dir)
			}
			segments = append(segments, seq)
		case strings.HasPrefix(name, snapshotPrefix) && strings.HasSuffix(name, snapshotSuffix):
			rev, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(name, snapshotPrefix), snapshotSuffix), 16, 64)
			if err != nil {
				return nil, nil, fmt.Errorf("memory: unexpected file %s in %s", name, dir)
			}
			snapshots = append(snapshots, rev)
		}
	}
	sort.Slice(segments, func(i, j int) bool { return segments[i] < segments[j] })
	sort.Slice(snapshots, func(i, j int) bool { return snapshots[i] < snapshots[j] })
	return segments, snapshots, nil
}

// segment is the open, last segment of the log: appends go there.
type segment struct {
	f    *os.File
	seq  uint64
	size int64
}

// write appends b and makes it durable before returning.
func (s *segment) write(b []byte) error {
	if _, err := s.f.Write(b); err != nil {
		return err
	}
	s.size += int64(len(b))
	return fdatasync(s.f)
}

func createSegment(dir string, seq uint64) (*segment, error) {
	f, err := os.OpenFile(filepath.Join(dir, segmentName(seq)), os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("memory: create log segment: %w", err)
	}
	if err := syncDir(dir); err != nil {
		f.Close()
		return nil, err
	}
	return &segment{f: f, seq: seq}, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("memory: sync directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("memory: sync directory %s: %w", dir, err)
	}
	return nil
}

// decodeRecord decodes one log payload.
func decodeRecord(payload []byte) (*walpb.Record, error) {
	var rec walpb.Record
	if err := proto.Unmarshal(payload, &rec); err != nil {
		return nil, err
	}
	switch body := rec.Body.(type) {
	case *walpb.Record_Txn:
		if body.Txn == nil || body.Txn.Revision <= 0 || len(body.Txn.Writes) == 0 {
			return nil, errors.New("txn record without revision or writes")
		}
		for i, w := range body.Txn.Writes {
			if len(w.Key) == 0 {
				return nil, fmt.Errorf("txn record write %d has an empty key", i)
			}
			if w.Delete && len(w.Value) > 0 {
				return nil, fmt.Errorf("txn record write %d deletes with a value", i)
			}
		}
	case *walpb.Record_Compaction:
		if body.Compaction == nil || body.Compaction.Revision <= 0 {
			return nil, errors.New("compaction record without revision")
		}
	default:
		return nil, errors.New("record of unknown kind")
	}
	return &rec, nil
}

// replaySegment applies the records of one segment's bytes to m, skipping
// what a snapshot already holds. It returns how many bytes are intact (less
// than len(data) only for a torn final record when last is set) and whether
// any record was new to m.
func replaySegment(m *mvcc, name string, data []byte, last bool) (intact int, applied bool, err error) {
	off := 0
	for off < len(data) {
		payload, n, ferr := nextFrame(data[off:])
		if ferr == errTorn && last {
			return off, applied, nil
		}
		if ferr != nil {
			return 0, false, fmt.Errorf("memory: %s at offset %d: %v: %w", name, off, ferr, ErrCorrupt)
		}
		rec, derr := decodeRecord(payload)
		if derr != nil {
			return 0, false, fmt.Errorf("memory: %s at offset %d: %v: %w", name, off, derr, ErrCorrupt)
		}
		isNew, aerr := applyRecord(m, rec)
		if aerr != nil {
			return 0, false, fmt.Errorf("memory: %s at offset %d: %v: %w", name, off, aerr, ErrCorrupt)
		}
		applied = applied || isNew
		off += n
	}
	return off, applied, nil
}

// applyRecord replays one log record onto m. It reports false for a record
// that m (loaded from a snapshot) holds already.
func applyRecord(m *mvcc, rec *walpb.Record) (bool, error) {
	if c := rec.GetCompaction(); c != nil {
		if c.Revision <= m.compacted {
			return false, nil
		}
		if c.Revision > m.latest {
			return false, fmt.Errorf("compaction at revision %d beyond the newest %d", c.Revision, m.latest)
		}
		m.compact(c.Revision)
		return true, nil
	}
	t := rec.GetTxn()
	if t.Revision <= m.latest {
		return false, nil
	}
	if t.Revision != m.latest+1 {
		return false, fmt.Errorf("revision %d follows %d: revisions missing", t.Revision, m.latest)
	}
	size := 0
	for _, w := range t.Writes {
		size += len(w.Value)
	}
	buf := make([]byte, 0, size)
	ws := make([]write, len(t.Writes))
	seen := make(map[string]struct{}, len(t.Writes))
	for i, w := range t.Writes {
		key := string(w.Key)
		if _, dup := seen[key]; dup {
			return false, fmt.Errorf("revision %d writes key %q twice", t.Revision, key)
		}
		seen[key] = struct{}{}
		ws[i] = write{del: w.Delete, key: key}
		if w.Delete {
			if h := m.keys[key]; h == nil || h.latest() == nil {
				return false, fmt.Errorf("revision %d deletes missing key %q", t.Revision, key)
			}
			continue
		}
		n := len(buf)
		buf = append(buf, w.Value...)
		ws[i].value = buf[n:len(buf):len(buf)]
	}
	m.apply(t.Revision, ws)
	return true, nil
}

// txnRecord is the log record of revision rev.
func txnRecord(rev int64, ws []write) *walpb.Record {
	writes := make([]*walpb.Write, len(ws))
	for i, w := range ws {
		writes[i] = &walpb.Write{Key: []byte(w.key), Value: w.value, Delete: w.del}
	}
	return &walpb.Record{Body: &walpb.Record_Txn{Txn: &walpb.Txn{Revision: rev, Writes: writes}}}
}

func compactionRecord(rev int64) *walpb.Record {
	return &walpb.Record{Body: &walpb.Record_Compaction{Compaction: &walpb.Compaction{Revision: rev}}}
}

// readAll reads a whole file.
func readAll(path string) ([]byte, error) { return os.ReadFile(path) }
