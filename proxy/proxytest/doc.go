// Package proxytest is the behaviour suite every proxy.Datapath must pass and
// the helpers it runs on: backends on loopback addresses that answer with
// their own address, child cgroups, network namespaces joined by a veth pair
// on 198.18.0.0/15, and the CI rule (RequireRoot, Unavailable: skip on a
// laptop, fail under CI=true).
//
// # Usage
//
//	func TestSuite(t *testing.T) {
//		proxytest.Run(t, proxytest.Harness{
//			New: func(t *testing.T) (proxy.Datapath, func()) { ... },
//			VIPs: netip.MustParsePrefix("127.100.7.0/24"),
//			NoBackendErr: syscall.EPERM,
//		})
//	}
package proxytest
