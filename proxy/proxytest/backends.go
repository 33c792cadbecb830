package proxytest

import (
	"bufio"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"
)

// Server is a backend: a TCP listener that answers every connection with its
// own address and a newline, and a UDP socket on the same address and port
// that answers every datagram with its own address. The address tells a client
// which backend it reached.
type Server struct {
	Addr netip.AddrPort
	tcp  net.Listener
	udp  *net.UDPConn
	wg   sync.WaitGroup
}

// Serve starts a server on ip with a port the kernel picks (free for both TCP
// and UDP), stopped when the test ends.
func Serve(t testing.TB, ip netip.Addr) *Server {
	t.Helper()
	var s *Server
	for range 20 {
		l, err := net.Listen("tcp", netip.AddrPortFrom(ip, 0).String())
		if err != nil {
			t.Fatalf("listen on %s: %v", ip, err)
		}
		ap := netip.MustParseAddrPort(l.Addr().String())
		u, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(ap))
		if err != nil {
			l.Close()
			continue
		}
		s = &Server{Addr: ap, tcp: l, udp: u}
		break
	}
	if s == nil {
		t.Fatalf("no port free for TCP and UDP on %s", ip)
	}
	s.wg.Add(2)
	go s.serveTCP()
	go s.serveUDP()
	t.Cleanup(s.Close)
	return s
}

func (s *Server) serveTCP() {
	defer s.wg.Done()
	reply := []byte(s.Addr.String() + "\n")
	for {
		c, err := s.tcp.Accept()
		if err != nil {
			return
		}
		_, _ = c.Write(reply)
		_ = c.Close()
	}
}

func (s *Server) serveUDP() {
	defer s.wg.Done()
	reply := []byte(s.Addr.String())
	buf := make([]byte, 1500)
	for {
		_, from, err := s.udp.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		_, _ = s.udp.WriteToUDPAddrPort(reply, from)
	}
}

// Close stops the server and waits for its goroutines.
func (s *Server) Close() {
	_ = s.tcp.Close()
	_ = s.udp.Close()
	s.wg.Wait()
}

// AskTCP connects to addr and returns the backend that answered and the
// remote address the socket reports (getpeername).
func AskTCP(addr netip.AddrPort) (backend, peer netip.AddrPort, err error) {
	return askTCP(net.Dialer{Timeout: 5 * time.Second}, addr)
}

func askTCP(d net.Dialer, addr netip.AddrPort) (backend, peer netip.AddrPort, err error) {
	c, err := d.Dial("tcp", addr.String())
	if err != nil {
		return backend, peer, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	peer = netip.MustParseAddrPort(c.RemoteAddr().String())
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return backend, peer, err
	}
	backend, err = netip.ParseAddrPort(line[:len(line)-1])
	return backend, peer, err
}

// AskUDP sends one datagram to addr from an unconnected socket (sendmsg and
// recvmsg) and returns the backend that answered and the source of the reply.
func AskUDP(addr netip.AddrPort) (backend, from netip.AddrPort, err error) {
	local := "127.0.0.1:0"
	if addr.Addr().Is6() {
		local = "[::1]:0"
	}
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(local)))
	if err != nil {
		return backend, from, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := c.WriteToUDPAddrPort([]byte("?"), addr); err != nil {
		return backend, from, err
	}
	buf := make([]byte, 100)
	n, from, err := c.ReadFromUDPAddrPort(buf)
	if err != nil {
		return backend, from, err
	}
	backend, err = netip.ParseAddrPort(string(buf[:n]))
	return backend, from, err
}

// AskConnectedUDP is AskUDP through a connected socket (connect, then the
// reply read with recvmsg).
func AskConnectedUDP(addr netip.AddrPort) (backend, peer, from netip.AddrPort, err error) {
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(addr))
	if err != nil {
		return backend, peer, from, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	peer = netip.MustParseAddrPort(c.RemoteAddr().String())
	if _, err := c.Write([]byte("?")); err != nil {
		return backend, peer, from, err
	}
	buf := make([]byte, 100)
	n, from, err := c.ReadFromUDPAddrPort(buf)
	if err != nil {
		return backend, peer, from, err
	}
	backend, err = netip.ParseAddrPort(string(buf[:n]))
	return backend, peer, from, err
}
