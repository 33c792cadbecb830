package fields_test

import (
	"fmt"

	"github.com/gantry-sdk/gantry/apis/fields"
)

func ExampleParse() {
	sel, err := fields.Parse("status.phase!=Succeeded,spec.nodeName==node-1")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(sel)
	fmt.Println(sel.Matches(fields.Set{"spec.nodeName": "node-1", "status.phase": "Running"}))
	node, ok := sel.RequiresExactMatch("spec.nodeName")
	fmt.Println(node, ok)

	_, err = fields.Parse("metadata.name=a=b")
	fmt.Println(err)
	// Output:
	// spec.nodeName=node-1,status.phase!=Succeeded
	// true
	// node-1 true
	// fields: invalid selector: "metadata.name=a=b": at byte 15: '=' in a value must be escaped as "\="
}

func ExampleAndSelectors() {
	sel := fields.AndSelectors(
		fields.OneTermEqual("metadata.namespace", "default"),
		fields.SelectorFromSet(fields.Set{"metadata.name": "a,b"}),
	)
	fmt.Println(sel)
	// Output: metadata.name=a\,b,metadata.namespace=default
}
