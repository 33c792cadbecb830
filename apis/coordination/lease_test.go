package coordination

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/apis"
)

func ptr[T any](v T) *T { return &v }

func TestLease(t *testing.T) {
	renew := apis.MicroTime{Time: time.Date(2026, 11, 21, 21, 0, 0, 123456000, time.UTC)}
	l := &Lease{
		ObjectMeta: apis.ObjectMeta{Name: "node-1", Namespace: "kube-node-lease"},
		Spec:       LeaseSpec{HolderIdentity: ptr("node-1"), LeaseDurationSeconds: ptr(int32(40)), RenewTime: &renew, LeaseTransitions: ptr(int32(0))},
	}
	assert.Empty(t, ValidateLease(l))
	b, err := json.Marshal(l.Spec)
	require.NoError(t, err)
	assert.JSONEq(t, `{"holderIdentity":"node-1","leaseDurationSeconds":40,"renewTime":"2026-11-21T21:00:00.123456Z","leaseTransitions":0}`, string(b))

	l.Spec.LeaseDurationSeconds = ptr(int32(0))
	errs := ValidateLease(l)
	require.Len(t, errs, 1)
	assert.Equal(t, "spec.leaseDurationSeconds", errs[0].Field)
	l.Spec.LeaseDurationSeconds = ptr(int32(15))
	l.Spec.LeaseTransitions = ptr(int32(-1))
	errs = ValidateLease(l)
	require.Len(t, errs, 1)
	assert.Equal(t, "spec.leaseTransitions", errs[0].Field)

	l.Spec.LeaseTransitions = nil
	l.Spec.Strategy = ptr("Newest")
	errs = ValidateLease(l)
	require.Len(t, errs, 1)
	assert.Equal(t, "spec.strategy", errs[0].Field)

	s := apis.NewScheme()
	require.NoError(t, AddToScheme(s))
	k, err := s.ByResource("leases.coordination.k8s.io")
	require.NoError(t, err)
	assert.Equal(t, "node-1", k.Fields(&Lease{Spec: LeaseSpec{HolderIdentity: ptr("node-1")}})["spec.holderIdentity"])
}
