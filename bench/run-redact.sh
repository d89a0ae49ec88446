#!/bin/sh
# Benchmarks of the redaction front door (make bench):
#  - `sluice redact --default` throughput, with the value detectors and
#    without them (--no-detect), over a generated JSON-lines file of
#    realistic agent-run events (>= 200 MB, written under /tmp at bench time,
#    removed afterwards, never committed). Reported per wall second and per
#    CPU second (user + sys): on a shared machine the second is the one that
#    measures sluice. Best of three runs.
#  - the same ratio in callgrind instructions, on 4 MB (see below), and
#    instructions per input byte with and without the detectors (the
#    repeatable measure of redact speed on a loaded machine): less the
#    compile (with_per_byte, without_per_byte), and less everything a run
#    on an empty input costs, dynamic loading included (with_work_per_byte,
#    without_work_per_byte: the per-byte cost of a long run).
#  - where those instructions go, per input byte: parse, stream, walk,
#    gate (the row "redact_profile", from the same callgrind run).
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
# with the default detectors, then without (--no-detect): the rows
# "redact" and "redact_no_detect", and their ratio
for mode in detect no_detect; do
    flag=""
    name=redact
    if [ $mode = no_detect ]; then
        flag=--no-detect
        name=redact_no_detect
    fi
    : > "$tmp/times.txt"
    for i in 1 2 3; do
        # shellcheck disable=SC2086
        "$B" time "$tmp/out.jsonl" "$BUILD/sluice" redact --default $flag \
            "$tmp/events.jsonl" >> "$tmp/times.txt" 2> "$tmp/err.txt"
    done
    awk -v bytes="$bytes" -v name="$name" \
        -v totals="$(tr -d '\n' < "$tmp/err.txt")" '
        { c = $2 + $3
          if (NR == 1 || $1 < w) w = $1
          if (NR == 1 || c < cpu) cpu = c }
        END { mb = bytes / 1048576
              printf "{\"bench\":\"%s\",\"mb\":%.1f,", name, mb
              printf "\"wall_seconds\":%.3f,", w
              printf "\"mb_per_s\":%.1f,\"cpu_seconds\":%.3f,", mb / w, cpu
              printf "\"mb_per_cpu_s\":%.1f,\"totals\":\"%s\"}\n", mb / cpu,
                  totals }
    ' "$tmp/times.txt" | tee "$tmp/row_$mode.json"
done
python3 -c '
import json, sys
d = json.load(open(sys.argv[1])); n = json.load(open(sys.argv[2]))
print(json.dumps({"bench": "redact_detectors_cost",
                  "cpu_ratio": round(d["cpu_seconds"] / n["cpu_seconds"], 3),
                  "wall_ratio": round(d["wall_seconds"] / n["wall_seconds"], 3)}))
' "$tmp/row_detect.json" "$tmp/row_no_detect.json"
# The same ratio in instructions (callgrind: repeatable on a loaded
# machine), on 4 MB of the same events, whole run less the one-off
# compile of the redactor (the detectors' Vectorscan set, ~60M): the row
# "redact_detectors_instructions". Skipped without valgrind, or with
# REDACT_CALLGRIND=0.
if [ "${REDACT_CALLGRIND:-1}" != 0 ] && command -v valgrind > /dev/null &&
    command -v callgrind_annotate > /dev/null; then
    "$B" gen "$tmp/small.jsonl" 4 2> /dev/null
    : > "$tmp/empty.jsonl"
    # each mode on the 4 MB and on an empty input: the second is what a
    # run costs before its first byte (dynamic loading, ~9M, and the
    # compile), taken off for the "work" figures below
    for mode in detect no_detect detect_empty no_detect_empty; do
        flag=""
        input="$tmp/small.jsonl"
        case $mode in no_detect*) flag=--no-detect ;; esac
        case $mode in *_empty) input="$tmp/empty.jsonl" ;; esac
        # shellcheck disable=SC2086
        valgrind --tool=callgrind --dump-instr=no \
            --callgrind-out-file="$tmp/cg.$mode" "$BUILD/sluice" redact \
            --default $flag "$input" > /dev/null 2> /dev/null
        callgrind_annotate --inclusive=yes --threshold=100 "$tmp/cg.$mode" \
            2> /dev/null | tr -d , | awk '
            /PROGRAM TOTALS/ { total = $1 }
            /:sl_redactor_compile / { compile = $1 }
            END { print total + 0, compile + 0 }' > "$tmp/ir.$mode"
    done
    python3 -c '
import json, sys
d, n, de, ne = ([int(x) for x in open(f).read().split()]
                for f in sys.argv[1:5])
print(json.dumps({"bench": "redact_detectors_instructions", "mb": 4,
                  "with": d[0] - d[1], "without": n[0] - n[1],
                  "compile": d[1],
                  "with_per_byte": round((d[0] - d[1]) / (4 << 20), 2),
                  "without_per_byte": round((n[0] - n[1]) / (4 << 20), 2),
                  "ratio": round((d[0] - d[1]) / (n[0] - n[1]), 3),
                  "startup": de[0] - de[1],
                  "with_work_per_byte": round((d[0] - de[0]) / (4 << 20), 2),
                  "without_work_per_byte":
                      round((n[0] - ne[0]) / (4 << 20), 2)}))
' "$tmp/ir.detect" "$tmp/ir.no_detect" "$tmp/ir.detect_empty" \
        "$tmp/ir.no_detect_empty"
    # where the instructions of the run with detectors go, per input byte
    # (inclusive callgrind counts of the run above): the JSON parse, the
    # rest of reading the stream, the walk (key decisions, source copy,
    # masking) less the detector gate, and the gate. The row
    # "redact_profile"; a function the compiler inlined counts as 0 (a
    # build with -g lists a function once per source file: the largest,
    # its own file's, is the inclusive count).
    callgrind_annotate --inclusive=yes --threshold=100 "$tmp/cg.detect" \
        2> /dev/null | tr -d , | awk -v bytes=$((4 << 20)) '
        function max(a, b) { return a > b ? a : b }
        /:sl__json_parse / { parse = max(parse, $1) }
        /:sl_cli_stream_next / { stream = max(stream, $1) }
        /:sl_redact_write_doc / { walk = max(walk, $1) }
        /:gate_avx2 / { g1 = max(g1, $1) }
        /:sl__redact_detect_gate_bytes / { g2 = max(g2, $1) }
        END {
            gate = g1 + g2
            printf "{\"bench\":\"redact_profile\",\"mb\":4,"
            printf "\"parse_per_byte\":%.2f,", parse / bytes
            printf "\"stream_per_byte\":%.2f,", (stream - parse) / bytes
            printf "\"walk_per_byte\":%.2f,", (walk - gate) / bytes
            printf "\"gate_per_byte\":%.2f}\n", gate / bytes }'
fi
"$B" record "$tmp/runs.db" "${RECORD_EVENTS:-20000}"
