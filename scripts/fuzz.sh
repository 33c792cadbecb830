#!/usr/bin/env bash
# Runs every Fuzz target in the module for a short time each ($1, default 10s).
#
# Go 1.26's fuzz coordinator can report a bare "context deadline exceeded" at
# the -fuzztime boundary with no failing input (golang/go#75804, fixed in Go
# 1.27). Such a run is retried once; any run that writes a failing input, or
# fails any other way, fails the script.
set -euo pipefail
cd "$(dirname "$0")/.."
t=${1:-10s}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

fuzz() { go test -run '^$' -fuzz "^$2\$" -fuzztime "$t" "$1" 2>&1 | tee "$log"; }

# boundary_race: the last run failed only with the coordinator's deadline race.
boundary_race() {
	grep -q 'context deadline exceeded' "$log" && ! grep -q 'Failing input written' "$log"
}

for pkg in $(go list ./...); do
	dir=$(go list -f '{{.Dir}}' "$pkg")
	for f in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //'); do
		echo "fuzz $pkg $f ($t)"
		if ! fuzz "$pkg" "$f"; then
			boundary_race || exit 1
			echo "fuzz $pkg $f: deadline race at -fuzztime (golang/go#75804), no failing input; retrying once"
			fuzz "$pkg" "$f"
		fi
	done
done
