package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/gantry-sdk/gantry/apis"
)

// ErrDenied: an admission function refused a write. The error also wraps the
// admitter's own error, so errors.Is(err, ErrInvalid) holds when the admitter
// returned an *InvalidError.
var ErrDenied = errors.New("store: admission denied")

// Operation is the kind of write an admission function sees.
type Operation string

// The admitted operations, named as Kubernetes admission names them.
const (
	OperationCreate Operation = "CREATE"
	OperationUpdate Operation = "UPDATE"
	OperationDelete Operation = "DELETE"
)

// SubresourceStatus is AdmissionRequest.Subresource for UpdateStatus.
const SubresourceStatus = "status"

// AdmissionRequest describes one write to an admission function.
type AdmissionRequest struct {
	Operation Operation
	// Subresource is "" for the main resource and SubresourceStatus for UpdateStatus.
	Subresource string
	Kind        *apis.KindInfo
	Key         apis.Key
	// Object is the object about to be stored: a mutating admitter may change
	// it in place. Nil for deletes.
	Object apis.Object
	// OldObject is the stored object for updates and deletes, nil for creates.
	// It must not be modified.
	OldObject apis.Object
	DryRun    bool
}

// Admitter inspects, and if mutating may change, a write before it is stored.
// A non-nil error refuses the write.
type Admitter interface {
	Admit(ctx context.Context, req AdmissionRequest) error
}

// AdmitFunc adapts a plain function to an Admitter.
type AdmitFunc func(ctx context.Context, req AdmissionRequest) error

// Admit calls f.
func (f AdmitFunc) Admit(ctx context.Context, req AdmissionRequest) error { return f(ctx, req) }

// admit runs a chain in order and stops at the first refusal.
func admit(ctx context.Context, chain []Admitter, req AdmissionRequest) error {
	for _, a := range chain {
		if err := a.Admit(ctx, req); err != nil {
			sub := ""
			if req.Subresource != "" {
				sub = "/" + req.Subresource
			}
			return fmt.Errorf("%w: %s %s%s %q: %w", ErrDenied, req.Operation, req.Kind.GroupResource(), sub, req.Key, err)
		}
	}
	return nil
}
