#!/usr/bin/env bash
# protoc and protoc-gen-go, for the test that checks store/memory/walpb's
# generated code is current. protoc-gen-go's version follows go.mod.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH=$PATH:/usr/local/go/bin:$(go env GOPATH)/bin
if ! command -v protoc >/dev/null; then
	apt-get update -qq
	apt-get install -y -qq protobuf-compiler >/dev/null
fi
want=$(go list -m -f '{{.Version}}' google.golang.org/protobuf)
if ! protoc-gen-go --version 2>/dev/null | grep -q -- "${want}\$"; then
	go install "google.golang.org/protobuf/cmd/protoc-gen-go@${want}"
fi
