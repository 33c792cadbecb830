package proxy

import (
	"net/netip"
	"testing"
	"time"
)

// servicesFrom decodes fuzz bytes into services: 4 bytes per service (address
// byte, port byte, flags, backend count), then backends of 2 bytes each.
func servicesFrom(data []byte) []Service {
	var out []Service
	for len(data) >= 4 {
		h := data[:4]
		data = data[4:]
		s := Service{Frontend: Frontend{
			Addr:     netip.AddrFrom4([4]byte{127, 100, 0, h[0]}),
			Port:     uint16(h[1]),
			Protocol: Protocol(h[2] & 0x1f),
			Kind:     Kind(h[2] >> 7),
		}}
		if h[2]&0x20 != 0 {
			s.Affinity = Affinity{ClientIP: true, Timeout: time.Duration(h[3]) * time.Hour}
		}
		for range h[3] & 7 {
			if len(data) < 2 {
				break
			}
			s.Backends = append(s.Backends, Backend{
				Addr:  netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, data[0]}), uint16(data[1])),
				Ready: data[0]&1 == 0, Serving: data[0]&2 == 0, Terminating: data[0]&4 != 0, Weight: data[1] & 0x1f,
			})
			data = data[2:]
		}
		out = append(out, s)
	}
	return out
}

// FuzzTableDiff: for any two service sets, Diff never panics, rejects invalid
// input with ErrInvalid, and applying its changes turns one table into the other.
func FuzzTableDiff(f *testing.F) {
	f.Add([]byte{1, 80, 6, 2, 2, 80, 3, 80}, []byte{1, 80, 6, 1, 2, 81})
	f.Add([]byte{1, 80, 0x26, 3, 2, 80, 3, 80, 4, 80}, []byte{})
	f.Fuzz(func(t *testing.T, a, b []byte) {
		tb := NewTable()
		from, to := servicesFrom(a), servicesFrom(b)
		changes, err := tb.Diff(from)
		if err != nil {
			return
		}
		for _, c := range changes {
			tb.Apply(c)
		}
		changes, err = tb.Diff(to)
		if err != nil {
			return
		}
		for _, c := range changes {
			if err := ValidateChange(c); err != nil {
				t.Fatalf("Diff produced an invalid change: %v", err)
			}
			tb.Apply(c)
		}
		if again, _ := tb.Diff(to); len(again) != 0 {
			t.Fatalf("table differs from its target after applying the diff: %v", again)
		}
		if tb.Len() != len(to) {
			t.Fatalf("table has %d services, want %d", tb.Len(), len(to))
		}
		for _, s := range to {
			_ = s.Slots()
		}
	})
}
