package resource

import (
	"encoding/json"
	"errors"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseQuantityCanonical(t *testing.T) {
	tests := []struct {
		in     string
		want   string
		milli  int64
		value  int64
		format Format
	}{
		{"512Mi", "512Mi", 512 << 20 * 1000, 512 << 20, BinarySI},
		{"1Gi", "1Gi", 1 << 30 * 1000, 1 << 30, BinarySI},
		{"1024Mi", "1Gi", 1 << 30 * 1000, 1 << 30, BinarySI},
		{"1536Mi", "1536Mi", 1536 << 20 * 1000, 1536 << 20, BinarySI},
		{"1.5Gi", "1536Mi", 1536 << 20 * 1000, 1536 << 20, BinarySI},
		{"0.5Ki", "512", 512000, 512, BinarySI},
		{"0.2", "200m", 200, 1, DecimalSI},
		{"200m", "200m", 200, 1, DecimalSI},
		{"1", "1", 1000, 1, DecimalSI},
		{"1000m", "1", 1000, 1, DecimalSI},
		{"1e3", "1e3", 1000000, 1000, DecimalExponent},
		{"1.5e3", "1500", 1500000, 1500, DecimalExponent},
		{"1E3", "1e3", 1000000, 1000, DecimalExponent},
		{"1k", "1k", 1000000, 1000, DecimalSI},
		{"1000", "1k", 1000000, 1000, DecimalSI},
		{"1500", "1500", 1500000, 1500, DecimalSI},
		{"1M", "1M", 1e9, 1e6, DecimalSI},
		{"2E", "2E", math.MaxInt64, 2e18, DecimalSI},
		{"-5", "-5", -5000, -5, DecimalSI},
		{"+7", "7", 7000, 7, DecimalSI},
		{"0", "0", 0, 0, DecimalSI},
		{"0.000", "0", 0, 0, DecimalSI},
		{"0.0001", "100u", 1, 1, DecimalSI},
		{"1n", "1n", 1, 1, DecimalSI},
		{"0.0000000001", "1n", 1, 1, DecimalSI}, // below 1n rounds up
		{"1.5", "1500m", 1500, 2, DecimalSI},
		{".5", "500m", 500, 1, DecimalSI},
		{"5.", "5", 5000, 5, DecimalSI},
		{"100Ki", "100Ki", 102400000, 102400, BinarySI},
		{"1023", "1023", 1023000, 1023, DecimalSI},
		{"123456789012345678", "123456789012345678", math.MaxInt64, 123456789012345678, DecimalSI},
		{"100000000000000000000000", "100000E", math.MaxInt64, math.MaxInt64, DecimalSI},
		{"12e-1", "1200e-3", 1200, 2, DecimalExponent},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			q, err := ParseQuantity(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, q.String())
			assert.Equal(t, tt.milli, q.MilliValue(), "MilliValue")
			assert.Equal(t, tt.value, q.Value(), "Value")
			assert.Equal(t, tt.format, q.Format())
			// The canonical form parses back to the same amount.
			back, err := ParseQuantity(q.String())
			require.NoError(t, err)
			assert.Equal(t, 0, back.Cmp(q))
		})
	}
}

func TestParseQuantityErrors(t *testing.T) {
	tests := []struct {
		in   string
		want error
		msg  string
	}{
		{"", ErrFormat, "empty"},
		{"abc", ErrFormat, "byte 0"},
		{"1.2.3", ErrFormat, "byte 3"},
		{"12Mb", ErrFormat, `unknown suffix "Mb"`},
		{"1e", ErrFormat, `unknown suffix "e"`},
		{"1ex", ErrFormat, "malformed exponent"},
		{"-", ErrFormat, "expected a digit"},
		{"1 Gi", ErrFormat, `unknown suffix " Gi"`},
		{"12345678901234567891", ErrRange, "20 significant digits"},
		{"1e9999", ErrRange, "exponent"},
		{"100e1000", ErrRange, "exponent beyond"},
		{"9000000Ei", ErrRange, "int64"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := ParseQuantity(tt.in)
			require.Error(t, err)
			assert.True(t, errors.Is(err, tt.want), "%v", err)
			assert.Contains(t, err.Error(), tt.msg)
		})
	}
}

func TestQuantityArithmetic(t *testing.T) {
	q := MustParse("100m")
	for range 10 {
		q.Add(MustParse("0.1"))
	}
	assert.Equal(t, "1100m", q.String())
	q.Sub(MustParse("1.1"))
	assert.True(t, q.IsZero())
	assert.Equal(t, "0", q.String())

	mem := MustParse("1Gi")
	mem.Sub(MustParse("512Mi"))
	assert.Equal(t, "512Mi", mem.String())
	mem.Add(MustParse("512Mi"))
	assert.Equal(t, "1Gi", mem.String())

	// Zero adopts the format of what is added to it.
	var sum Quantity
	sum.Add(MustParse("1Ki"))
	assert.Equal(t, "1Ki", sum.String())

	// Sums too large for an int64 mantissa stay close and never wrap.
	big := NewQuantity(math.MaxInt64, DecimalSI)
	big.Add(NewQuantity(math.MaxInt64, DecimalSI))
	assert.Equal(t, 1, big.Cmp(NewQuantity(math.MaxInt64, DecimalSI)))
	assert.Equal(t, int64(math.MaxInt64), big.Value())

	neg := NewQuantity(math.MinInt64, DecimalSI)
	neg.Neg()
	assert.Equal(t, 1, neg.Sign())
	neg.Sub(NewQuantity(math.MinInt64, DecimalSI))
	assert.Equal(t, 1, neg.Sign())
}

func TestQuantityCmp(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1", "1000m", 0},
		{"1Ki", "1024", 0},
		{"1Gi", "1G", 1},
		{"200m", "0.2", 0},
		{"-1", "1n", -1},
		{"1E", "999999999999999999", 1},
		{"1e30", "1e29", 1},
		{"1n", "0", 1},
	}
	for _, tt := range tests {
		t.Run(tt.a+" vs "+tt.b, func(t *testing.T) {
			a, b := MustParse(tt.a), MustParse(tt.b)
			assert.Equal(t, tt.want, a.Cmp(b))
			assert.Equal(t, -tt.want, b.Cmp(a))
			assert.Equal(t, tt.want == 0, a.Equal(b))
		})
	}
	assert.Equal(t, 1, MustParse("2").CmpInt64(1))
}

func TestQuantityScaledValue(t *testing.T) {
	q := MustParse("1500m")
	assert.Equal(t, int64(2), q.Value(), "rounds up")
	assert.Equal(t, int64(1500), q.MilliValue())
	assert.Equal(t, int64(1500000000), q.ScaledValue(Nano))
	assert.Equal(t, int64(1), q.ScaledValue(Kilo))
	assert.Equal(t, int64(-1), MustParse("-1500m").Value(), "ceil toward +inf")
	assert.Equal(t, int64(1), MustParse("1n").MilliValue())
	assert.Equal(t, int64(1), MustParse("1n").ScaledValue(Exa))
	assert.Equal(t, int64(0), MustParse("-1n").ScaledValue(Exa))
	v, ok := MustParse("3k").AsInt64()
	assert.True(t, ok)
	assert.Equal(t, int64(3000), v)
	_, ok = MustParse("1.5").AsInt64()
	assert.False(t, ok)
	assert.InDelta(t, 0.2, MustParse("200m").AsApproximateFloat64(), 1e-12)
	assert.Equal(t, "250m", NewMilliQuantity(250, DecimalSI).String())
	assert.Equal(t, "2Ki", NewQuantity(2048, BinarySI).String())
	assert.Equal(t, "5n", NewScaledQuantity(5, Nano).String())
	assert.Equal(t, "1n", NewScaledQuantity(5, -12).String())
}

func TestQuantityJSON(t *testing.T) {
	type wrap struct {
		Q Quantity `json:"q"`
	}
	tests := []struct {
		in, out string
	}{
		{`{"q":"512Mi"}`, `{"q":"512Mi"}`},
		{`{"q":"0.2"}`, `{"q":"200m"}`},
		{`{"q":1}`, `{"q":"1"}`},
		{`{"q":0.5}`, `{"q":"500m"}`},
		{`{"q":1e3}`, `{"q":"1e3"}`},
		{`{"q":" 2Gi "}`, `{"q":"2Gi"}`},
		{`{"q":null}`, `{"q":"0"}`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var w wrap
			require.NoError(t, json.Unmarshal([]byte(tt.in), &w))
			b, err := json.Marshal(w)
			require.NoError(t, err)
			assert.JSONEq(t, tt.out, string(b))
		})
	}
	var w wrap
	err := json.Unmarshal([]byte(`{"q":"12Mb"}`), &w)
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrFormat)
	err = json.Unmarshal([]byte(`{"q":true}`), &w)
	require.Error(t, err)
}

func TestQuantityText(t *testing.T) {
	var q Quantity
	require.NoError(t, q.UnmarshalText([]byte("3Mi")))
	b, err := q.MarshalText()
	require.NoError(t, err)
	assert.Equal(t, "3Mi", string(b))
	assert.Error(t, q.UnmarshalText([]byte("x")))
	assert.Panics(t, func() { MustParse("nope") })
}

func FuzzParseQuantity(f *testing.F) {
	for _, s := range []string{"512Mi", "1Gi", "0.2", "200m", "1e3", "1k", "-1.5E", "0.0000000001", "1e-9", "9Ei", "+.5Ki"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := ParseQuantity(s)
		if err != nil {
			return
		}
		// Every accepted quantity prints a canonical form that parses back
		// to the same amount and prints identically.
		out := q.String()
		back, err := ParseQuantity(out)
		if err != nil {
			t.Fatalf("%q → %q does not parse: %v", s, out, err)
		}
		if back.Cmp(q) != 0 {
			t.Fatalf("%q → %q → %v: amount changed", s, out, back)
		}
		if back.String() != out {
			t.Fatalf("%q → %q → %q: not canonical", s, out, back.String())
		}
		// Adding and subtracting is exact while q+q fits the int64 mantissa;
		// beyond it Add documents rounding to 18 significant digits.
		if q.value > math.MinInt64/2 && q.value < math.MaxInt64/2 {
			sum := q
			sum.Add(q)
			sum.Sub(q)
			if sum.Cmp(q) != 0 {
				t.Fatalf("%q: q+q-q = %v", s, sum)
			}
		}
	})
}

func BenchmarkParseQuantity(b *testing.B) {
	for b.Loop() {
		_, _ = ParseQuantity("512Mi")
	}
}

func BenchmarkQuantityAdd(b *testing.B) {
	x, y := MustParse("200m"), MustParse("1")
	for b.Loop() {
		z := x
		z.Add(y)
	}
}

func BenchmarkQuantityString(b *testing.B) {
	q := MustParse("1536Mi")
	for b.Loop() {
		_ = q.String()
	}
}

// The exponent limit applies to the amount, not to how it is written:
// "100e1000" is 1e1002, which no canonical form could print back.
func TestParseQuantityExponentLimit(t *testing.T) {
	for _, in := range []string{"1e1000", "10e999", "-1e1000"} {
		q, err := ParseQuantity(in)
		require.NoError(t, err, in)
		back, err := ParseQuantity(q.String())
		require.NoError(t, err, "%s → %s", in, q.String())
		assert.Equal(t, 0, back.Cmp(q))
	}
	for _, in := range []string{"100e1000", "10e1000", "1000e998"} {
		_, err := ParseQuantity(in)
		assert.ErrorIs(t, err, ErrRange, in)
	}
}
