package reconcile

import (
	"errors"
)

// Sentinel errors.
var (
	// ErrTerminal marks an error that retrying cannot fix: the key is not
	// requeued. Wrap errors with Terminal.
	ErrTerminal = errors.New("reconcile: terminal error")
	// ErrPanic is the cause of the error a reconciler's recovered panic becomes.
	ErrPanic = errors.New("reconcile: reconciler panicked")
	// ErrAlreadyStarted: Run or Watch on a controller that is already running.
	ErrAlreadyStarted = errors.New("reconcile: controller already started")
)

// Terminal marks err as not worth retrying (invalid user input, say): the
// controller logs and counts it and does not requeue the key. A nil err stays nil.
func Terminal(err error) error {
	if err == nil {
		return nil
	}
	return &terminalError{err}
}

// IsTerminal reports whether err was marked with Terminal.
func IsTerminal(err error) bool { return errors.Is(err, ErrTerminal) }

type terminalError struct{ err error }

func (e *terminalError) Error() string        { return "terminal error: " + e.err.Error() }
func (e *terminalError) Unwrap() error        { return e.err }
func (e *terminalError) Is(target error) bool { return target == ErrTerminal }
