package cri

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/gantry-sdk/gantry/kubelet"
)

func TestWrapMapsStatusCodes(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want error
	}{
		{status.Error(codes.NotFound, "container \"x\": not found"), kubelet.ErrNotFound},
		{status.Error(codes.Unknown, "an error occurred when try to find sandbox: not found"), kubelet.ErrNotFound},
		{status.Error(codes.AlreadyExists, "name reserved"), kubelet.ErrAlreadyExists},
		{status.Error(codes.InvalidArgument, "bad"), kubelet.ErrInvalid},
		{status.Error(codes.Unavailable, "connection refused"), kubelet.ErrUnavailable},
		{status.Error(codes.DeadlineExceeded, "slow"), kubelet.ErrTimeout},
		{status.Error(codes.Canceled, "gone"), context.Canceled},
		{context.DeadlineExceeded, context.DeadlineExceeded},
	} {
		err := wrap("op", "id1", tc.err)
		assert.ErrorIs(t, err, tc.want, "%v", tc.err)
		assert.ErrorContains(t, err, "op id1")
	}
	assert.NoError(t, wrap("op", "", nil))
	other := wrap("op", "", status.Error(codes.Internal, "boom"))
	for _, s := range []error{kubelet.ErrNotFound, kubelet.ErrInvalid, kubelet.ErrTimeout} {
		assert.False(t, errors.Is(other, s))
	}
	assert.ErrorContains(t, other, "boom")
}
