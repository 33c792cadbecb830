// Package etcdtest runs a real etcd (go.etcd.io/etcd/server/v3/embed) inside a
// test or benchmark process: one member, its client endpoint a unix socket in
// a fresh temporary directory, its data beside it, removed when done.
//
// The server keeps etcd's default durability (fsync of the write-ahead log on
// every commit) unless Options.NoFsync says otherwise, so benchmarks compare
// with etcd as it runs in production. Only the election timing is shortened,
// so that the member leads within milliseconds.
//
// # Usage
//
//	func TestSomething(t *testing.T) {
//		srv := etcdtest.Start(t, etcdtest.Options{}) // closed by t.Cleanup
//		kv, err := etcd.New(srv.Client, etcd.Options{Prefix: "/test/"})
//		...
//	}
//
// StartServer and Server.Close do the same outside a testing.TB, e.g. in
// TestMain to share one server between tests.
package etcdtest
