package labels_test

import (
	"fmt"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/labels"
)

func ExampleParse() {
	sel, err := labels.Parse("tier in (frontend, edge), app=web, !canary")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(sel.String())
	fmt.Println(sel.Matches(labels.Set{"app": "web", "tier": "edge"}))
	fmt.Println(sel.Matches(labels.Set{"app": "web", "tier": "edge", "canary": "true"}))

	_, err = labels.Parse("app in (web")
	fmt.Println(err)
	// Output:
	// app=web,!canary,tier in (edge,frontend)
	// true
	// false
	// labels: invalid selector: "app in (web": at byte 11: expected ',' or ')' in the value list of "in", found end of input
}

func ExampleFromLabelSelector() {
	sel, err := labels.FromLabelSelector(&apis.LabelSelector{
		MatchLabels: map[string]string{"app": "web"},
		MatchExpressions: []apis.LabelSelectorRequirement{
			{Key: "env", Operator: apis.LabelSelectorOpNotIn, Values: []string{"dev"}},
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(sel)
	v, ok := labels.RequiresExactMatch(sel, "app")
	fmt.Println(v, ok)
	// Output:
	// app=web,env notin (dev)
	// web true
}
