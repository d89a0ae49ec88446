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
B="$BUILD/bench/bench_redact"
tmp=$(mktemp -d /tmp/sl_bench_redact.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
"$B" gen "$tmp/events.jsonl" "$MB"
bytes=$(wc -c < "$tmp/events.jsonl")
cat "$tmp/events.jsonl" > /dev/null # page cache: do not measure the disk
: > "$tmp/times.txt"
for i in 1 2 3; do
    "$B" time "$tmp/out.jsonl" "$BUILD/sluice" redact --default \
        "$tmp/events.jsonl" >> "$tmp/times.txt" 2> "$tmp/err.txt"
done
awk -v bytes="$bytes" -v totals="$(tr -d '\n' < "$tmp/err.txt")" '
    { c = $2 + $3
      if (NR == 1 || $1 < w) w = $1
      if (NR == 1 || c < cpu) cpu = c }
    END { mb = bytes / 1048576
          printf "{\"bench\":\"redact\",\"mb\":%.1f,\"wall_seconds\":%.3f,", mb, w
          printf "\"mb_per_s\":%.1f,\"cpu_seconds\":%.3f,", mb / w, cpu
          printf "\"mb_per_cpu_s\":%.1f,\"totals\":\"%s\"}\n", mb / cpu, totals }
' "$tmp/times.txt"
"$B" record "$tmp/runs.db" "${RECORD_EVENTS:-20000}"
