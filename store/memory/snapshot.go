package memory

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"google.golang.org/protobuf/proto"

	"github.com/gantry-sdk/gantry/store"
	"github.com/gantry-sdk/gantry/store/memory/walpb"
)

// snapshotView is the state of an mvcc at one revision, captured under its
// lock in O(keys) by copying slice headers: keyHistory slices are only
// appended to in place, so the copies stay valid while writes go on.
type snapshotView struct {
	rev       int64
	compacted int64
	keys      []keyHistory
}

func (m *mvcc) view() *snapshotView {
	v := &snapshotView{rev: m.latest, compacted: m.compacted, keys: make([]keyHistory, 0, len(m.keys))}
	m.tree.Ascend(func(h *keyHistory) bool {
		v.keys = append(v.keys, keyHistory{key: h.key, versions: h.versions[:len(h.versions):len(h.versions)]})
		return true
	})
	return v
}

// writeSnapshot writes v to dir durably: a temporary file, synced, renamed.
func writeSnapshot(dir string, v *snapshotView) (err error) {
	final := filepath.Join(dir, snapshotName(v.rev))
	tmp := final + tmpSuffix
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("memory: snapshot: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	w := bufio.NewWriterSize(f, 1<<20)
	buf, err := appendMessageFrame(nil, &walpb.SnapshotHeader{Revision: v.rev, Compacted: v.compacted})
	if err != nil {
		return err
	}
	if _, err := w.Write(buf); err != nil {
		return fmt.Errorf("memory: snapshot: %w", err)
	}
	var kh walpb.KeyHistory
	var versions []walpb.Version
	var ptrs []*walpb.Version
	for _, h := range v.keys {
		versions = versions[:0]
		ptrs = ptrs[:0]
		for _, ver := range h.versions {
			versions = append(versions, walpb.Version{ModRevision: ver.modRev, CreateRevision: ver.createRev, Version: ver.ver, Sub: ver.sub, Value: ver.value})
		}
		for i := range versions {
			ptrs = append(ptrs, &versions[i])
		}
		kh.Key, kh.Versions = []byte(h.key), ptrs
		if buf, err = appendMessageFrame(buf[:0], &kh); err != nil {
			return err
		}
		if _, err := w.Write(buf); err != nil {
			return fmt.Errorf("memory: snapshot: %w", err)
		}
	}
	if buf, err = appendMessageFrame(buf[:0], &walpb.SnapshotFooter{Keys: int64(len(v.keys))}); err != nil {
		return err
	}
	if _, err := w.Write(buf); err != nil {
		return fmt.Errorf("memory: snapshot: %w", err)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("memory: snapshot: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("memory: snapshot: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("memory: snapshot: %w", err)
	}
	if err := os.Rename(tmp, final); err != nil {
		return fmt.Errorf("memory: snapshot: %w", err)
	}
	return syncDir(dir)
}

// loadSnapshot reads a snapshot file into a new mvcc. Snapshots are written
// whole before they are renamed into place, so any damage is corruption.
func loadSnapshot(path string) (*mvcc, error) {
	data, err := readAll(path)
	if err != nil {
		return nil, fmt.Errorf("memory: read snapshot: %w", err)
	}
	name := filepath.Base(path)
	corrupt := func(off int, format string, args ...any) error {
		return fmt.Errorf("memory: %s at offset %d: %s: %w", name, off, fmt.Sprintf(format, args...), ErrCorrupt)
	}
	m := newMVCC()
	off, keys := 0, int64(0)
	var header walpb.SnapshotHeader
	var prevKey string
	for i := 0; ; i++ {
		if off == len(data) {
			return nil, corrupt(off, "snapshot ends without its footer")
		}
		payload, n, ferr := nextFrame(data[off:])
		if errors.Is(ferr, errTorn) {
			return nil, corrupt(off, "snapshot cut short")
		}
		if ferr != nil {
			return nil, corrupt(off, "%v", ferr)
		}
		switch {
		case i == 0:
			if err := proto.Unmarshal(payload, &header); err != nil {
				return nil, corrupt(off, "header: %v", err)
			}
			if header.Revision < 0 || header.Compacted < 0 || header.Compacted > header.Revision {
				return nil, corrupt(off, "header revision %d, compacted %d", header.Revision, header.Compacted)
			}
		case off+n == len(data):
			var footer walpb.SnapshotFooter
			if err := proto.Unmarshal(payload, &footer); err != nil {
				return nil, corrupt(off, "footer: %v", err)
			}
			if footer.Keys != keys {
				return nil, corrupt(off, "footer counts %d keys, snapshot holds %d", footer.Keys, keys)
			}
			m.latest, m.compacted = header.Revision, header.Compacted
			m.rebuildLog()
			if err := m.checkLog(); err != nil {
				return nil, corrupt(off, "%v", err)
			}
			return m, nil
		default:
			var kh walpb.KeyHistory
			if err := proto.Unmarshal(payload, &kh); err != nil {
				return nil, corrupt(off, "key history: %v", err)
			}
			key := string(kh.Key)
			if key == "" || (keys > 0 && key <= prevKey) || len(kh.Versions) == 0 {
				return nil, corrupt(off, "key %q out of order or without versions", key)
			}
			h := &keyHistory{key: key, versions: make([]version, len(kh.Versions))}
			for j, v := range kh.Versions {
				if v.ModRevision <= 0 || v.ModRevision > header.Revision || (j > 0 && v.ModRevision <= kh.Versions[j-1].ModRevision) ||
					v.Version < 0 || (v.Version == 0 && len(v.Value) > 0) || v.CreateRevision > v.ModRevision {
					return nil, corrupt(off, "key %q version %d is inconsistent", key, j)
				}
				h.versions[j] = version{modRev: v.ModRevision, createRev: v.CreateRevision, ver: v.Version, sub: v.Sub, value: v.Value}
				if len(v.Value) == 0 {
					h.versions[j].value = nil
				}
			}
			m.keys[key] = h
			m.tree.ReplaceOrInsert(h)
			prevKey = key
			keys++
		}
		off += n
	}
}

// rebuildLog derives the per-revision change log (what watchers read) from the
// retained versions, for revisions from the compaction on.
func (m *mvcc) rebuildLog() {
	type ref struct {
		h *keyHistory
		i int
	}
	var refs []ref
	m.tree.Ascend(func(h *keyHistory) bool {
		for i := range h.versions {
			if h.versions[i].modRev >= m.compacted {
				refs = append(refs, ref{h, i})
			}
		}
		return true
	})
	sort.Slice(refs, func(a, b int) bool {
		va, vb := &refs[a].h.versions[refs[a].i], &refs[b].h.versions[refs[b].i]
		if va.modRev != vb.modRev {
			return va.modRev < vb.modRev
		}
		return va.sub < vb.sub
	})
	m.log = nil
	for _, r := range refs {
		v := &r.h.versions[r.i]
		if n := len(m.log); n == 0 || m.log[n-1].rev != v.modRev {
			m.log = append(m.log, revision{rev: v.modRev})
		}
		var ch change
		if r.i > 0 && !r.h.versions[r.i-1].tombstone() {
			ch.prev, ch.hasPrev = kvOf(r.h.key, &r.h.versions[r.i-1]), true
		}
		if v.tombstone() {
			ch.typ = store.EventDelete
			ch.kv = store.KeyValue{Key: r.h.key, ModRevision: v.modRev}
		} else {
			ch.typ = store.EventPut
			ch.kv = kvOf(r.h.key, v)
		}
		last := &m.log[len(m.log)-1]
		last.changes = append(last.changes, ch)
	}
}

// checkLog verifies that the log holds every revision from the compaction
// to the newest, once each.
func (m *mvcc) checkLog() error {
	first := max(m.compacted, 1)
	if m.latest == 0 {
		first = 0
	}
	want := m.latest - first + 1
	if m.latest == 0 {
		want = 0
	}
	if int64(len(m.log)) != want {
		return fmt.Errorf("history holds %d revisions, want %d (%d to %d)", len(m.log), want, first, m.latest)
	}
	for i, r := range m.log {
		if r.rev != first+int64(i) {
			return fmt.Errorf("history has revision %d where %d belongs", r.rev, first+int64(i))
		}
	}
	return nil
}
