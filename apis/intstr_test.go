package apis

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIntOrStringJSON(t *testing.T) {
	tests := []struct {
		in   string
		want IntOrString
	}{
		{`8`, IntOrStringFromInt(8)},
		{`"25%"`, IntOrStringFromString("25%")},
		{`"http"`, IntOrStringFromString("http")},
		{`"8"`, IntOrStringFromString("8")},
		{`-3`, IntOrStringFromInt(-3)},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var v IntOrString
			require.NoError(t, json.Unmarshal([]byte(tt.in), &v))
			assert.Equal(t, tt.want, v)
			b, err := json.Marshal(v)
			require.NoError(t, err)
			assert.Equal(t, tt.in, string(b))
		})
	}
	var v IntOrString
	for _, bad := range []string{`1.5`, `true`, `{}`, `4294967296`, `"unterminated`} {
		assert.ErrorIs(t, v.UnmarshalJSON([]byte(bad)), ErrIntOrString, bad)
	}
	require.NoError(t, v.UnmarshalJSON([]byte("null")))
	assert.True(t, v.IsZero())
}

func TestIntOrStringHelpers(t *testing.T) {
	assert.Equal(t, IntOrStringFromInt(8080), ParseIntOrString("8080"))
	assert.Equal(t, IntOrStringFromString("http"), ParseIntOrString("http"))
	assert.Equal(t, "25%", IntOrStringFromString("25%").String())
	assert.Equal(t, "8", IntOrStringFromInt(8).String())
	assert.Equal(t, 8, IntOrStringFromInt(8).IntValue())
	assert.Equal(t, 12, IntOrStringFromString("12").IntValue())
	assert.Equal(t, TypeString, IntOrStringFromInt(1<<40).Type, "out-of-range int kept as text")
	assert.True(t, IntOrStringFromString("25%").IsPercent())
	assert.False(t, IntOrStringFromString("x%").IsPercent())
	assert.False(t, IntOrStringFromInt(25).IsPercent())
}

func TestIntOrStringScaledValue(t *testing.T) {
	tests := []struct {
		v       IntOrString
		total   int
		roundUp bool
		want    int
	}{
		{IntOrStringFromString("25%"), 10, true, 3},
		{IntOrStringFromString("25%"), 10, false, 2},
		{IntOrStringFromString("25%"), 4, true, 1},
		{IntOrStringFromString("25%"), 1, false, 0},
		{IntOrStringFromString("25%"), 1, true, 1},
		{IntOrStringFromString("100%"), 7, false, 7},
		{IntOrStringFromString("0%"), 7, true, 0},
		{IntOrStringFromInt(3), 100, true, 3},
	}
	for _, tt := range tests {
		got, err := tt.v.ScaledValue(tt.total, tt.roundUp)
		require.NoError(t, err)
		assert.Equal(t, tt.want, got, "%s of %d up=%v", tt.v, tt.total, tt.roundUp)
	}
	for _, bad := range []string{"25", "abc", "%", "-5%", "1.5%"} {
		_, err := IntOrStringFromString(bad).ScaledValue(10, true)
		assert.ErrorIs(t, err, ErrIntOrString, bad)
	}
	got, err := ScaledValueOrDefault(nil, IntOrStringFromString("25%"), 8, true)
	require.NoError(t, err)
	assert.Equal(t, 2, got)
}

func FuzzIntOrStringJSON(f *testing.F) {
	for _, s := range []string{`8`, `"25%"`, `null`, `-1`, `"x"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var v IntOrString
		if err := json.Unmarshal(b, &v); err != nil {
			return
		}
		out, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var back IntOrString
		if err := json.Unmarshal(out, &back); err != nil || back != v {
			t.Fatalf("%s → %s → %+v (%v)", b, out, back, err)
		}
	})
}
