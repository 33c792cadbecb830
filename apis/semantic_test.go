package apis

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

type semInner struct {
	Names []string
	Attrs map[string]string
	When  Time
	Ptr   *int
}

// semAmount has an Equal method, like resource.Quantity.
type semAmount struct{ milli int64 }

func (a semAmount) Equal(b semAmount) bool { return a.milli/1000 == b.milli/1000 }

type semOuter struct {
	Inner  semInner
	List   []semInner
	Amount semAmount
	Any    any
	hidden int
}

func TestSemanticEqual(t *testing.T) {
	one, two := 1, 1
	now := time.Now()
	base := func() semOuter {
		return semOuter{
			Inner:  semInner{Names: []string{"a"}, Attrs: map[string]string{"k": "v"}, When: NewTime(now), Ptr: &one},
			List:   []semInner{{}},
			Amount: semAmount{1000},
			Any:    "x",
			hidden: 3,
		}
	}
	tests := []struct {
		name   string
		mutate func(o *semOuter)
		equal  bool
	}{
		{"same", func(o *semOuter) {}, true},
		{"nil vs empty slice", func(o *semOuter) { o.List[0].Names = []string{} }, true},
		{"nil vs empty map", func(o *semOuter) { o.List[0].Attrs = map[string]string{} }, true},
		{"equal pointees", func(o *semOuter) { o.Inner.Ptr = &two }, true},
		{"same instant elsewhere", func(o *semOuter) { o.Inner.When = NewTime(now.UTC()) }, true},
		{"Equal method", func(o *semOuter) { o.Amount = semAmount{1999} }, true},
		{"Equal method differs", func(o *semOuter) { o.Amount = semAmount{2000} }, false},
		{"slice element", func(o *semOuter) { o.Inner.Names[0] = "b" }, false},
		{"map value", func(o *semOuter) { o.Inner.Attrs["k"] = "w" }, false},
		{"map key", func(o *semOuter) { o.Inner.Attrs = map[string]string{"j": "v"} }, false},
		{"nil pointer", func(o *semOuter) { o.Inner.Ptr = nil }, false},
		{"time", func(o *semOuter) { o.Inner.When = NewTime(now.Add(time.Second)) }, false},
		{"interface type", func(o *semOuter) { o.Any = 1 }, false},
		{"unexported", func(o *semOuter) { o.hidden = 4 }, false},
		{"length", func(o *semOuter) { o.List = nil }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := base(), base()
			tt.mutate(&b)
			assert.Equal(t, tt.equal, SemanticEqual(a, b))
			assert.Equal(t, tt.equal, SemanticEqual(&b, &a))
		})
	}
	assert.True(t, SemanticEqual(nil, nil))
	assert.False(t, SemanticEqual(nil, 1))
	assert.False(t, SemanticEqual(1, int64(1)))
}
