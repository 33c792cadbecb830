// Package walpb holds the protobuf messages that store/memory writes to disk:
// write-ahead log records and snapshot records. walpb.pb.go is generated from
// walpb.proto; TestGeneratedCodeIsCurrent checks it.
package walpb

//go:generate protoc --go_out=. --go_opt=paths=source_relative walpb.proto
