#!/bin/sh
# Benchmarks of the redaction front door (make bench):
#  - `sluice redact --default` throughput (MB/s, one core) over a generated
#    JSON-lines file of realistic agent-run events (>= 200 MB, written under
#    /tmp at bench time and removed afterwards; never committed);
#  - recorder events/s (one SQLite transaction per event, default policy).
# Usage: run-redact.sh BUILD_DIR [MB]
set -eu
BUILD=$1
MB=${2:-${REDACT_BENCH_MB:-256}}
tmp=$(mktemp -d /tmp/sl_bench_redact.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
"$BUILD/bench/bench_redact" gen "$tmp/events.jsonl" "$MB"
bytes=$(wc -c < "$tmp/events.jsonl")
# warm the page cache so the disk is not measured
cat "$tmp/events.jsonl" > /dev/null
best=""
for i in 1 2 3; do
    t0=$(date +%s.%N)
    taskset -c 0 "$BUILD/sluice" redact --default "$tmp/events.jsonl" \
        > "$tmp/out.jsonl" 2> "$tmp/err.txt" ||
        "$BUILD/sluice" redact --default "$tmp/events.jsonl" \
            > "$tmp/out.jsonl" 2> "$tmp/err.txt"
    t1=$(date +%s.%N)
    s=$(echo "$t1 - $t0" | bc -l)
    if [ -z "$best" ] || [ "$(echo "$s < $best" | bc -l)" = 1 ]; then
        best=$s
    fi
done
mbs=$(echo "$bytes / 1048576 / $best" | bc -l)
printf '{"bench":"redact","mb":%.1f,"seconds":%.3f,"mb_per_s":%.1f,"totals":"%s"}\n' \
    "$(echo "$bytes / 1048576" | bc -l)" "$best" "$mbs" \
    "$(tr -d '\n' < "$tmp/err.txt")"
"$BUILD/bench/bench_redact" record "$tmp/runs.db" "${RECORD_EVENTS:-50000}"
