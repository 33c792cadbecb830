package wschannel

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/kubelet"
)

func TestFrames(t *testing.T) {
	f, err := DecodeFrame([]byte{2, 'h', 'i'})
	require.NoError(t, err)
	assert.Equal(t, Frame{Stream: StreamStderr, Data: []byte("hi")}, f)
	_, err = DecodeFrame(nil)
	assert.ErrorIs(t, err, ErrFrame)
	assert.Equal(t, []byte{9, 1, 'x'}, AppendFrame([]byte{9}, StreamStdout, []byte("x")))

	s, err := DecodeClose([]byte{StreamStdin})
	require.NoError(t, err)
	assert.Equal(t, StreamStdin, s)
	_, err = DecodeClose([]byte{0, 1})
	assert.ErrorContains(t, err, "2 payload bytes")
}

func TestResize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want kubelet.TerminalSize
		err  string
	}{
		{`{"Width":80,"Height":24}`, kubelet.TerminalSize{Width: 80, Height: 24}, ""},
		{`{"width":80,"height":24}`, kubelet.TerminalSize{Width: 80, Height: 24}, ""}, // JSON matches names case-insensitively, as in Go's client
		{`{"Width":80}`, kubelet.TerminalSize{}, "Width and Height are required"},
		{`{"Width":70000,"Height":1}`, kubelet.TerminalSize{}, "Width"},
		{`{"Width":-1,"Height":1}`, kubelet.TerminalSize{}, "Width"},
		{`nope`, kubelet.TerminalSize{}, "resize"},
	} {
		got, err := DecodeResize([]byte(tc.in))
		if tc.err != "" {
			assert.ErrorIs(t, err, ErrFrame, tc.in)
			assert.ErrorContains(t, err, tc.err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
		back, err := DecodeResize(EncodeResize(got))
		require.NoError(t, err)
		assert.Equal(t, got, back)
	}
}

func TestStatus(t *testing.T) {
	assert.JSONEq(t, `{"metadata":{},"status":"Success"}`, string(ExitStatus([]string{"true"}, 0).Encode()))
	// What the kubelet sends for "sh -c 'exit 3'".
	assert.JSONEq(t, `{"metadata":{},"status":"Failure","reason":"NonZeroExitCode",
		"message":"command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3",
		"details":{"causes":[{"reason":"ExitCode","message":"3"}]}}`, string(ExitStatus([]string{"sh", "-c", "exit 3"}, 3).Encode()))

	for _, tc := range []struct {
		in   string
		code int32
		err  string
	}{
		{`{"metadata":{},"status":"Success"}`, 0, ""},
		{string(ExitStatus([]string{"x"}, 137).Encode()), 137, ""},
		{`{"status":"Failure","reason":"InternalError","message":"no such container"}`, 0, "no such container"},
		{`{"status":"Failure","reason":"NonZeroExitCode"}`, 0, "without an ExitCode cause"},
		{`{"status":"Failure","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"x"}]}}`, 0, `message "x"`},
		{`{"status":"Failure","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"0"}]}}`, 0, `message "0"`},
		{`{"status":"Maybe"}`, 0, `field status is "Maybe"`},
		{`[`, 0, "malformed status"},
	} {
		st, err := DecodeStatus([]byte(tc.in))
		if err == nil {
			var code int32
			code, err = st.ExitCode()
			if tc.err == "" {
				require.NoError(t, err, tc.in)
				assert.Equal(t, tc.code, code, tc.in)
				continue
			}
		}
		assert.ErrorContains(t, err, tc.err, tc.in)
	}
	var st map[string]any
	require.NoError(t, json.Unmarshal(ErrorStatus(assert.AnError).Encode(), &st))
	assert.Equal(t, map[string]any{"metadata": map[string]any{}, "status": "Failure", "reason": "InternalError", "code": 500.0, "message": assert.AnError.Error()}, st)
}

func TestPorts(t *testing.T) {
	assert.Equal(t, []byte{0x90, 0x1f}, PortHeader(8080))
	p, rest, err := ParsePortHeader([]byte{0x90, 0x1f, 'x'})
	require.NoError(t, err)
	assert.Equal(t, uint16(8080), p)
	assert.Equal(t, []byte("x"), rest)
	_, _, err = ParsePortHeader([]byte{1})
	assert.ErrorContains(t, err, "1 bytes, want 2")
	_, _, err = ParsePortHeader([]byte{0, 0})
	assert.ErrorContains(t, err, "port 0")

	ports, err := ParsePorts([]string{"80,443", "8080"})
	require.NoError(t, err)
	assert.Equal(t, []uint16{80, 443, 8080}, ports)
	for _, bad := range [][]string{nil, {""}, {"0"}, {"65536"}, {"80,"}, {"-1"}, {"http"}} {
		_, err := ParsePorts(bad)
		assert.ErrorIs(t, err, ErrPort, "%q", bad)
	}
}

func FuzzDecodeFrame(f *testing.F) {
	f.Add([]byte{0, 'h', 'i'})
	f.Add([]byte{4, '{', '"', 'W', '"', ':', '1', '}'})
	f.Add(append([]byte{3}, ExitStatus([]string{"x"}, 3).Encode()...))
	f.Add([]byte{255, 0})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, msg []byte) {
		fr, err := DecodeFrame(msg)
		if err != nil {
			if len(msg) != 0 {
				t.Fatalf("non-empty message rejected: %v", err)
			}
			return
		}
		if string(AppendFrame(nil, fr.Stream, fr.Data)) != string(msg) {
			t.Fatalf("frame %v does not encode back to %q", fr, msg)
		}
		// No payload may panic a decoder, whatever the stream byte says.
		if sz, err := DecodeResize(fr.Data); err == nil {
			if back, err := DecodeResize(EncodeResize(sz)); err != nil || back != sz {
				t.Fatalf("resize %v does not round-trip: %v %v", sz, back, err)
			}
		}
		_, _ = DecodeClose(fr.Data)
		if st, err := DecodeStatus(fr.Data); err == nil {
			if code, err := st.ExitCode(); err == nil && st.Status == StatusFailure && code == 0 {
				t.Fatalf("a failure decoded as exit code 0: %s", fr.Data)
			}
		}
	})
}

func FuzzParsePorts(f *testing.F) {
	f.Add("8080", []byte{0x90, 0x1f})
	f.Add("80,443", []byte{0})
	f.Add(",", []byte{})
	f.Fuzz(func(t *testing.T, query string, header []byte) {
		if ports, err := ParsePorts([]string{query}); err == nil {
			for _, p := range ports {
				if p == 0 {
					t.Fatalf("port 0 accepted from %q", query)
				}
				back, rest, err := ParsePortHeader(PortHeader(p))
				if err != nil || back != p || len(rest) != 0 {
					t.Fatalf("port %d header does not round-trip: %d %v", p, back, err)
				}
			}
		}
		if p, rest, err := ParsePortHeader(header); err == nil && (p == 0 || len(rest) != len(header)-2) {
			t.Fatalf("header %x parsed as port %d with %d bytes left", header, p, len(rest))
		}
	})
}

func BenchmarkAppendDecodeFrame(b *testing.B) {
	data := make([]byte, 32<<10)
	buf := make([]byte, 0, len(data)+1)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		buf = AppendFrame(buf[:0], StreamStdout, data)
		if _, err := DecodeFrame(buf); err != nil {
			b.Fatal(err)
		}
	}
}
