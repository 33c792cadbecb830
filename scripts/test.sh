#!/usr/bin/env bash
# Runs every test of Gantry on a fresh machine of this kind: installs what the
# tests need (scripts/setup/*.sh, each idempotent), then go test with -race,
# then each fuzz target briefly. Under CI=true a test whose prerequisite is
# missing fails instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PATH:/usr/local/go/bin

for s in scripts/setup/*.sh; do
	[ -e "$s" ] || continue
	echo "== setup: $s"
	bash "$s"
done

echo "== go vet"
go vet ./...

echo "== go test -race"
go test -race -count=1 -timeout 20m ./...

echo "== fuzz (brief)"
bash scripts/fuzz.sh "${FUZZTIME:-10s}"
