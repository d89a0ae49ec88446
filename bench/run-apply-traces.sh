#!/bin/sh
# make bench, `sluice apply` on traces (issue 11 item 3, the spans fast
# pass in src/otlp/scan.c): a generated file of SLUICE_BENCH_SPAN_REQUESTS
# (default 200,000) compact OTLP/JSON requests of 3 spans each, ~1.4 KB a
# line (bench/gen_otlp_spans.py, fixed seed, written into the build
# directory), applied with a passthrough trace policy (matches nothing)
# and a 10-policy trace set (health-check drops, kinds, statuses, span,
# resource and scope attributes; one keeps error spans at 100%, which
# writes the sampling threshold: those requests load in full). Output to
# /dev/null, best of SLUICE_BENCH_RUNS (3) wall times at 1 and 2 threads;
# spans/s and MB/s of input.
# Measured with callgrind (release build, --threads 1, instructions of a
# 4,000-request run minus a 2,000-request run, over the 6,000 spans between,
# so start-up cancels out; repeatable to a few hundred instructions):
#   passthrough   8,373 a span before the spans fast pass, 4,463 with it
#   trace-10     10,112 before, 10,288 with it (every span's attributes are
#                walked by the pass, then parsed into nodes and indexed)
# Usage: run-apply-traces.sh BUILD_DIR
set -eu
BUILD=$1
N=${SLUICE_BENCH_SPAN_REQUESTS:-200000}
BIG=$BUILD/bench-apply-spans-$N.jsonl
if [ ! -f "$BIG" ]; then
    echo "== generating $BIG"
    python3 bench/gen_otlp_spans.py "$N" "$BIG"
fi
POL=$BUILD/bench-apply-trace-policies
mkdir -p "$POL"
python3 - "$POL" <<'PY'
import json, os, sys
d = sys.argv[1]
def pol(i, match, keep=0.0):
    return {"id": "t%02d" % i, "name": "bench",
            "trace": {"match": match, "keep": {"percentage": keep}}}
name = lambda how, v: {"trace_field": "TRACE_FIELD_NAME", how: v}
files = {
    "trace-passthrough": [pol(0, [name("exact", "no such span")])],
    "trace-10": [
        pol(0, [name("regex", "^(GET|HEAD) /healthz")]),
        pol(1, [name("starts_with", "OPTIONS ")]),
        pol(2, [name("regex", "^cron\\.")]),
        pol(3, [{"span_kind": "SPAN_KIND_PRODUCER", "exists": True}]),
        pol(4, [{"span_attribute": "http.route", "exact": "/metrics"}]),
        pol(5, [{"span_attribute": "db.system", "exact": "redis"},
                {"span_kind": "SPAN_KIND_CLIENT", "exists": True}]),
        pol(6, [{"resource_attribute": "service.name", "exact": "debug-svc"}]),
        pol(7, [{"trace_field": "scope_name", "exact": "internal.healthcheck"}]),
        pol(8, [{"span_attribute": "server.address", "exact": "db-9.internal"}]),
        pol(9, [{"span_status": "SPAN_STATUS_CODE_ERROR", "exists": True}],
            100.0),
    ],
}
for n, ps in files.items():
    with open(os.path.join(d, n + ".json"), "w") as f:
        json.dump({"policies": ps}, f)
PY
echo "== sluice apply on traces, $N 3-span requests ($(wc -c < "$BIG") bytes), best of ${SLUICE_BENCH_RUNS:-3}"
python3 "$(dirname "$0")/apply_table.py" "$BUILD/sluice" "$BIG" "$POL" "$((3 * N))" spans \
    "$BUILD/bench-regex-cache" trace-passthrough trace-10
