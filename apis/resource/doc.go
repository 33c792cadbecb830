// Package resource holds Quantity, the exact decimal amount Kubernetes uses
// for cpu, memory and storage: "512Mi", "1Gi", "0.2", "200m", "1e3", "1k".
//
// A Quantity is a pointer-free value (an int64 mantissa, a power-of-ten scale
// and the format it was written in), so arithmetic is exact: adding 0.1 ten
// times gives exactly 1, never 0.9999. Precision finer than 1n rounds up, as
// in Kubernetes. Quantities print in canonical form: "0.2" prints "200m",
// "1024Mi" prints "1Gi".
//
// # Usage
//
//	limit, err := resource.ParseQuantity("512Mi")
//	if err != nil { ... } // wraps resource.ErrFormat or resource.ErrRange
//	used := resource.MustParse("200Mi")
//	used.Add(resource.MustParse("100Mi"))
//	if used.Cmp(limit) > 0 { ... }
//	cpu := resource.MustParse("0.2")
//	cpu.MilliValue() // 200
//	cpu.String()     // "200m"
//
// Quantity marshals to JSON as its canonical string and reads either a string
// or a number.
package resource
