package proxy

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/gantry-sdk/gantry/apis/field"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func fe(s string, port uint16) Frontend {
	return Frontend{Addr: netip.MustParseAddr(s), Port: port, Protocol: TCP}
}

func be(s string, ready bool) Backend {
	return Backend{Addr: netip.MustParseAddrPort(s), Ready: ready, Serving: ready}
}

func TestValidate(t *testing.T) {
	ok := Service{Frontend: fe("127.100.0.1", 80), Backends: []Backend{be("127.0.0.2:8080", true)}}
	tests := []struct {
		name   string
		mutate func(*Service)
		field  string // "" = valid
	}{
		{"valid", func(*Service) {}, ""},
		{"no address", func(s *Service) { s.Frontend.Addr = netip.Addr{} }, "frontend.addr"},
		{"mapped address", func(s *Service) { s.Frontend.Addr = netip.MustParseAddr("::ffff:127.100.0.1") }, "frontend.addr"},
		{"unspecified", func(s *Service) { s.Frontend.Addr = netip.MustParseAddr("0.0.0.0") }, "frontend.addr"},
		{"port 0", func(s *Service) { s.Frontend.Port = 0 }, "frontend.port"},
		{"protocol", func(s *Service) { s.Frontend.Protocol = 132 }, "frontend.protocol"},
		{"node port out of range", func(s *Service) { s.Frontend.Kind = NodePort }, "frontend.port"},
		{"node port", func(s *Service) { s.Frontend.Kind = NodePort; s.Frontend.Port = 30080 }, ""},
		{"kind", func(s *Service) { s.Frontend.Kind = 9 }, "frontend.kind"},
		{"backend family", func(s *Service) { s.Backends = []Backend{be("[::1]:80", true)} }, "backends[0].addr"},
		{"backend port", func(s *Service) { s.Backends = []Backend{be("127.0.0.2:0", true)} }, "backends[0].port"},
		{"backend duplicate", func(s *Service) { s.Backends = append(s.Backends, be("127.0.0.2:8080", false)) }, "backends[1].addr"},
		{"weight", func(s *Service) { s.Backends[0].Weight = MaxWeight + 1 }, "backends[0].weight"},
		{"timeout", func(s *Service) { s.Affinity = Affinity{ClientIP: true, Timeout: 25 * time.Hour} }, "affinity.timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := ok
			s.Backends = append([]Backend(nil), ok.Backends...)
			tt.mutate(&s)
			err := Validate(s)
			if tt.field == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrInvalid)
			list := field.AsList(err)
			require.NotEmpty(t, list, "%v", err)
			assert.Equal(t, tt.field, list[0].Field, "%v", err)
		})
	}
}

func TestSelectedAndSlots(t *testing.T) {
	term := Backend{Addr: netip.MustParseAddrPort("127.0.0.4:80"), Serving: true, Terminating: true}
	s := Service{Backends: []Backend{be("127.0.0.2:80", true), be("127.0.0.3:80", false), term}}
	assert.Equal(t, []netip.AddrPort{netip.MustParseAddrPort("127.0.0.2:80")}, s.Slots(), "only ready backends")

	s.Backends = []Backend{be("127.0.0.3:80", false), term}
	assert.Equal(t, []netip.AddrPort{term.Addr}, s.Slots(), "serving terminating when none is ready")

	s.Backends = []Backend{be("127.0.0.3:80", false)}
	assert.Empty(t, s.Slots())

	w := be("127.0.0.2:80", true)
	w.Weight = 3
	s.Backends = []Backend{w, be("127.0.0.3:80", true)}
	assert.Len(t, s.Slots(), 4)
}

func TestTableApplyAndDiff(t *testing.T) {
	tb := NewTable()
	a := Service{Frontend: fe("127.100.0.1", 80), Backends: []Backend{be("127.0.0.2:80", true)}}
	b := Service{Frontend: fe("127.100.0.2", 80)}
	assert.EqualValues(t, 1, tb.Apply(ServiceChange{Service: a}))
	assert.EqualValues(t, 0, tb.Apply(ServiceChange{Service: a}), "equal upsert is a no-op")
	assert.EqualValues(t, 2, tb.Apply(ServiceChange{Service: b}))
	assert.EqualValues(t, 0, tb.Apply(ServiceChange{Op: Delete, Service: Service{Frontend: fe("127.100.0.9", 80)}}))
	e, ok := tb.Get(a.Frontend)
	require.True(t, ok)
	assert.EqualValues(t, 1, e.Rev)

	a2 := a
	a2.Backends = []Backend{be("127.0.0.3:80", true)}
	c := Service{Frontend: fe("127.100.0.3", 80)}
	changes, err := tb.Diff([]Service{a2, c})
	require.NoError(t, err)
	assert.Equal(t, []ServiceChange{{Op: Delete, Service: b}, {Service: a2}, {Service: c}}, changes)
	for _, ch := range changes {
		tb.Apply(ch)
	}
	again, err := tb.Diff([]Service{a2, c})
	require.NoError(t, err)
	assert.Empty(t, again, "a table diffed against itself is empty")
	assert.Equal(t, 2, tb.Len())
	assert.EqualValues(t, 5, tb.Rev())

	_, err = tb.Diff([]Service{c, c})
	assert.True(t, errors.Is(err, ErrInvalid), "%v", err)
}
