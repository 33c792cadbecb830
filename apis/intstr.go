package apis

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ErrIntOrString reports an IntOrString that is neither an integer nor a
// percentage where one of those is required.
var ErrIntOrString = errors.New("apis: invalid int-or-string")

// IntOrStringType says which member of an IntOrString is set.
type IntOrStringType int

// The member types.
const (
	TypeInt IntOrStringType = iota
	TypeString
)

// IntOrString holds either an integer (8) or a string ("25%", "http"): a
// Deployment's maxSurge, a Service's targetPort. It marshals as the bare
// JSON number or string.
type IntOrString struct {
	Type   IntOrStringType
	IntVal int32
	StrVal string
}

// IntOrStringFromInt returns the integer form.
func IntOrStringFromInt(v int) IntOrString {
	if v > math.MaxInt32 || v < math.MinInt32 {
		// Out-of-range integers keep their digits as a string rather than wrap.
		return IntOrString{Type: TypeString, StrVal: strconv.Itoa(v)}
	}
	return IntOrString{Type: TypeInt, IntVal: int32(v)}
}

// IntOrStringFromString returns the string form.
func IntOrStringFromString(s string) IntOrString { return IntOrString{Type: TypeString, StrVal: s} }

// ParseIntOrString returns the integer form if s is a decimal int32, the
// string form otherwise (as kubectl does with `--port=8080` vs `--port=http`).
func ParseIntOrString(s string) IntOrString {
	if v, err := strconv.ParseInt(s, 10, 32); err == nil {
		return IntOrString{Type: TypeInt, IntVal: int32(v)}
	}
	return IntOrString{Type: TypeString, StrVal: s}
}

// String renders the value: "8" or "25%".
func (v IntOrString) String() string {
	if v.Type == TypeString {
		return v.StrVal
	}
	return strconv.Itoa(int(v.IntVal))
}

// IsZero reports whether v is the integer 0 (so `omitzero` omits it).
func (v IntOrString) IsZero() bool { return v.Type == TypeInt && v.IntVal == 0 }

// IntValue returns the integer, or the string parsed as one (0 if it is not).
func (v IntOrString) IntValue() int {
	if v.Type == TypeString {
		i, _ := strconv.Atoi(v.StrVal)
		return i
	}
	return int(v.IntVal)
}

// MarshalJSON renders a JSON number or string.
func (v IntOrString) MarshalJSON() ([]byte, error) {
	if v.Type == TypeString {
		return json.Marshal(v.StrVal)
	}
	return strconv.AppendInt(nil, int64(v.IntVal), 10), nil
}

// UnmarshalJSON accepts a JSON string or integer (null leaves the integer 0).
func (v *IntOrString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*v = IntOrString{}
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("%w: %s", ErrIntOrString, err)
		}
		*v = IntOrString{Type: TypeString, StrVal: s}
		return nil
	}
	i, err := strconv.ParseInt(string(b), 10, 32)
	if err != nil {
		return fmt.Errorf("%w: %s is neither a string nor a 32-bit integer", ErrIntOrString, b)
	}
	*v = IntOrString{Type: TypeInt, IntVal: int32(i)}
	return nil
}

// IsPercent reports whether v is a string of the form "N%".
func (v IntOrString) IsPercent() bool {
	_, ok := v.percent()
	return ok
}

func (v IntOrString) percent() (int, bool) {
	if v.Type != TypeString {
		return 0, false
	}
	s, ok := strings.CutSuffix(v.StrVal, "%")
	if !ok || s == "" {
		return 0, false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	p, err := strconv.Atoi(s)
	return p, err == nil
}

// ScaledValue resolves v against total: an integer is itself, "N%" is N% of
// total rounded up (roundUp) or down. Deployments resolve maxSurge rounding
// up and maxUnavailable rounding down.
func (v IntOrString) ScaledValue(total int, roundUp bool) (int, error) {
	if v.Type == TypeInt {
		return int(v.IntVal), nil
	}
	p, ok := v.percent()
	if !ok {
		return 0, fmt.Errorf("%w: %q must be an integer or a percentage", ErrIntOrString, v.StrVal)
	}
	n := int64(p) * int64(total)
	if roundUp {
		return int((n + 99) / 100), nil
	}
	return int(n / 100), nil
}

// ScaledValueOrDefault is ScaledValue with def for a nil v.
func ScaledValueOrDefault(v *IntOrString, def IntOrString, total int, roundUp bool) (int, error) {
	if v == nil {
		v = &def
	}
	return v.ScaledValue(total, roundUp)
}
