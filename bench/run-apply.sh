#!/bin/sh
# make bench, `sluice apply` end to end at 1 and 2 threads (issue 11 items
# 3 and 4): a generated file of SLUICE_BENCH_RECORDS (default 1,000,000)
# OTLP/JSON requests of one log record each, ~580 bytes a line (written
# into the build directory, never committed; fixed seed), applied with
# four policy files: passthrough (one policy, matches nothing), drop DEBUG
# (one policy), 10 and 100 body regex excludes; the two regex jobs once
# more with --regex-cache (a warm cache in the build directory: the
# Vectorscan compile replaced by a load). Output to /dev/null, best of
# SLUICE_BENCH_RUNS (3) wall times; records/s and MB/s of input.
# Usage: run-apply.sh BUILD_DIR
set -eu
BUILD=$1
N=${SLUICE_BENCH_RECORDS:-1000000}
BIG=$BUILD/bench-apply-$N.jsonl
if [ ! -f "$BIG" ]; then
    echo "== generating $BIG"
    python3 bench/gen_otlp_logs.py --records "$N" "$BIG"
fi
POL=$BUILD/bench-apply-policies
mkdir -p "$POL"
python3 - "$POL" <<'PY'
import json, os, sys
d = sys.argv[1]
def pol(i, match, keep="none"):
    return {"id": "p%03d" % i, "name": "bench", "log": {"match": [match], "keep": keep}}
def regexes(n):
    # realistic excludes that (almost) never fire on the generated bodies
    words = ["timeout", "retry", "deadlock", "evicted", "throttled", "oom",
             "segfault", "panic", "rollback", "quota"]
    return [pol(i, {"log_field": "body",
                    "regex": "%s (after|in) [0-9]+ms on shard-%d" % (words[i % 10], i)})
            for i in range(n)]
files = {
    "passthrough": [pol(0, {"log_field": "severity_text", "exact": "TRACE"})],
    "drop-debug": [pol(0, {"log_field": "severity_text", "exact": "DEBUG"})],
    "regex-10": regexes(10),
    "regex-100": regexes(100),
}
for name, ps in files.items():
    with open(os.path.join(d, name + ".json"), "w") as f:
        json.dump({"policies": ps}, f)
PY
echo "== sluice apply, $N one-record requests ($(wc -c < "$BIG") bytes), best of ${SLUICE_BENCH_RUNS:-3}"
python3 "$(dirname "$0")/apply_table.py" "$BUILD/sluice" "$BIG" "$POL" "$N" records \
    "$BUILD/bench-regex-cache" passthrough drop-debug regex-10 regex-100 \
    regex-10+cache regex-100+cache
