// Package builtin assembles a Scheme with every built-in Kubernetes group
// Gantry implements.
//
// # Usage
//
//	s, err := builtin.NewScheme()
//	if err != nil { ... }
//	k, err := s.ByResource("deploy") // apps/v1 Deployment
//	obj := k.New()
//
// Add user-defined kinds to the same Scheme with apis.Register.
package builtin

import (
	"fmt"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/apps"
	"github.com/gantry-sdk/gantry/apis/batch"
	"github.com/gantry-sdk/gantry/apis/coordination"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/apis/discovery"
	"github.com/gantry-sdk/gantry/apis/networking"
	"github.com/gantry-sdk/gantry/apis/policy"
	"github.com/gantry-sdk/gantry/apis/storage"
)

// AddToScheme registers every built-in group with s.
func AddToScheme(s *apis.Scheme) error {
	groups := []struct {
		name string
		add  func(*apis.Scheme) error
	}{
		{"core/v1", core.AddToScheme},
		{"apps/v1", apps.AddToScheme},
		{"batch/v1", batch.AddToScheme},
		{"networking.k8s.io/v1", networking.AddToScheme},
		{"coordination.k8s.io/v1", coordination.AddToScheme},
		{"discovery.k8s.io/v1", discovery.AddToScheme},
		{"storage.k8s.io/v1", storage.AddToScheme},
		{"policy/v1", policy.AddToScheme},
	}
	for _, g := range groups {
		if err := g.add(s); err != nil {
			return fmt.Errorf("builtin: register %s: %w", g.name, err)
		}
	}
	return nil
}

// NewScheme returns a new Scheme with every built-in kind registered.
func NewScheme() (*apis.Scheme, error) {
	s := apis.NewScheme()
	if err := AddToScheme(s); err != nil {
		return nil, err
	}
	return s, nil
}
