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
#   OUT=/tmp/schedperf  binaries, logs and raw outputs
#   SKIP_BUILD=1        reuse the binaries already in $OUT/bin
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
ROUNDS=${ROUNDS:-2}
OUT=${OUT:-/tmp/schedperf}
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
"$bin/etcd" --version | sed -n 1p

# scheduler_perf reads performance-config.yaml and ../templates relative to
# its package directory, which lives in the (read-only) module cache.
misc_dir=$(cd "$here" && go list -f '{{.Dir}}' k8s.io/kubernetes/test/integration/scheduler_perf/misc)

# scheduler_perf starts a fresh etcd per workload (framework.StartEtcd with
# forceCreate, on a unix socket in $TMPDIR), always the `etcd` on PATH.
export PATH=$bin:$PATH
export KUBE_CACHE_MUTATION_DETECTOR=false
# Per-test scheduler/apiserver logs go to files here instead of the output
# (the loop copies them to $OUT/scheduler_perf.N.log).
export ARTIFACTS=$OUT/artifacts
mkdir -p "$ARTIFACTS"

# metric NAME FILE: the value reported before unit NAME on a benchmark line.
metric() { awk -v m="$1" '/^Benchmark/ { for (i = 2; i <= NF; i++) if ($i == m) print $(i-1) }' "$2" | tail -1; }

# throughput DIR: SchedulingThroughput Average Perc50 Perc90 Perc95 Perc99
# (pods/s) from the harness's BenchmarkPerfScheduling_*.json in DIR.
throughput() {
	python3 - "$1" <<'PY'
import glob, json, sys
for f in sorted(glob.glob(sys.argv[1] + "/BenchmarkPerfScheduling_*.json")):
    for item in json.load(open(f))["dataItems"] or []:
        if item["labels"].get("Metric") == "SchedulingThroughput":
            d = item["data"]
            print(" ".join("%.1f" % d[k] for k in ("Average", "Perc50", "Perc90", "Perc95", "Perc99")))
PY
}

# sample_cpu PID: every 0.5 s, "unix-time cpu-seconds" of PID and its
# children (scheduler_perf's etcd), from /proc, until PID exits.
sample_cpu() {
	local tck
	tck=$(getconf CLK_TCK)
	while kill -0 "$1" 2>/dev/null; do
		local t ticks=0 p
		t=$(date +%s.%N)
		for p in "$1" $(pgrep -P "$1" || true); do
			ticks=$((ticks + $(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0)))
		done
		echo "$t $(awk -v n="$ticks" -v h="$tck" 'BEGIN { printf "%.2f", n / h }')"
		sleep 0.5
	done
}

# cpu_in_window SAMPLES LOG: the measured phase is from the first to the last
# "Successfully bound" of a namespace-2 pod (the 10,000 measured pods) in
# scheduler_perf's klog output; prints its pods, seconds, pods/s, and CPU
# seconds of the test process and etcd in it (interpolated between samples).
cpu_in_window() {
	python3 - "$1" "$2" <<'PY'
import datetime, re, sys
samples = [tuple(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
bound = re.compile(r'^I(\d\d)(\d\d) (\d\d):(\d\d):(\d\d\.\d+) .*"Successfully bound pod to node" pod="namespace-2/')
times = []
year = datetime.datetime.now().year
for line in open(sys.argv[2], errors="replace"):
    m = bound.match(line)
    if m:
        mo, d, h, mi, s = m.groups()
        sec = float(s)
        t = datetime.datetime(year, int(mo), int(d), int(h), int(mi), int(sec), int((sec % 1) * 1e6))
        times.append(t.timestamp())  # klog writes local time
def cpu_at(t):
    for (t0, c0), (t1, c1) in zip(samples, samples[1:]):
        if t0 <= t <= t1:
            return c0 + (c1 - c0) * (t - t0) / (t1 - t0)
    raise SystemExit("no CPU sample around %f" % t)
if len(times) < 2:
    raise SystemExit("no bound namespace-2 pods in the log")
start, end = times[0], times[-1]
pods = len(times) - 1
cpu = cpu_at(end) - cpu_at(start)
print("%d pods in %.1f s = %.1f pods/s; %.1f cpu-s = %.1f pods/cpu-s" % (pods, end - start, pods / (end - start), cpu, pods / cpu))
PY
}

echo "machine: $(nproc) cpus, $(uname -r), $(go version)"
declare -a perf_avg perf_cpu gantry_pods gantry_cpu
for round in $(seq "$ROUNDS"); do
	log "round $round: uptime: $(uptime)"
	raw=$OUT/scheduler_perf.$round.txt
	log "round $round: scheduler_perf $perf_bench"
	# A throughput under the workload's threshold (270 pods/s) marks the
	# benchmark FAIL, and `go test` then prints no metrics, but the harness
	# still writes them to its JSON data items file: read them from there.
	data=$OUT/data.$round
	rm -rf "$data"
	perf_log=$ARTIFACTS/BenchmarkPerfScheduling_SchedulingBasic_5000Nodes_10000Pods.log
	rm -f "$perf_log"
	status=0
	(cd "$misc_dir" && exec "$bin/scheduler_perf_misc.test" -test.run '^$' -test.bench "$perf_bench" \
		-test.benchtime 1x -test.timeout 1h -test.short=false \
		-perf-scheduling-label-filter performance -data-items-dir "$data") >"$raw" 2>&1 &
	perf_pid=$!
	# The harness deletes its per-test log when the benchmark passes: keep a copy.
	tail -n +1 -F "$perf_log" >"$OUT/scheduler_perf.$round.log" 2>/dev/null &
	tail_pid=$!
	sample_cpu "$perf_pid" >"$OUT/cpu.$round.txt" &
	sampler_pid=$!
	wait "$perf_pid" || status=$?
	wait "$sampler_pid" || true
	sleep 1
	kill "$tail_pid"
	wait "$tail_pid" 2>/dev/null || true
	grep -E '^(Benchmark|--- |ok|FAIL|PASS)|expected "SchedulingThroughput"' "$raw" | cut -c1-300 || true
	read -r avg p50 p90 p95 p99 < <(throughput "$data") || true
	if [[ -z "${avg:-}" ]]; then
		echo "scheduler_perf wrote no SchedulingThroughput (exit $status); see $raw" >&2
		exit 1
	fi
	[[ $status == 0 ]] || echo "(scheduler_perf exit status $status, see above; its metrics are still in $data)"
	echo "scheduler_perf SchedulingThroughput pods/s: Average $avg Perc50 $p50 Perc90 $p90 Perc95 $p95 Perc99 $p99"
	perf_avg+=("$avg")
	read -r perf_cpu_line < <(cpu_in_window "$OUT/cpu.$round.txt" "$OUT/scheduler_perf.$round.log") || true
	echo "scheduler_perf measured phase (from its log and CPU samples): ${perf_cpu_line:-unavailable}"
	perf_cpu+=("$(awk '{ for (i = 2; i <= NF; i++) if ($i == "pods/cpu-s") print $(i-1) }' <<<"${perf_cpu_line:-}")")

	log "round $round: uptime: $(uptime)"
	raw=$OUT/gantry.$round.txt
	log "round $round: Gantry BenchmarkSchedulerEndToEnd"
	(cd "$repo/scheduler" && "$bin/gantrysched.test" -test.run '^$' -test.bench 'SchedulerEndToEnd$' \
		-test.benchtime 1x) >"$raw" 2>&1 || { cat "$raw"; exit 1; }
	grep -E '^Benchmark' "$raw"
	gantry_pods+=("$(metric pods/s "$raw")")
	gantry_cpu+=("$(metric pods/cpu-s "$raw")")
done

log "summary (uptime: $(uptime))"
for i in "${!perf_avg[@]}"; do
	awk -v r=$((i + 1)) -v k="${perf_avg[$i]}" -v g="${gantry_pods[$i]}" -v kc="${perf_cpu[$i]:-0}" -v gc="${gantry_cpu[$i]:-0}" 'BEGIN {
		printf "round %d: scheduler_perf %.1f pods/s, Gantry end to end %.1f pods/s, ratio %.2fx", r, k, g, g / k
		if (kc > 0 && gc > 0) printf "; CPU time: %.1f vs %.1f pods/cpu-s, ratio %.2fx", kc, gc, gc / kc
		printf "\n" }'
done
