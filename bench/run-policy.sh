#!/bin/sh
# make bench, policy engine: (1) evaluation cost against the number of
# policies (bench_policy, and bench_policy_mix for the shared-matcher mix
# and long values of issue 11), (2) `sluice bench` on the bundled examples,
# (3) end-to-end `sluice apply` throughput on a generated OTLP/JSON file of
# about 210 MB (written into the build directory, never committed).
# Usage: run-policy.sh BUILD_DIR
set -eu
BUILD=$1
echo "== policy evaluation, ns per record (one core)"
"$BUILD/bench/bench_policy" "${SLUICE_BENCH_SECONDS:-0.5}"
echo
echo "== issue 11: shared matchers and long values, ns per record (one core)"
"$BUILD/bench/bench_policy_mix" "${SLUICE_BENCH_SECONDS:-0.3}"
echo
echo "== sluice bench: example policies on example logs"
"$BUILD/sluice" bench --policies examples/policy/policies.json \
    --input examples/policy/logs.jsonl --seconds 1 --json 2>/dev/null
echo
BIG=$BUILD/bench-logs.jsonl
if [ ! -f "$BIG" ]; then
    echo "== generating $BIG"
    python3 bench/gen_otlp_logs.py "$BIG" "${SLUICE_BENCH_MB:-210}"
fi
bytes=$(wc -c < "$BIG")
echo "== sluice apply on $bytes bytes"
python3 - "$BUILD/sluice" "$BIG" <<'PY'
# three runs: the best and the median (the machine may be shared)
import os, resource, statistics, subprocess, sys, time
sluice, big = sys.argv[1], sys.argv[2]
size = os.path.getsize(big)
mb = size / 1e6
walls, cpus = [], []
for _ in range(int(os.environ.get("SLUICE_BENCH_RUNS", "3"))):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.monotonic()
    with open("/dev/null", "wb") as null:
        subprocess.run([sluice, "apply", "--quiet", "--policies",
                        "examples/policy/policies.json", big],
                       stdout=null, check=True)
    walls.append(time.monotonic() - t)
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpus.append(r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime)
print("apply: %.1f MB, wall best %.2f s = %.1f MB/s (median %.1f MB/s), "
      "cpu best %.2f s = %.1f MB/s"
      % (mb, min(walls), mb / min(walls), mb / statistics.median(walls),
         min(cpus), mb / min(cpus)))
PY
