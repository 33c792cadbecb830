package resource_test

import (
	"fmt"

	"github.com/gantry-sdk/gantry/apis/resource"
)

func ExampleParseQuantity() {
	for _, s := range []string{"512Mi", "1024Mi", "0.2", "1000", "1e3", "1.5Gi"} {
		q, err := resource.ParseQuantity(s)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%s -> %s (%d milli)\n", s, q, q.MilliValue())
	}
	_, err := resource.ParseQuantity("12Mb")
	fmt.Println(err)
	// Output:
	// 512Mi -> 512Mi (536870912000 milli)
	// 1024Mi -> 1Gi (1073741824000 milli)
	// 0.2 -> 200m (200 milli)
	// 1000 -> 1k (1000000 milli)
	// 1e3 -> 1e3 (1000000 milli)
	// 1.5Gi -> 1536Mi (1610612736000 milli)
	// resource: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$': "12Mb" at byte 2: unknown suffix "Mb"
}

func ExampleQuantity_Add() {
	total := resource.MustParse("0")
	for range 10 {
		total.Add(resource.MustParse("0.1"))
	}
	fmt.Println(total, total.Cmp(resource.MustParse("1")) == 0)
	// Output: 1 true
}
