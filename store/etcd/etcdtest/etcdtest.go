package etcdtest

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// ErrStartTimeout: the embedded etcd did not become ready in time.
var ErrStartTimeout = errors.New("etcdtest: etcd not ready")

// Options tune a test etcd. The zero value gives etcd's own durability (an
// fsync of the write-ahead log per commit) with settings that start fast.
type Options struct {
	// NoFsync turns off fsync (etcd's --unsafe-no-fsync): faster, for tests
	// that do not measure or depend on durability.
	NoFsync bool
	// ProgressNotifyInterval is the period of watch progress notifications;
	// 0 means 100ms (etcd's default, 10 minutes, is too slow for tests).
	// etcd keeps it in a package variable: the last server started sets it
	// for every server in the process.
	ProgressNotifyInterval time.Duration
	// StartTimeout bounds the wait for the server to become ready; 0 means 30s.
	StartTimeout time.Duration
	// Logger receives etcd's logs; nil discards them.
	Logger *zap.Logger
}

// Server is a single-member etcd running in this process, its client
// endpoint a unix socket and its data in a temporary directory.
type Server struct {
	// Endpoint is the client URL, e.g. "unix:///tmp/etcd-123/client.sock".
	Endpoint string
	// Dir holds the data directory and the socket; Close removes it.
	Dir string
	// Client is a client of the server, closed by Close.
	Client *clientv3.Client
	// Etcd is the embedded server, for tests that need its internals.
	Etcd *embed.Etcd
}

// Start starts a Server for the test or benchmark tb and closes it, removing
// its directory, when tb ends. It fails tb if the server does not start.
func Start(tb testing.TB, opts Options) *Server {
	tb.Helper()
	s, err := StartServer(opts)
	if err != nil {
		tb.Fatalf("start embedded etcd: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("close embedded etcd: %v", err)
		}
	})
	return s
}

// StartServer starts a Server; the caller must Close it. Start is the
// shorter way from a test; this one serves TestMain and long-lived fixtures.
func StartServer(opts Options) (*Server, error) {
	// A short directory under os.TempDir: a unix socket path must fit in
	// 108 bytes, which t.TempDir's long names can exceed.
	dir, err := os.MkdirTemp("", "etcd-")
	if err != nil {
		return nil, fmt.Errorf("etcdtest: %w", err)
	}
	s, err := start(dir, opts)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

func start(dir string, opts Options) (*Server, error) {
	cfg := embed.NewConfig()
	cfg.Name = "etcdtest"
	cfg.Dir = filepath.Join(dir, "data")
	clientURL := url.URL{Scheme: "unix", Path: filepath.Join(dir, "client.sock")}
	cfg.ListenClientUrls = []url.URL{clientURL}
	cfg.AdvertiseClientUrls = []url.URL{clientURL}
	// A single member never dials its peers, so the peer listener only needs
	// some free port: the kernel picks one, and nothing uses the address.
	peerURL := url.URL{Scheme: "http", Host: "127.0.0.1:0"}
	cfg.ListenPeerUrls = []url.URL{peerURL}
	cfg.AdvertisePeerUrls = []url.URL{peerURL}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	// Fast election of the only member; no effect on durability.
	cfg.TickMs = 10
	cfg.ElectionMs = 50
	cfg.UnsafeNoFsync = opts.NoFsync
	cfg.WatchProgressNotifyInterval = opts.ProgressNotifyInterval
	if cfg.WatchProgressNotifyInterval == 0 {
		cfg.WatchProgressNotifyInterval = 100 * time.Millisecond
	}
	logger := opts.Logger
	if logger == nil {
		logger = zap.NewNop()
	}
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(logger)

	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, fmt.Errorf("etcdtest: start: %w", err)
	}
	timeout := opts.StartTimeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		return nil, fmt.Errorf("etcdtest: start: %w", err)
	case <-time.After(timeout):
		e.Close()
		return nil, fmt.Errorf("%w after %v", ErrStartTimeout, timeout)
	}
	endpoint := clientURL.String()
	client, err := clientv3.New(clientv3.Config{
		Endpoints:   []string{endpoint},
		DialTimeout: timeout,
		Logger:      logger,
	})
	if err != nil {
		e.Close()
		return nil, fmt.Errorf("etcdtest: client of %s: %w", endpoint, err)
	}
	return &Server{Endpoint: endpoint, Dir: dir, Client: client, Etcd: e}, nil
}

// NewClient returns another client of the server, which the caller closes:
// for tests that need their own connection (e.g. to close it).
func (s *Server) NewClient() (*clientv3.Client, error) {
	c, err := clientv3.New(clientv3.Config{Endpoints: []string{s.Endpoint}, Logger: zap.NewNop()})
	if err != nil {
		return nil, fmt.Errorf("etcdtest: client of %s: %w", s.Endpoint, err)
	}
	return c, nil
}

// Close closes the client, stops the server and removes its directory.
func (s *Server) Close() error {
	cerr := s.Client.Close()
	s.Etcd.Close()
	rerr := os.RemoveAll(s.Dir)
	if cerr != nil {
		return fmt.Errorf("etcdtest: close client: %w", cerr)
	}
	if rerr != nil {
		return fmt.Errorf("etcdtest: remove %s: %w", s.Dir, rerr)
	}
	return nil
}
