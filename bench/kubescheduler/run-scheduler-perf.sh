#!/usr/bin/env bash
# run-scheduler-perf.sh: Kubernetes' own scheduler_perf benchmark
# (k8s.io/kubernetes v1.36.3, test/integration/scheduler_perf/misc,
# BenchmarkPerfScheduling/SchedulingBasic/5000Nodes_10000Pods: its own
# kube-apiserver in-process over a real etcd 3.6.8) and Gantry's end-to-end
# scheduler benchmark (BenchmarkSchedulerEndToEnd, package scheduler of the
# main module), alternating in one run, then the ratio of their throughputs.
#
# A benchmark, not a test: not part of scripts/test.sh. Needs only Go and the
# module proxy (etcd is built from go.etcd.io/etcd/server/v3 at the version
# k8s.io/kubernetes v1.36.3 requires, pinned in this module's go.sum).
#
# Usage: bench/kubescheduler/run-scheduler-perf.sh
# Environment (all optional):
#   ROUNDS=2            rounds of (scheduler_perf, Gantry), alternating
#   OUT=/tmp/schedperf  binaries, etcd data, logs and raw outputs
#   ETCD_PORT=23790     etcd's client port on 127.0.0.1 (must be free)
#   SKIP_BUILD=1        reuse the binaries already in $OUT/bin
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
ROUNDS=${ROUNDS:-2}
OUT=${OUT:-/tmp/schedperf}
ETCD_PORT=${ETCD_PORT:-23790}
bin=$OUT/bin
perf_bench='BenchmarkPerfScheduling/SchedulingBasic/5000Nodes_10000Pods$'
mkdir -p "$bin"

log() { printf '== %s %s\n' "$(date -u +%H:%M:%SZ)" "$*"; }

if [[ -z "${SKIP_BUILD:-}" ]]; then
	log "building etcd, scheduler_perf (misc) and Gantry's scheduler benchmarks"
	(cd "$here" &&
		go build -o "$bin/etcd" go.etcd.io/etcd/server/v3 &&
		go test -c -o "$bin/scheduler_perf_misc.test" k8s.io/kubernetes/test/integration/scheduler_perf/misc)
	(cd "$repo" && go test -c -o "$bin/gantrysched.test" ./scheduler)
fi
"$bin/etcd" --version | head -1

# scheduler_perf reads performance-config.yaml and ../templates relative to
# its package directory, which lives in the (read-only) module cache.
misc_dir=$(cd "$here" && go list -f '{{.Dir}}' k8s.io/kubernetes/test/integration/scheduler_perf/misc)

# etcd with the integration framework's own flags (framework.RunCustomEtcd),
# on TCP so the framework's "is etcd already running" probe finds it.
if (exec 3<>"/dev/tcp/127.0.0.1/$ETCD_PORT") 2>/dev/null; then
	echo "port $ETCD_PORT is in use; set ETCD_PORT to a free port" >&2
	exit 1
fi
etcd_dir=$(mktemp -d "$OUT/etcd-data.XXXXXX")
"$bin/etcd" --data-dir "$etcd_dir" \
	--listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
	--listen-peer-urls http://127.0.0.1:0 --log-level warn \
	--quota-backend-bytes $((8 * 1024 * 1024 * 1024)) >"$OUT/etcd.log" 2>&1 &
etcd_pid=$!
trap 'kill "$etcd_pid" 2>/dev/null; wait "$etcd_pid" 2>/dev/null; rm -rf "$etcd_dir"' EXIT
for _ in $(seq 100); do
	(exec 3<>"/dev/tcp/127.0.0.1/$ETCD_PORT") 2>/dev/null && break
	sleep 0.1
done
export KUBE_INTEGRATION_ETCD_URL=http://127.0.0.1:$ETCD_PORT
export KUBE_CACHE_MUTATION_DETECTOR=false
# Per-test scheduler/apiserver logs go to files here instead of the output.
export ARTIFACTS=$OUT/artifacts
mkdir -p "$ARTIFACTS"

# metric NAME FILE: the value reported before unit NAME on a benchmark line.
metric() { awk -v m="$1" '/^Benchmark/ { for (i = 2; i <= NF; i++) if ($i == m) print $(i-1) }' "$2" | tail -1; }

echo "machine: $(nproc) cpus, $(uname -r), $(go version)"
declare -a perf_avg gantry_pods
for round in $(seq "$ROUNDS"); do
	log "round $round: uptime: $(uptime)"
	raw=$OUT/scheduler_perf.$round.txt
	log "round $round: scheduler_perf $perf_bench"
	# A throughput under the workload's threshold (270 pods/s) marks the
	# benchmark FAIL but still reports every metric, so the status is kept.
	status=0
	(cd "$misc_dir" && "$bin/scheduler_perf_misc.test" -test.run '^$' -test.bench "$perf_bench" \
		-test.benchtime 1x -test.timeout 1h -test.short=false \
		-perf-scheduling-label-filter performance -data-items-dir "$OUT/data") >"$raw" 2>&1 || status=$?
	grep -E '^(Benchmark|---|ok|FAIL|PASS)|ERROR|expected SchedulingThroughput' "$raw" | cut -c1-2000 || true
	avg=$(metric SchedulingThroughput/Average "$raw")
	if [[ -z "$avg" ]]; then
		echo "scheduler_perf reported no SchedulingThroughput (exit $status); see $raw" >&2
		exit 1
	fi
	[[ $status == 0 ]] || echo "(scheduler_perf exit status $status: see above; metrics were still reported)"
	printf 'scheduler_perf SchedulingThroughput pods/s: Average %s Perc50 %s Perc90 %s Perc95 %s Perc99 %s\n' \
		"$avg" "$(metric SchedulingThroughput/Perc50 "$raw")" "$(metric SchedulingThroughput/Perc90 "$raw")" \
		"$(metric SchedulingThroughput/Perc95 "$raw")" "$(metric SchedulingThroughput/Perc99 "$raw")"
	perf_avg+=("$avg")

	log "round $round: uptime: $(uptime)"
	raw=$OUT/gantry.$round.txt
	log "round $round: Gantry BenchmarkSchedulerEndToEnd"
	(cd "$repo/scheduler" && "$bin/gantrysched.test" -test.run '^$' -test.bench 'SchedulerEndToEnd$' \
		-test.benchtime 1x) >"$raw" 2>&1 || { cat "$raw"; exit 1; }
	grep -E '^Benchmark' "$raw"
	gantry_pods+=("$(metric pods/s "$raw")")
done

log "summary (uptime: $(uptime))"
for i in "${!perf_avg[@]}"; do
	awk -v r=$((i + 1)) -v k="${perf_avg[$i]}" -v g="${gantry_pods[$i]}" 'BEGIN {
		printf "round %d: scheduler_perf %.1f pods/s, Gantry end to end %.1f pods/s, ratio %.2fx\n", r, k, g, g / k }'
done
