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
python3 - "$BUILD/sluice" "$BIG" "$POL" "$N" "$BUILD/bench-regex-cache" <<'PY'
import os, resource, subprocess, sys, time
sluice, big, pol, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
cache = sys.argv[5]
mb = os.path.getsize(big) / 1e6
runs = int(os.environ.get("SLUICE_BENCH_RUNS", "3"))
print("%-16s %7s %10s %12s %9s %8s %8s" % ("job", "threads", "wall s",
      "records/s", "MB/s", "cpu s", "speedup"))
for job in ["passthrough", "drop-debug", "regex-10", "regex-100",
            "regex-10+cache", "regex-100+cache"]:
    one = None
    name, cached = job.split("+")[0], job.endswith("+cache")
    extra = ["--regex-cache", cache] if cached else []
    if cached:  # fill the cache: the rows measure a warm one
        subprocess.run([sluice, "apply", "--quiet", "--policies",
                        os.path.join(pol, name + ".json"), "/dev/null"] +
                       extra, check=True)
    for threads in (1, 2):
        walls, cpus = [], []
        for _ in range(runs):
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t = time.monotonic()
            with open("/dev/null", "wb") as null:
                subprocess.run([sluice, "apply", "--quiet", "--threads",
                                str(threads), "--policies",
                                os.path.join(pol, name + ".json"), big] +
                               extra, stdout=null, check=True)
            walls.append(time.monotonic() - t)
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus.append(r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime)
        best = min(walls)
        one = one or best
        print("%-16s %7d %10.3f %12.0f %9.1f %8.2f %7.2fx" % (job, threads,
              best, n / best, mb / best, min(cpus), one / best))
PY
