package kubelet

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"
)

// ErrBadLogLine: a line of a container log file is not in the CRI format.
var ErrBadLogLine = errors.New("kubelet: bad CRI log line")

// LogLine is one line of a container log file in the CRI format:
// "<RFC3339Nano time> <stdout|stderr> <F|P> <content>".
type LogLine struct {
	Time   time.Time
	Stream string
	// Partial marks a line the runtime split (tag P); the next line continues it.
	Partial bool
	Content []byte
}

// ParseLogLine parses one line (without its newline). Content aliases line.
func ParseLogLine(line []byte) (LogLine, error) {
	var l LogLine
	ts, rest, ok := bytes.Cut(line, []byte{' '})
	if !ok {
		return l, fmt.Errorf("%w: no space after the timestamp", ErrBadLogLine)
	}
	t, err := time.Parse(time.RFC3339Nano, string(ts))
	if err != nil {
		return l, fmt.Errorf("%w: timestamp %q: %v", ErrBadLogLine, ts, err)
	}
	stream, rest, ok := bytes.Cut(rest, []byte{' '})
	if !ok {
		return l, fmt.Errorf("%w: no space after the stream", ErrBadLogLine)
	}
	if s := string(stream); s != "stdout" && s != "stderr" {
		return l, fmt.Errorf("%w: stream %q is neither stdout nor stderr", ErrBadLogLine, stream)
	}
	tag, content, ok := bytes.Cut(rest, []byte{' '})
	if !ok {
		// An empty full line may be written without the trailing space.
		tag, content = rest, nil
	}
	// Tags are ':'-separated; the first is F (full) or P (partial).
	first, _, _ := bytes.Cut(tag, []byte{':'})
	switch string(first) {
	case "F":
	case "P":
		l.Partial = true
	default:
		return l, fmt.Errorf("%w: tag %q is neither F nor P", ErrBadLogLine, tag)
	}
	l.Time, l.Stream, l.Content = t, string(stream), content
	return l, nil
}

// AppendLogLine appends a full line in the CRI format (what runtimes write).
func AppendLogLine(dst []byte, t time.Time, stream string, content []byte) []byte {
	dst = t.UTC().AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, ' ')
	dst = append(dst, stream...)
	dst = append(dst, " F "...)
	dst = append(dst, content...)
	return append(dst, '\n')
}

// ReadLogs parses a CRI-format log stream, joining partial lines, and calls fn
// for each complete line until fn returns false or r ends.
func ReadLogs(r io.Reader, fn func(LogLine) bool) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	var pending []byte
	for n := 1; sc.Scan(); n++ {
		l, err := ParseLogLine(sc.Bytes())
		if err != nil {
			return fmt.Errorf("line %d: %w", n, err)
		}
		if l.Partial {
			pending = append(pending, l.Content...)
			continue
		}
		if pending != nil {
			l.Content = append(pending, l.Content...)
			pending = nil
		} else {
			l.Content = bytes.Clone(l.Content)
		}
		if !fn(l) {
			return nil
		}
	}
	return sc.Err()
}
