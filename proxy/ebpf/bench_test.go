package ebpf_test

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/gantry-sdk/gantry/proxy"
	"github.com/gantry-sdk/gantry/proxy/ebpf"
	"github.com/gantry-sdk/gantry/proxy/nftables"
	"github.com/gantry-sdk/gantry/proxy/proxytest"
)

// Benchmarks compare, in one run, a direct connect with the same connect
// through a VIP: the eBPF socket load balancer (this package), the nftables
// fallback (proxy/nftables) and flat iptables DNAT rules, the last two in a
// network namespace of their own. Each connect binds a fresh source address in
// 127.1.0.0/16 so that no conntrack entry of an earlier connect is reused.
//
//	go test -run '^$' -bench . -benchtime 20000x ./proxy/ebpf/ -args -proxy.rounds 5

// echoServer accepts on l; with request set it answers one byte per connection.
func echoServer(b *testing.B, l net.Listener) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_ = c.SetDeadline(time.Now().Add(time.Second))
			if n, _ := c.Read(buf); n == 1 {
				_, _ = c.Write(buf)
			}
			_ = c.Close()
		}
	}()
	b.Cleanup(func() { l.Close(); <-done })
}

func listen(b *testing.B, ip netip.Addr) netip.AddrPort {
	l, err := net.Listen("tcp", netip.AddrPortFrom(ip, 0).String())
	require.NoError(b, err)
	echoServer(b, l)
	return netip.MustParseAddrPort(l.Addr().String())
}

// measure connects b.N times to dst (optionally sending one byte and reading
// the answer) and reports the median and the 99th percentile.
func measure(b *testing.B, dst netip.AddrPort, request bool) {
	sa := &unix.SockaddrInet4{Port: int(dst.Port()), Addr: dst.Addr().As4()}
	times := make([]time.Duration, 0, b.N)
	one := []byte{1}
	b.ResetTimer()
	for i := range b.N {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			b.Fatal(err)
		}
		src := &unix.SockaddrInet4{Addr: [4]byte{127, 1, byte(i >> 8), byte(i)}}
		if err := unix.Bind(fd, src); err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		err = unix.Connect(fd, sa)
		if err == nil && request {
			if _, err = unix.Write(fd, one); err == nil {
				_, err = unix.Read(fd, one)
			}
		}
		times = append(times, time.Since(t0))
		_ = unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
		_ = unix.Close(fd)
		if err != nil {
			b.Fatalf("connect %d to %s: %v", i, dst, err)
		}
	}
	b.StopTimer()
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(times[len(times)*99/100].Nanoseconds()), "p99-ns")
}

// cpuTime is the CPU time used so far by this process and its waited-for
// children (nft, iptables): on a shared machine it shows the cost of an
// operation better than the wall clock, which includes waiting for a core.
func cpuTime() (total, kernel time.Duration) {
	var self, children unix.Rusage
	_ = unix.Getrusage(unix.RUSAGE_SELF, &self)
	_ = unix.Getrusage(unix.RUSAGE_CHILDREN, &children)
	tv := func(t unix.Timeval) time.Duration { return time.Duration(t.Nano()) }
	kernel = tv(self.Stime) + tv(children.Stime)
	return tv(self.Utime) + tv(children.Utime) + kernel, kernel
}

// cpuMeter accumulates CPU time (and its kernel part) over the timed parts
// of a benchmark.
type cpuMeter struct {
	total, kernel, start, startKernel time.Duration
}

func (m *cpuMeter) Start() { m.start, m.startKernel = cpuTime() }
func (m *cpuMeter) Stop() {
	t, k := cpuTime()
	m.total += t - m.start
	m.kernel += k - m.startKernel
}

func (m *cpuMeter) Report(b *testing.B) {
	b.ReportMetric(float64(m.total.Nanoseconds())/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(m.kernel.Nanoseconds())/float64(b.N), "sys-ns/op")
}

// services returns n TCP services 127.100.x.y:80 (then port 81, 82... past
// 65536), each with the given backends.
func services(n int, backends ...netip.AddrPort) []proxy.Service {
	out := make([]proxy.Service, n)
	for i := range out {
		a := netip.AddrFrom4([4]byte{127, 100, byte(i >> 8), byte(i)})
		bs := make([]proxy.Backend, len(backends))
		for j, be := range backends {
			bs[j] = proxy.Backend{Addr: be, Ready: true}
		}
		out[i] = proxy.Service{Frontend: proxy.Frontend{Addr: a, Port: uint16(80 + i>>16), Protocol: proxy.TCP}, Backends: bs}
	}
	return out
}

// variant is one way to reach the backend, set up once and measured in
// every round.
type variant struct {
	name string
	run  func(b *testing.B)
}

// ebpfVariants attach one datapath per service count, each to its own cgroup,
// and measure with this process moved into that cgroup.
func ebpfVariants(b *testing.B, request bool, backend netip.AddrPort, counts []int) []variant {
	proxytest.RequireRoot(b)
	if err := ebpf.Probe(); err != nil {
		proxytest.Unavailable(b, "%v", err)
	}
	root, err := ebpf.CgroupRoot()
	require.NoError(b, err)
	var out []variant
	for _, n := range counts {
		cg := proxytest.NewCgroup(b, root)
		d, err := ebpf.New(ebpf.Options{CgroupPath: cg.Path, MaxServices: 1 << 17, MaxBackends: 1 << 18})
		require.NoError(b, err)
		b.Cleanup(func() { d.Close() })
		svcs := services(n, backend)
		require.NoError(b, d.Sync(context.Background(), svcs))
		dst := svcs[n-1].Frontend.AddrPort()
		out = append(out, variant{"ebpf-" + count(n), func(b *testing.B) {
			cg.Enter(b)
			defer cg.Leave(b)
			measure(b, dst, request)
		}})
	}
	return out
}

func count(n int) string {
	if n >= 1000 {
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}

// peerNetns is a network namespace with a backend, for the netfilter peers.
type peerNetns struct {
	ns      *proxytest.Netns
	backend netip.AddrPort
}

func newPeerNetns(b *testing.B) *peerNetns {
	p := &peerNetns{ns: proxytest.NewNetns(b)}
	require.NoError(b, p.ns.Do(func() error {
		l, err := net.Listen("tcp", "127.0.0.2:0")
		if err != nil {
			return err
		}
		echoServer(b, l)
		p.backend = netip.MustParseAddrPort(l.Addr().String())
		return nil
	}))
	return p
}

func (p *peerNetns) variant(name string, dst netip.AddrPort, request bool) variant {
	return variant{name, func(b *testing.B) {
		require.NoError(b, p.ns.Do(func() error { measure(b, dst, request); return nil }))
	}}
}

// iptablesRestore loads flat DNAT rules for svcs into the namespace's nat table.
func (p *peerNetns) iptablesRestore(b *testing.B, svcs []proxy.Service, flush bool) time.Duration {
	var sb strings.Builder
	sb.WriteString("*nat\n")
	if flush {
		sb.WriteString(":OUTPUT ACCEPT [0:0]\n")
	}
	for _, s := range svcs {
		fmt.Fprintf(&sb, "-A OUTPUT -d %s/32 -p tcp --dport %d -j DNAT --to-destination %s\n",
			s.Frontend.Addr, s.Frontend.Port, s.Backends[0].Addr)
	}
	sb.WriteString("COMMIT\n")
	args := []string{"netns", "exec", p.ns.Name, "iptables-restore"}
	if !flush {
		args = append(args, "--noflush")
	}
	cmd := exec.Command("ip", args...)
	cmd.Stdin = strings.NewReader(sb.String())
	t0 := time.Now()
	out, err := cmd.CombinedOutput()
	require.NoError(b, err, "%s", out)
	return time.Since(t0)
}

// peerVariants set up the netfilter peers, each in a namespace of its own: the
// nftables fallback datapath and flat iptables DNAT rules (the last one is
// the one measured).
func peerVariants(b *testing.B, request bool) []variant {
	proxytest.RequireRoot(b)
	proxytest.RequireTool(b, "nft")
	proxytest.RequireTool(b, "iptables-restore")
	var out []variant
	for _, n := range []int{10, 10000} {
		p := newPeerNetns(b)
		svcs := services(n, p.backend)
		require.NoError(b, p.ns.Do(func() error {
			nft, err := nftables.New(context.Background(), nftables.Options{Table: "gantry-bench"})
			if err != nil {
				return err
			}
			b.Cleanup(func() { _ = p.ns.Do(nft.Close) })
			return nft.Sync(context.Background(), svcs)
		}))
		out = append(out, p.variant("nft-"+count(n), svcs[n-1].Frontend.AddrPort(), request))
	}
	for _, n := range []int{10, 10000} {
		p := newPeerNetns(b)
		svcs := services(n, p.backend)
		p.iptablesRestore(b, svcs, true)
		out = append(out, p.variant("iptables-"+count(n), svcs[n-1].Frontend.AddrPort(), request))
	}
	return out
}

// rounds is how many times every variant is measured, interleaved
// (A B C A B C ...), so that a noisy neighbour hits them alike.
var rounds = flag.Int("proxy.rounds", 1, "rounds of interleaved connect benchmarks")

func benchConnect(b *testing.B, request bool) {
	proxytest.RequireRoot(b)
	backend := listen(b, netip.MustParseAddr("127.0.0.2"))
	variants := []variant{{"direct", func(b *testing.B) { measure(b, backend, request) }}}
	variants = append(variants, ebpfVariants(b, request, backend, []int{10, 10000, 100000})...)
	if !testing.Short() {
		variants = append(variants, peerVariants(b, request)...)
	}
	for range *rounds {
		for _, v := range variants {
			b.Run(v.name, v.run)
		}
	}
}

// BenchmarkConnect: connect() through a VIP, p50 (goal: <= 1.1x direct, flat
// from 10 to 100k services).
func BenchmarkConnect(b *testing.B) { benchConnect(b, false) }

// BenchmarkConnectRequest: connect, send one byte, read the answer.
func BenchmarkConnectRequest(b *testing.B) { benchConnect(b, true) }

// BenchmarkChangeOneService: replace the backends of one service while 10k
// exist (goal <= 50 us).
func BenchmarkChangeOneService(b *testing.B) {
	proxytest.RequireRoot(b)
	a, c := netip.MustParseAddrPort("127.0.0.2:8080"), netip.MustParseAddrPort("127.0.0.3:8080")
	svcs := services(10000, a)
	change := func(i int) []proxy.ServiceChange {
		s := svcs[5000]
		be := a
		if i%2 == 0 {
			be = c
		}
		s.Backends = []proxy.Backend{{Addr: be, Ready: true}, {Addr: netip.MustParseAddrPort("127.0.0.4:8080"), Ready: true}}
		return []proxy.ServiceChange{{Service: s}}
	}
	b.Run("ebpf", func(b *testing.B) {
		d := newDatapath(b, ebpf.Options{})
		require.NoError(b, d.Sync(context.Background(), svcs))
		var cpu cpuMeter
		b.ResetTimer()
		cpu.Start()
		for i := range b.N {
			if err := d.Apply(context.Background(), change(i)); err != nil {
				b.Fatal(err)
			}
		}
		cpu.Stop()
		cpu.Report(b)
	})
	if testing.Short() {
		return
	}
	b.Run("nft", func(b *testing.B) {
		proxytest.RequireTool(b, "nft")
		p := proxytest.NewNetns(b)
		var d *nftables.Datapath
		require.NoError(b, p.Do(func() (err error) {
			if d, err = nftables.New(context.Background(), nftables.Options{Table: "gantry-bench"}); err == nil {
				err = d.Sync(context.Background(), svcs)
			}
			return err
		}))
		var cpu cpuMeter
		b.ResetTimer()
		cpu.Start()
		for i := range b.N {
			if err := p.Do(func() error { return d.Apply(context.Background(), change(i)) }); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		cpu.Stop()
		cpu.Report(b)
		require.NoError(b, p.Do(d.Close))
	})
	b.Run("iptables", func(b *testing.B) {
		proxytest.RequireTool(b, "iptables")
		p := &peerNetns{ns: proxytest.NewNetns(b)}
		p.iptablesRestore(b, svcs, true)
		var cpu cpuMeter
		b.ResetTimer()
		cpu.Start()
		for i := range b.N {
			s := change(i)[0].Service
			// Replace rule 5001 in place: what an incremental iptables user does.
			cmd := exec.Command("ip", "netns", "exec", p.ns.Name, "iptables", "-t", "nat", "-R", "OUTPUT", "5001",
				"-d", s.Frontend.Addr.String()+"/32", "-p", "tcp", "--dport", fmt.Sprint(s.Frontend.Port),
				"-j", "DNAT", "--to-destination", s.Backends[0].Addr.String())
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("%v: %s", err, out)
			}
		}
		cpu.Stop()
		cpu.Report(b)
	})
}

// BenchmarkProgram10k: program 10,000 services x 3 backends into an empty
// datapath (goal <= 50 ms).
func BenchmarkProgram10k(b *testing.B) {
	proxytest.RequireRoot(b)
	svcs := services(10000, netip.MustParseAddrPort("127.0.0.2:8080"),
		netip.MustParseAddrPort("127.0.0.3:8080"), netip.MustParseAddrPort("127.0.0.4:8080"))
	ctx := context.Background()
	b.Run("ebpf", func(b *testing.B) {
		d := newDatapath(b, ebpf.Options{})
		var cpu cpuMeter
		for range b.N {
			b.StopTimer()
			require.NoError(b, d.Sync(ctx, nil))
			b.StartTimer()
			cpu.Start()
			if err := d.Sync(ctx, svcs); err != nil {
				b.Fatal(err)
			}
			cpu.Stop()
		}
		cpu.Report(b)
	})
	if testing.Short() {
		return
	}
	b.Run("nft", func(b *testing.B) {
		proxytest.RequireTool(b, "nft")
		p := proxytest.NewNetns(b)
		var cpu cpuMeter
		for i := range b.N {
			require.NoError(b, p.Do(func() error {
				b.StopTimer()
				d, err := nftables.New(ctx, nftables.Options{Table: fmt.Sprintf("gantry-bench-%d", i)})
				if err != nil {
					return err
				}
				defer d.Close()
				b.StartTimer()
				cpu.Start()
				err = d.Sync(ctx, svcs)
				cpu.Stop()
				b.StopTimer()
				return err
			}))
		}
		cpu.Report(b)
	})
	b.Run("iptables", func(b *testing.B) {
		proxytest.RequireTool(b, "iptables-restore")
		p := &peerNetns{ns: proxytest.NewNetns(b)}
		var cpu cpuMeter
		b.ResetTimer()
		for range b.N {
			cpu.Start()
			p.iptablesRestore(b, svcs, true)
			cpu.Stop()
		}
		cpu.Report(b)
	})
}
