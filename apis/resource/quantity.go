package resource

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// Sentinel errors. Parse errors wrap ErrFormat or ErrRange with the offending
// input and the byte at fault.
var (
	// ErrFormat reports text that is not a quantity.
	ErrFormat = errors.New("resource: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
	// ErrRange reports a quantity with more significant digits or a larger
	// exponent than Quantity holds exactly.
	ErrRange = errors.New("resource: quantity out of range")
)

// Format is how a quantity was written, and so how it is printed back.
type Format uint8

// The formats.
const (
	// DecimalSI uses the suffixes n, u, m, k, M, G, T, P, E ("200m", "1k").
	DecimalSI Format = iota
	// BinarySI uses the suffixes Ki, Mi, Gi, Ti, Pi, Ei ("512Mi").
	BinarySI
	// DecimalExponent uses an exponent ("1e3").
	DecimalExponent
)

func (f Format) String() string {
	switch f {
	case BinarySI:
		return "BinarySI"
	case DecimalExponent:
		return "DecimalExponent"
	default:
		return "DecimalSI"
	}
}

// Scale is a power of ten, for ScaledValue: Milli is -3, Kilo 3.
type Scale int32

// Common scales.
const (
	Nano  Scale = -9
	Micro Scale = -6
	Milli Scale = -3
	Kilo  Scale = 3
	Mega  Scale = 6
	Giga  Scale = 9
	Tera  Scale = 12
	Peta  Scale = 15
	Exa   Scale = 18
)

const (
	// minScale is the finest precision kept: finer input rounds up to 1n, as
	// Kubernetes does.
	minScale = -9
	// maxScale bounds exponents so that arithmetic on scales cannot overflow.
	maxScale = 1000
	// maxDigits is the number of significant digits an int64 always holds.
	maxDigits = 18
)

// Quantity is an exact decimal amount of a resource: value × 10^scale, with
// the format it was written in. The zero value is 0. Quantities are plain
// values without pointers, so they copy with assignment and compare with
// Cmp (or == when both are normalised, as every constructor leaves them).
type Quantity struct {
	value  int64
	scale  int32
	format Format
}

// MustParse is ParseQuantity for constants in code and tests; it panics on a
// malformed literal, which is a programming error.
func MustParse(s string) Quantity {
	q, err := ParseQuantity(s)
	if err != nil {
		panic(err)
	}
	return q
}

// NewQuantity returns v units in format f.
func NewQuantity(v int64, f Format) Quantity { return normalize(v, 0, f) }

// NewMilliQuantity returns v thousandths in format f.
func NewMilliQuantity(v int64, f Format) Quantity { return normalize(v, -3, f) }

// NewScaledQuantity returns v × 10^scale.
func NewScaledQuantity(v int64, scale Scale) Quantity {
	if int32(scale) < minScale {
		q, _ := roundToMinScale(big.NewInt(v), int32(scale))
		return q
	}
	return normalize(v, int32(scale), DecimalSI)
}

var binarySuffixes = map[string]uint{"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}

var decimalSuffixes = map[string]int32{"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}

// ParseQuantity parses "512Mi", "1Gi", "0.2", "200m", "1e3", "1k", "-5",
// "+1.5". Precision finer than 1n is rounded up (away from zero), as
// Kubernetes does.
func ParseQuantity(s string) (Quantity, error) {
	q, err := parseQuantity(s)
	if err == nil && q.value != 0 && (q.scale > maxScale || q.scale == maxScale && q.value%10 == 0) {
		// The limit is on the amount, not on how it is written: "100e1000"
		// is 1e1002, which no canonical form could print back.
		return Quantity{}, fmt.Errorf("%w: %q: exponent beyond ±%d", ErrRange, s, maxScale)
	}
	return q, err
}

func parseQuantity(s string) (Quantity, error) {
	if s == "" {
		return Quantity{}, fmt.Errorf("%w: empty string", ErrFormat)
	}
	bad := func(i int, why string) (Quantity, error) {
		return Quantity{}, fmt.Errorf("%w: %q at byte %d: %s", ErrFormat, s, i, why)
	}
	i := 0
	neg := false
	if s[0] == '+' || s[0] == '-' {
		neg = s[0] == '-'
		i++
	}
	// Mantissa: digits, optionally one '.', more digits.
	var digitBuf [32]byte // most quantities fit; longer ones spill to the heap
	digits := digitBuf[:0]
	fracDigits := 0
	seenDot, seenDigit := false, false
	for ; i < len(s); i++ {
		c := s[i]
		if c >= '0' && c <= '9' {
			seenDigit = true
			if len(digits) > 0 || c != '0' {
				digits = append(digits, c)
			}
			if seenDot {
				fracDigits++
			}
			continue
		}
		if c == '.' {
			if seenDot {
				return bad(i, "second decimal point")
			}
			seenDot = true
			continue
		}
		break
	}
	if !seenDigit {
		return bad(i, "expected a digit")
	}
	scale := int64(-fracDigits)
	// Trailing zeros of the mantissa move into the scale.
	for len(digits) > 0 && digits[len(digits)-1] == '0' {
		digits = digits[:len(digits)-1]
		scale++
	}
	// Suffix.
	suffix := s[i:]
	format := DecimalSI
	var binShift uint
	switch {
	case suffix == "":
	case binarySuffixes[suffix] != 0:
		format = BinarySI
		binShift = binarySuffixes[suffix]
	case (suffix[0] == 'e' || suffix[0] == 'E') && len(suffix) > 1:
		exp, err := strconv.ParseInt(suffix[1:], 10, 32)
		if err != nil {
			return bad(i+1, "malformed exponent")
		}
		if exp > maxScale || exp < -maxScale {
			return Quantity{}, fmt.Errorf("%w: %q: exponent %d beyond ±%d", ErrRange, s, exp, maxScale)
		}
		format = DecimalExponent
		scale += exp
	default:
		e, ok := decimalSuffixes[suffix]
		if !ok {
			return bad(i, fmt.Sprintf("unknown suffix %q", suffix))
		}
		scale += int64(e)
	}
	if len(digits) == 0 {
		return Quantity{format: format}, nil
	}
	v, err := strconv.ParseInt(string(digits), 10, 64)
	if err != nil {
		return Quantity{}, fmt.Errorf("%w: %q has %d significant digits, more than an int64 holds", ErrRange, s, len(digits))
	}
	if neg {
		v = -v
	}
	if binShift > 0 {
		if limit := int64(1) << (63 - binShift); v < limit && v > -limit {
			// Fits: no big arithmetic needed (the common "512Mi" case).
			v <<= binShift
			if scale < minScale {
				q, err := roundToMinScale(big.NewInt(v), int32(scale))
				q.format = format
				return q, err
			}
			return normalize(v, int32(scale), format), nil
		}
		b := new(big.Int).Lsh(big.NewInt(v), binShift)
		q, err := fromBig(b, scale, format)
		if err != nil {
			return Quantity{}, fmt.Errorf("%w: %q", err, s)
		}
		return q, nil
	}
	if scale < minScale {
		q, err := roundToMinScale(big.NewInt(v), int32(scale))
		q.format = format
		return q, err
	}
	return normalize(v, int32(scale), format), nil
}

// fromBig builds a quantity from b × 10^scale, rounding below 1n up.
func fromBig(b *big.Int, scale int64, f Format) (Quantity, error) {
	if scale < minScale {
		q, err := roundToMinScale(b, int32(scale))
		q.format = f
		return q, err
	}
	// Strip trailing decimal zeros until the value fits.
	ten := big.NewInt(10)
	var r big.Int
	for !b.IsInt64() {
		var d big.Int
		d.QuoRem(b, ten, &r)
		if r.Sign() != 0 {
			return Quantity{}, fmt.Errorf("%w: more significant digits than an int64 holds (the largest exact amount is about 9.2e18 units)", ErrRange)
		}
		b = &d
		scale++
	}
	if scale > maxScale {
		return Quantity{}, fmt.Errorf("%w: exponent beyond %d", ErrRange, maxScale)
	}
	return normalize(b.Int64(), int32(scale), f), nil
}

// roundToMinScale rounds b × 10^scale (scale < -9) away from zero to nanos.
func roundToMinScale(b *big.Int, scale int32) (Quantity, error) {
	div := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(minScale-scale)), nil)
	var q, r big.Int
	q.QuoRem(b, div, &r)
	if r.Sign() > 0 {
		q.Add(&q, big.NewInt(1))
	} else if r.Sign() < 0 {
		q.Sub(&q, big.NewInt(1))
	}
	if !q.IsInt64() {
		return Quantity{}, fmt.Errorf("%w: more significant digits than an int64 holds (the largest exact amount is about 9.2e18 units)", ErrRange)
	}
	return normalize(q.Int64(), minScale, DecimalSI), nil
}

// normalize strips trailing decimal zeros of v into the scale.
func normalize(v int64, scale int32, f Format) Quantity {
	if v == 0 {
		return Quantity{format: f}
	}
	for v%10 == 0 && scale < maxScale {
		v /= 10
		scale++
	}
	return Quantity{value: v, scale: scale, format: f}
}

// Format returns the format the quantity prints in.
func (q Quantity) Format() Format { return q.format }

// IsZero reports whether the quantity is 0 (so `omitzero` omits it).
func (q Quantity) IsZero() bool { return q.value == 0 }

// Sign returns -1, 0 or 1.
func (q Quantity) Sign() int {
	switch {
	case q.value < 0:
		return -1
	case q.value > 0:
		return 1
	}
	return 0
}

// big returns value × 10^(scale-at) as an exact big.Int; at must be ≤ scale.
func (q Quantity) bigAt(at int32) *big.Int {
	b := big.NewInt(q.value)
	if q.scale > at {
		b.Mul(b, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(q.scale-at)), nil))
	}
	return b
}

// pow10 returns 10^n for 0 ≤ n ≤ 18.
func pow10(n int32) int64 {
	p := int64(1)
	for ; n > 0; n-- {
		p *= 10
	}
	return p
}

// scaleTo returns value × 10^(scale-at) if it fits an int64.
func (q Quantity) scaleTo(at int32) (int64, bool) {
	d := q.scale - at
	if d < 0 || d > maxDigits {
		return 0, q.value == 0
	}
	p := pow10(d)
	if q.value > math.MaxInt64/p || q.value < math.MinInt64/p {
		return 0, false
	}
	return q.value * p, true
}

// Cmp returns -1, 0 or 1 as q is less than, equal to or greater than y.
func (q Quantity) Cmp(y Quantity) int {
	at := min(q.scale, y.scale)
	a, okA := q.scaleTo(at)
	b, okB := y.scaleTo(at)
	if okA && okB {
		switch {
		case a < b:
			return -1
		case a > b:
			return 1
		}
		return 0
	}
	return q.bigAt(at).Cmp(y.bigAt(at))
}

// CmpInt64 compares q with the integer y.
func (q Quantity) CmpInt64(y int64) int { return q.Cmp(NewQuantity(y, DecimalSI)) }

// Equal reports whether q and y are the same amount, whatever their formats.
func (q Quantity) Equal(y Quantity) bool { return q.Cmp(y) == 0 }

// Add sets q to q + y. The result is exact; if it cannot be held in an int64
// mantissa, the least significant digits are rounded up (away from zero) and
// the error-free result is as close as 18 significant digits allow.
func (q *Quantity) Add(y Quantity) { q.add(y, false) }

// Sub sets q to q - y, with the same exactness as Add.
func (q *Quantity) Sub(y Quantity) { q.add(y, true) }

func (q *Quantity) add(y Quantity, negate bool) {
	if q.value == 0 {
		q.format = y.format
	}
	yv := y.value
	if negate {
		if yv == math.MinInt64 {
			q.addBig(y, true)
			return
		}
		yv = -yv
	}
	at := min(q.scale, y.scale)
	a, okA := q.scaleTo(at)
	b, okB := Quantity{value: yv, scale: y.scale}.scaleTo(at)
	if okA && okB {
		s := a + b
		// Overflow iff the operands share a sign and the sum's differs.
		if (a >= 0) == (b >= 0) && (s >= 0) != (a >= 0) {
			q.addBig(y, negate)
			return
		}
		*q = normalize(s, at, q.format)
		return
	}
	q.addBig(y, negate)
}

func (q *Quantity) addBig(y Quantity, negate bool) {
	at := min(q.scale, y.scale)
	a, b := q.bigAt(at), y.bigAt(at)
	if negate {
		b.Neg(b)
	}
	a.Add(a, b)
	*q = fromBigRounded(a, at, q.format)
}

// fromBigRounded keeps the 18 most significant digits of b × 10^scale,
// rounding away from zero.
func fromBigRounded(b *big.Int, scale int32, f Format) Quantity {
	ten := big.NewInt(10)
	limit := big.NewInt(1e18) // keep room for the round-up increment
	var quo, rem big.Int
	inexact := false
	for new(big.Int).Abs(b).Cmp(limit) >= 0 {
		quo.QuoRem(b, ten, &rem)
		if rem.Sign() != 0 {
			inexact = true
		}
		b = new(big.Int).Set(&quo)
		scale++
	}
	v := b.Int64()
	if inexact {
		if v >= 0 {
			v++
		} else {
			v--
		}
	}
	if scale > maxScale {
		scale = maxScale
	}
	return normalize(v, scale, f)
}

// Neg sets q to -q.
func (q *Quantity) Neg() {
	if q.value == math.MinInt64 {
		*q = fromBigRounded(new(big.Int).Neg(big.NewInt(q.value)), q.scale, q.format)
		return
	}
	q.value = -q.value
}

// Value returns q rounded up to an integer, saturating at the int64 limits.
func (q Quantity) Value() int64 { return q.ScaledValue(0) }

// MilliValue returns q in thousandths, rounded up, saturating at the int64 limits.
func (q Quantity) MilliValue() int64 { return q.ScaledValue(Milli) }

// ScaledValue returns ceil(q / 10^scale), saturating at the int64 limits:
// ScaledValue(Milli) is MilliValue, ScaledValue(Giga) counts billions.
func (q Quantity) ScaledValue(scale Scale) int64 {
	at := int32(scale)
	if q.value == 0 {
		return 0
	}
	if q.scale >= at {
		if v, ok := q.scaleTo(at); ok {
			return v
		}
		if q.value > 0 {
			return math.MaxInt64
		}
		return math.MinInt64
	}
	// Divide by 10^(at-scale), rounding up (toward +∞).
	d := at - q.scale
	if d > maxDigits {
		if q.value > 0 {
			return 1
		}
		return 0
	}
	p := pow10(d)
	v := q.value / p
	if q.value%p > 0 {
		v++
	}
	return v
}

// AsInt64 returns q as an integer if it is one and fits.
func (q Quantity) AsInt64() (int64, bool) {
	if q.scale < 0 {
		return 0, q.value == 0
	}
	return q.scaleTo(0)
}

// AsApproximateFloat64 returns q as a float64, for display and scoring only.
func (q Quantity) AsApproximateFloat64() float64 {
	f, _ := strconv.ParseFloat(strconv.FormatInt(q.value, 10)+"e"+strconv.Itoa(int(q.scale)), 64)
	return f
}

// DeepCopy returns q; Quantity has no references.
func (q Quantity) DeepCopy() Quantity { return q }

var decimalSuffixByExp = map[int32]string{-9: "n", -6: "u", -3: "m", 0: "", 3: "k", 6: "M", 9: "G", 12: "T", 15: "P", 18: "E"}

var binarySuffixByShift = []string{"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"}

// String returns the canonical form: the format's largest suffix that keeps
// the mantissa an integer ("0.2" → "200m", "1000" → "1k", "1536Mi" stays,
// "1024Mi" → "1Gi"). BinarySI amounts below 1024 or with fractions print as
// DecimalSI, as Kubernetes prints them.
func (q Quantity) String() string {
	return string(q.AppendText(make([]byte, 0, 24)))
}

// AppendText appends the canonical form to b.
func (q Quantity) AppendText(b []byte) []byte {
	if q.value == 0 {
		return append(b, '0')
	}
	if q.format == BinarySI && q.scale >= 0 {
		if n, ok := q.scaleTo(0); ok && (n >= 1024 || n <= -1024) {
			shift := 0
			for shift < 6 && n%1024 == 0 {
				n /= 1024
				shift++
			}
			b = strconv.AppendInt(b, n, 10)
			return append(b, binarySuffixByShift[shift]...)
		} else if !ok {
			// Beyond int64 (≥ 8Ei): divide exactly in big arithmetic.
			n := q.bigAt(0)
			var quo, rem big.Int
			shift := 0
			for shift < 6 {
				quo.QuoRem(n, big.NewInt(1024), &rem)
				if rem.Sign() != 0 {
					break
				}
				n = new(big.Int).Set(&quo)
				shift++
			}
			b = n.Append(b, 10)
			return append(b, binarySuffixByShift[shift]...)
		}
	}
	// Decimal: exponent is the scale rounded down to a multiple of 3,
	// clamped to the suffixes there are.
	e := q.scale - ((q.scale%3)+3)%3
	if q.format != DecimalExponent {
		e = max(min(e, 18), -9)
	}
	b = strconv.AppendInt(b, q.value, 10)
	for range q.scale - e {
		b = append(b, '0')
	}
	if q.format == DecimalExponent {
		if e != 0 {
			b = append(b, 'e')
			b = strconv.AppendInt(b, int64(e), 10)
		}
		return b
	}
	return append(b, decimalSuffixByExp[e]...)
}

// MarshalJSON renders the canonical string, quoted.
func (q Quantity) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 26)
	b = append(b, '"')
	b = q.AppendText(b)
	return append(b, '"'), nil
}

// UnmarshalJSON accepts a string ("512Mi") or a number (0.5), or null for 0.
func (q *Quantity) UnmarshalJSON(data []byte) error {
	s := strings.TrimSpace(string(data))
	if s == "null" {
		*q = Quantity{}
		return nil
	}
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		unq, err := strconv.Unquote(s)
		if err != nil {
			return fmt.Errorf("%w: %s", ErrFormat, s)
		}
		s = strings.TrimSpace(unq)
	}
	p, err := ParseQuantity(s)
	if err != nil {
		return err
	}
	*q = p
	return nil
}

// MarshalText renders the canonical string (for map keys and flags).
func (q Quantity) MarshalText() ([]byte, error) { return q.AppendText(nil), nil }

// UnmarshalText parses a quantity.
func (q *Quantity) UnmarshalText(b []byte) error {
	p, err := ParseQuantity(string(b))
	if err != nil {
		return err
	}
	*q = p
	return nil
}
