package wschannel

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gantry-sdk/gantry/kubelet"
)

// Subprotocols of Kubernetes' WebSocket streams, binary framing.
const (
	// ProtocolV5 is v4 plus the close-stream message (StreamClose), which
	// lets a client end stdin alone.
	ProtocolV5 = "v5.channel.k8s.io"
	// ProtocolV4 carries exec streams and a Status on StreamError, and the
	// per-port channel pairs of port-forward.
	ProtocolV4 = "v4.channel.k8s.io"
)

// Stream IDs of exec: the first byte of each binary message.
const (
	StreamStdin  byte = 0
	StreamStdout byte = 1
	StreamStderr byte = 2
	// StreamError carries the exit Status (JSON) once the process ended.
	StreamError byte = 3
	// StreamResize carries terminal sizes as JSON {"Width":w,"Height":h}.
	StreamResize byte = 4
	// StreamClose (v5) carries the ID of a stream the sender closes.
	StreamClose byte = 255
)

// Errors of the decoders; the wrapped message names the offending byte or field.
var (
	ErrFrame  = errors.New("wschannel: malformed frame")
	ErrStatus = errors.New("wschannel: malformed status")
	ErrPort   = errors.New("wschannel: malformed port")
)

// Frame is one message of a channel protocol.
type Frame struct {
	Stream byte
	Data   []byte
}

// DecodeFrame splits a binary message into its stream ID and payload (which
// aliases msg).
func DecodeFrame(msg []byte) (Frame, error) {
	if len(msg) == 0 {
		return Frame{}, fmt.Errorf("%w: empty message has no stream byte", ErrFrame)
	}
	return Frame{Stream: msg[0], Data: msg[1:]}, nil
}

// AppendFrame appends the message of data on stream to dst.
func AppendFrame(dst []byte, stream byte, data []byte) []byte {
	dst = append(dst, stream)
	return append(dst, data...)
}

// DecodeResize decodes the payload of a StreamResize message.
func DecodeResize(data []byte) (kubelet.TerminalSize, error) {
	var sz struct{ Width, Height *uint16 }
	if err := json.Unmarshal(data, &sz); err != nil {
		return kubelet.TerminalSize{}, fmt.Errorf("%w: resize: %w", ErrFrame, err)
	}
	if sz.Width == nil || sz.Height == nil {
		return kubelet.TerminalSize{}, fmt.Errorf("%w: resize: Width and Height are required", ErrFrame)
	}
	return kubelet.TerminalSize{Width: *sz.Width, Height: *sz.Height}, nil
}

// EncodeResize is the payload of a StreamResize message.
func EncodeResize(sz kubelet.TerminalSize) []byte {
	return fmt.Appendf(nil, `{"Width":%d,"Height":%d}`, sz.Width, sz.Height)
}

// DecodeClose decodes the payload of a StreamClose message: the stream closed.
func DecodeClose(data []byte) (byte, error) {
	if len(data) != 1 {
		return 0, fmt.Errorf("%w: close message has %d payload bytes, want 1 (the stream ID)", ErrFrame, len(data))
	}
	return data[0], nil
}

// Status is the subset of Kubernetes' metav1.Status an exec reports on
// StreamError.
type Status struct {
	Metadata struct{}       `json:"metadata"`
	Status   string         `json:"status,omitempty"`
	Message  string         `json:"message,omitempty"`
	Reason   string         `json:"reason,omitempty"`
	Details  *StatusDetails `json:"details,omitempty"`
	Code     int32          `json:"code,omitempty"`
}

// StatusDetails holds the causes of a Status.
type StatusDetails struct {
	Causes []StatusCause `json:"causes,omitempty"`
}

// StatusCause is one cause; Type is serialised as "reason", as in metav1.
type StatusCause struct {
	Type    string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
	Field   string `json:"field,omitempty"`
}

// Status values and the reasons the kubelet uses for exec results.
const (
	StatusSuccess         = "Success"
	StatusFailure         = "Failure"
	ReasonNonZeroExitCode = "NonZeroExitCode"
	CauseExitCode         = "ExitCode"
	ReasonInternalError   = "InternalError"
)

// ExitStatus is the Status the kubelet sends when cmd exited with code.
func ExitStatus(cmd []string, code int32) Status {
	if code == 0 {
		return Status{Status: StatusSuccess}
	}
	return Status{
		Status: StatusFailure, Reason: ReasonNonZeroExitCode,
		Message: fmt.Sprintf("command terminated with non-zero exit code: error executing command %v, exit code %d", cmd, code),
		Details: &StatusDetails{Causes: []StatusCause{{Type: CauseExitCode, Message: strconv.Itoa(int(code))}}},
	}
}

// ErrorStatus is the Status of an exec that could not run.
func ErrorStatus(err error) Status {
	return Status{Status: StatusFailure, Reason: ReasonInternalError, Code: 500, Message: err.Error()}
}

// Encode is the JSON of s.
func (s Status) Encode() []byte {
	b, _ := json.Marshal(s) // plain strings and ints: cannot fail
	return b
}

// DecodeStatus decodes the payload of a StreamError message.
func DecodeStatus(data []byte) (Status, error) {
	var s Status
	if err := json.Unmarshal(data, &s); err != nil {
		return Status{}, fmt.Errorf("%w: %w", ErrStatus, err)
	}
	if s.Status != StatusSuccess && s.Status != StatusFailure {
		return Status{}, fmt.Errorf("%w: field status is %q, want Success or Failure", ErrStatus, s.Status)
	}
	return s, nil
}

// ExitCode is the exit code s reports: 0 for Success, the ExitCode cause of
// a NonZeroExitCode failure; other failures are errors carrying the message.
func (s Status) ExitCode() (int32, error) {
	if s.Status == StatusSuccess {
		return 0, nil
	}
	if s.Reason != ReasonNonZeroExitCode {
		return 0, fmt.Errorf("wschannel: exec failed: %s (reason %q)", s.Message, s.Reason)
	}
	if s.Details != nil {
		for _, c := range s.Details.Causes {
			if c.Type == CauseExitCode {
				n, err := strconv.ParseInt(c.Message, 10, 32)
				if err != nil || n == 0 {
					return 0, fmt.Errorf("%w: details.causes[reason=ExitCode].message %q is not a non-zero int32", ErrStatus, c.Message)
				}
				return int32(n), nil
			}
		}
	}
	return 0, fmt.Errorf("%w: NonZeroExitCode without an ExitCode cause", ErrStatus)
}

// PortHeader is the first message's payload on each channel of a forwarded
// port: the port, 2 bytes little-endian.
func PortHeader(port uint16) []byte {
	return binary.LittleEndian.AppendUint16(nil, port)
}

// ParsePortHeader splits the port header off the first payload of a channel.
func ParsePortHeader(data []byte) (uint16, []byte, error) {
	if len(data) < 2 {
		return 0, nil, fmt.Errorf("%w: header has %d bytes, want 2 (little-endian port)", ErrPort, len(data))
	}
	port := binary.LittleEndian.Uint16(data)
	if port == 0 {
		return 0, nil, fmt.Errorf("%w: header names port 0", ErrPort)
	}
	return port, data[2:], nil
}

// ParsePorts parses the "port" query values of a port-forward request; each
// may list ports separated by commas, as kubectl sends them.
func ParsePorts(values []string) ([]uint16, error) {
	var ports []uint16
	for _, v := range values {
		for p := range strings.SplitSeq(v, ",") {
			n, err := strconv.ParseUint(p, 10, 16)
			if err != nil || n == 0 {
				return nil, fmt.Errorf("%w: query parameter port %q is not in 1-65535", ErrPort, p)
			}
			ports = append(ports, uint16(n))
		}
	}
	if len(ports) == 0 {
		return nil, fmt.Errorf("%w: query parameter port is required", ErrPort)
	}
	return ports, nil
}
