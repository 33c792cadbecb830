package apis_test

import (
	"encoding/json"
	"fmt"

	"github.com/gantry-sdk/gantry/apis"
)

func ExampleIntOrString_ScaledValue() {
	var bounds struct {
		MaxSurge       apis.IntOrString `json:"maxSurge"`
		MaxUnavailable apis.IntOrString `json:"maxUnavailable"`
	}
	if err := json.Unmarshal([]byte(`{"maxSurge":"25%","maxUnavailable":1}`), &bounds); err != nil {
		panic(err)
	}
	surge, _ := bounds.MaxSurge.ScaledValue(10, true)          // round up
	unavail, _ := bounds.MaxUnavailable.ScaledValue(10, false) // an integer is itself
	fmt.Println(surge, unavail)
	// Output: 3 1
}
