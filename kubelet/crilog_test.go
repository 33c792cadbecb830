package kubelet_test

import (
	"archive/tar"
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/kubelet"
)

func TestParseLogLine(t *testing.T) {
	for _, tc := range []struct {
		line    string
		stream  string
		partial bool
		content string
		err     string
	}{
		{line: "2026-11-21T10:00:00.123456789Z stdout F hello world", stream: "stdout", content: "hello world"},
		{line: "2026-11-21T10:00:00Z stderr P part", stream: "stderr", partial: true, content: "part"},
		{line: "2026-11-21T10:00:00Z stdout F", stream: "stdout", content: ""},
		{line: "2026-11-21T10:00:00Z stdout F:x tagged", stream: "stdout", content: "tagged"},
		{line: "nonsense", err: "no space after the timestamp"},
		{line: "yesterday stdout F x", err: "timestamp"},
		{line: "2026-11-21T10:00:00Z stdin F x", err: "stream"},
		{line: "2026-11-21T10:00:00Z stdout X x", err: "tag"},
		{line: "2026-11-21T10:00:00Z stdout", err: "no space after the stream"},
	} {
		l, err := kubelet.ParseLogLine([]byte(tc.line))
		if tc.err != "" {
			assert.ErrorIs(t, err, kubelet.ErrBadLogLine, tc.line)
			assert.ErrorContains(t, err, tc.err, tc.line)
			continue
		}
		require.NoError(t, err, tc.line)
		assert.Equal(t, tc.stream, l.Stream)
		assert.Equal(t, tc.partial, l.Partial)
		assert.Equal(t, tc.content, string(l.Content))
	}
}

func TestReadLogsJoinsPartialLines(t *testing.T) {
	ts := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	var buf []byte
	buf = kubelet.AppendLogLine(buf, ts, "stdout", []byte("first"))
	buf = append(buf, "2026-01-02T03:04:05Z stderr P long \n2026-01-02T03:04:05Z stderr F line\n"...)
	var got []kubelet.LogLine
	require.NoError(t, kubelet.ReadLogs(bytes.NewReader(buf), func(l kubelet.LogLine) bool { got = append(got, l); return true }))
	require.Len(t, got, 2)
	assert.Equal(t, ts, got[0].Time)
	assert.Equal(t, "first", string(got[0].Content))
	assert.Equal(t, "long line", string(got[1].Content))
	assert.Equal(t, "stderr", got[1].Stream)

	err := kubelet.ReadLogs(strings.NewReader("2026-01-02T03:04:05Z stdout F ok\nbad line\n"), func(kubelet.LogLine) bool { return true })
	assert.ErrorContains(t, err, "line 2")
}

func FuzzParseLogLine(f *testing.F) {
	f.Add([]byte("2026-11-21T10:00:00.123456789Z stdout F hello"))
	f.Add([]byte("2026-11-21T10:00:00Z stderr P "))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, line []byte) {
		l, err := kubelet.ParseLogLine(line)
		if err != nil {
			return
		}
		// A parsed line written back parses to the same content and stream.
		if l.Partial {
			return
		}
		again, err := kubelet.ParseLogLine(bytes.TrimSuffix(kubelet.AppendLogLine(nil, l.Time, l.Stream, l.Content), []byte("\n")))
		if err != nil {
			t.Fatalf("round trip of %q: %v", line, err)
		}
		if again.Stream != l.Stream || !bytes.Equal(again.Content, l.Content) || !again.Time.Equal(l.Time) {
			t.Fatalf("round trip of %q: %+v != %+v", line, again, l)
		}
	})
}

func tarOf(t testing.TB, files map[string]string) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, body := range files {
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}))
		_, err := tw.Write([]byte(body))
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	return buf.Bytes()
}

func TestImageArchiveNames(t *testing.T) {
	names, err := kubelet.ImageArchiveNames(bytes.NewReader(tarOf(t, map[string]string{
		"index.json": `{"manifests":[{"annotations":{"io.containerd.image.name":"a:v1"}},{"annotations":{"org.opencontainers.image.ref.name":"b:v2"}}]}`,
	})))
	require.NoError(t, err)
	assert.Equal(t, []string{"a:v1", "b:v2"}, names)

	names, err = kubelet.ImageArchiveNames(bytes.NewReader(tarOf(t, map[string]string{
		"manifest.json": `[{"RepoTags":["c:v3"]}]`,
	})))
	require.NoError(t, err)
	assert.Equal(t, []string{"c:v3"}, names)

	for name, archive := range map[string][]byte{
		"no index":        tarOf(t, map[string]string{"blob": "x"}),
		"bad json":        tarOf(t, map[string]string{"index.json": "{"}),
		"unnamed":         tarOf(t, map[string]string{"index.json": `{"manifests":[{}]}`}),
		"empty index":     tarOf(t, map[string]string{"index.json": `{"manifests":[]}`}),
		"untagged docker": tarOf(t, map[string]string{"manifest.json": `[{}]`}),
		"not a tar":       []byte("hello"),
	} {
		_, err := kubelet.ImageArchiveNames(bytes.NewReader(archive))
		assert.ErrorIs(t, err, kubelet.ErrBadImageArchive, name)
	}
}

func FuzzImageArchiveNames(f *testing.F) {
	f.Add(tarOf(f, map[string]string{"index.json": `{"manifests":[{"annotations":{"io.containerd.image.name":"a:v1"}}]}`}))
	f.Add(tarOf(f, map[string]string{"manifest.json": `[{"RepoTags":["c:v3"]}]`}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, archive []byte) {
		names, err := kubelet.ImageArchiveNames(bytes.NewReader(archive))
		if err == nil && len(names) == 0 {
			t.Fatal("no error and no names")
		}
		for _, n := range names {
			if n == "" {
				t.Fatal("empty name without error")
			}
		}
	})
}

func TestValidate(t *testing.T) {
	assert.NoError(t, kubelet.SandboxConfig{Name: "a", Namespace: "b", UID: "c"}.Validate())
	assert.ErrorContains(t, kubelet.SandboxConfig{Namespace: "b", UID: "c"}.Validate(), "name")
	assert.NoError(t, kubelet.ContainerConfig{Name: "a", Image: "i"}.Validate())
	err := kubelet.ContainerConfig{Name: "a", Image: "i", Mounts: []kubelet.Mount{{ContainerPath: "/x"}}}.Validate()
	assert.ErrorIs(t, err, kubelet.ErrInvalid)
	assert.ErrorContains(t, err, "mounts[0]")
	assert.ErrorContains(t, kubelet.ContainerConfig{Name: "a", Image: "i", Resources: kubelet.Resources{MemoryLimit: -1}}.Validate(), "memoryLimit")
}
