#!/usr/bin/env python3
"""The timing table of bench/run-apply.sh and bench/run-apply-traces.sh:
for each JOB (the policy file POLDIR/JOB.json; JOB+cache: the same with a
warm --regex-cache in CACHE_DIR, filled first), `sluice apply --quiet`
over INPUT at 1 and 2 threads, output to /dev/null, best of
SLUICE_BENCH_RUNS (3) by wall time; COUNT items of UNIT (records, spans)
give the rate, the 1-thread time the speed-up.
Usage: apply_table.py SLUICE INPUT POLDIR COUNT UNIT CACHE_DIR JOB..."""
import os
import resource
import subprocess
import sys
import time

sluice, big, pol, n, unit, cache = sys.argv[1:7]
jobs = sys.argv[7:]
n = int(n)
mb = os.path.getsize(big) / 1e6
runs = int(os.environ.get("SLUICE_BENCH_RUNS", "3"))
w = max(len(j) for j in jobs + ["job"]) + 2
print("%-*s %7s %10s %12s %9s %8s %8s" % (w, "job", "threads", "wall s",
      unit + "/s", "MB/s", "cpu s", "speedup"))
for job in jobs:
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
        print("%-*s %7d %10.3f %12.0f %9.1f %8.2f %7.2fx" % (w, job, threads,
              best, n / best, mb / best, min(cpus), one / best))
