package store

import (
	"errors"
	"fmt"

	"github.com/gantry-sdk/gantry/apis/field"
)

// Sentinel errors. Test with errors.Is; every error returned by a KV or a Store
// that has one of these causes wraps it with context.
var (
	// ErrNotFound: the key or object does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict: a compare or a resourceVersion precondition did not hold;
	// read again and retry.
	ErrConflict = errors.New("store: conflict")
	// ErrFenced: the write carried a Fence (WriteOptions.Fence,
	// DeleteOptions.Fence) whose object has changed since: it was made on
	// behalf of a leader that has been deposed. Distinct from ErrConflict on
	// purpose: reading again and retrying cannot help; stop.
	ErrFenced = errors.New("store: fenced")
	// ErrAlreadyExists: a create found the object already there.
	ErrAlreadyExists = errors.New("store: already exists")
	// ErrCompacted: the revision asked for is older than the oldest kept; relist.
	ErrCompacted = errors.New("store: revision compacted")
	// ErrFutureRevision: the revision asked for has not happened yet.
	ErrFutureRevision = errors.New("store: revision not yet reached")
	// ErrInvalid: the object failed validation; FieldErrors lists why.
	ErrInvalid = errors.New("store: invalid object")
	// ErrTooLarge: the encoded object exceeds the size limit.
	ErrTooLarge = errors.New("store: object too large")
	// ErrClosed: the store or KV was closed.
	ErrClosed = errors.New("store: closed")
)

// InvalidError is an ErrInvalid with the field errors that caused it.
type InvalidError struct {
	Kind   string // "Deployment"
	Name   string
	Errors field.ErrorList
}

func (e *InvalidError) Error() string {
	return fmt.Sprintf("%s %q is invalid: %v", e.Kind, e.Name, e.Errors)
}

// Is makes errors.Is(err, ErrInvalid) hold.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

// Unwrap exposes the field errors to errors.As.
func (e *InvalidError) Unwrap() error { return e.Errors }

// FieldErrors returns the field errors carried by err, if it is an ErrInvalid.
func FieldErrors(err error) field.ErrorList {
	var ie *InvalidError
	if errors.As(err, &ie) {
		return ie.Errors
	}
	return nil
}
