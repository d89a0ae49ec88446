#!/bin/sh
# Benchmarks of the redaction front door (make bench):
#  - `sluice redact --default` throughput over a generated JSON-lines file of
#    realistic agent-run events (>= 200 MB, written under /tmp at bench time,
#    removed afterwards, never committed). Reported per wall second and per
#    CPU second (user + sys): on a shared machine the second is the one that
#    measures sluice. Best of three runs.
#  - recorder events/s (default policy, one SQLite transaction per event).
# Usage: run-redact.sh BUILD_DIR [MB]
set -eu
BUILD=$1
MB=${2:-${REDACT_BENCH_MB:-256}}
tmp=$(mktemp -d /tmp/sl_bench_redact.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
"$BUILD/bench/bench_redact" gen "$tmp/events.jsonl" "$MB"
bytes=$(wc -c < "$tmp/events.jsonl")
cat "$tmp/events.jsonl" > /dev/null # page cache: do not measure the disk
best_wall=""; best_cpu=""
for i in 1 2 3; do
    /usr/bin/time -f "%e %U %S" -o "$tmp/time.txt" \
        "$BUILD/sluice" redact --default "$tmp/events.jsonl" \
        > "$tmp/out.jsonl" 2> "$tmp/err.txt"
    read -r wall user sys < "$tmp/time.txt"
    c=$(echo "$user + $sys" | bc -l)
    if [ -z "$best_wall" ] || [ "$(echo "$wall < $best_wall" | bc -l)" = 1 ]; then
        best_wall=$wall
    fi
    if [ -z "$best_cpu" ] || [ "$(echo "$c < $best_cpu" | bc -l)" = 1 ]; then
        best_cpu=$c
    fi
done
mb=$(echo "$bytes / 1048576" | bc -l)
printf '{"bench":"redact","mb":%.1f,"wall_seconds":%.3f,"mb_per_s":%.1f,"cpu_seconds":%.3f,"mb_per_cpu_s":%.1f,"totals":"%s"}\n' \
    "$mb" "$best_wall" "$(echo "$mb / $best_wall" | bc -l)" \
    "$best_cpu" "$(echo "$mb / $best_cpu" | bc -l)" \
    "$(tr -d '\n' < "$tmp/err.txt")"
"$BUILD/bench/bench_redact" record "$tmp/runs.db" "${RECORD_EVENTS:-20000}"
