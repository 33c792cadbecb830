// Package policy holds the policy/v1 PodDisruptionBudget: how many pods
// matching a selector may be down at once through voluntary disruptions
// (evictions, preemption). The scheduler's DefaultPreemption prefers
// victims that violate fewer budgets, using status.disruptionsAllowed.
//
// # Usage
//
//	s := apis.NewScheme()
//	if err := policy.AddToScheme(s); err != nil { ... }
//	min := apis.IntOrStringFromString("50%")
//	pdb := &policy.PodDisruptionBudget{Spec: policy.PodDisruptionBudgetSpec{
//		MinAvailable: &min,
//		Selector:     &apis.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
//	}}
package policy
