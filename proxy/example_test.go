package proxy_test

import (
	"fmt"
	"net/netip"

	"github.com/gantry-sdk/gantry/proxy"
)

// A Table diffed against the desired services gives the changes a datapath
// applies: a resync touches only what differs.
func ExampleTable_Diff() {
	vip := func(s string) proxy.Frontend {
		return proxy.Frontend{Addr: netip.MustParseAddr(s), Port: 80, Protocol: proxy.TCP}
	}
	ready := func(s string) proxy.Backend {
		return proxy.Backend{Addr: netip.MustParseAddrPort(s), Ready: true, Serving: true}
	}
	programmed := proxy.NewTable()
	for _, s := range []proxy.Service{
		{Frontend: vip("10.96.0.1"), Backends: []proxy.Backend{ready("10.0.0.1:8080")}},
		{Frontend: vip("10.96.0.2"), Backends: []proxy.Backend{ready("10.0.0.2:8080")}},
	} {
		programmed.Apply(proxy.ServiceChange{Service: s})
	}
	changes, err := programmed.Diff([]proxy.Service{
		{Frontend: vip("10.96.0.1"), Backends: []proxy.Backend{ready("10.0.0.1:8080")}},                         // unchanged
		{Frontend: vip("10.96.0.3"), Backends: []proxy.Backend{ready("10.0.0.3:8080"), ready("10.0.0.4:8080")}}, // new
	})
	if err != nil {
		panic(err)
	}
	for _, c := range changes {
		fmt.Println(c)
	}
	// Output:
	// Delete TCP/10.96.0.2:80
	// Upsert TCP/10.96.0.3:80
}
