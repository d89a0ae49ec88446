#!/usr/bin/env python3
"""Tail latency of `sluice serve` at half the peak, repeated: for each
configuration (encoding, policies, threads) start the server, find the peak
(closed loop), then run the open loop at half of it REPEATS times on the
same server and report each run's client-side p50 / p99 (bench/serve_loadgen,
latency from the scheduled send time), the server-side p99 from
/metrics (sluice_request_duration_seconds for logs: from the request's first
byte to its answer handed to the socket; upper bucket bound), and how the
workers shared the work (CPU seconds per thread, from /proc/PID/task, by
the thread names serve sets: sl-worker-N, sl-export).
Usage: serve_tail.py SLUICE WORKDIR LOADGEN [REPEATS]
Environment: SLUICE_BENCH_SECONDS (5), SLUICE_BENCH_CONNS (4),
SLUICE_TAIL_CONFIGS ("protobuf:0:2,protobuf:100:2,protobuf:1000:2"),
SLUICE_TAIL_LOADGEN_PREFIX (e.g. "chrt -f 10" or "nice -n -5": run the
generator under it, to see how much of the client p99 is the generator
waiting for a core), SLUICE_TAIL_SERVE_PREFIX (the same for the server)."""
import os
import re
import shlex
import sys
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sluice, work, loadgen = sys.argv[1], sys.argv[2], sys.argv[3]
REPEATS = int(sys.argv[4]) if len(sys.argv) > 4 else 5
SECONDS = float(os.environ.get("SLUICE_BENCH_SECONDS", "5"))
CONNS = int(os.environ.get("SLUICE_BENCH_CONNS", "4"))
CONFIGS = os.environ.get("SLUICE_TAIL_CONFIGS",
                         "protobuf:0:2,protobuf:100:2,protobuf:1000:2")
PREFIX = shlex.split(os.environ.get("SLUICE_TAIL_LOADGEN_PREFIX", ""))
SPREFIX = shlex.split(os.environ.get("SLUICE_TAIL_SERVE_PREFIX", ""))
TICK = os.sysconf("SC_CLK_TCK")


def metrics(admin):
    text = urllib.request.urlopen("http://%s/metrics" % admin, timeout=10).read().decode()
    out = {}
    for l in text.splitlines():
        if l and not l.startswith("#"):
            k, v = l.rsplit(" ", 1)
            out[k] = float(v)
    return out


def server_p99(before, after):
    """The upper bound of the bucket holding the 99th percentile of the
    logs requests answered between two /metrics reads."""
    pat = re.compile(r'sluice_request_duration_seconds_bucket\{(?:signal="logs",)?le="([^"]+)"\}')
    rows = []
    for k, v in after.items():
        m = pat.fullmatch(k)
        if m:
            rows.append((float("inf") if m.group(1) == "+Inf" else float(m.group(1)),
                         v - before.get(k, 0)))
    rows.sort()
    if not rows or rows[-1][1] == 0:
        return None, None
    total = rows[-1][1]
    under1ms = next((n for le, n in rows if le >= 0.001), 0) / total
    for le, n in rows:
        if n >= 0.99 * total:
            return le * 1000, under1ms
    return None, None


def cpu(pid):
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            name = open("/proc/%d/task/%s/comm" % (pid, tid)).read().strip()
            f = open("/proc/%d/task/%s/stat" % (pid, tid)).read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[name] = out.get(name, 0) + (int(f[11]) + int(f[12])) / TICK
    return out


def main():
    import serve_load_inputs as inp
    jbody = inp.request_body(work)
    pbody = inp.proto_body(sluice, jbody, work)
    print("half-peak tail, %d repeats of %.0f s; client p99 from the scheduled send time; "
          "server p99 = bucket bound; cpu = seconds per thread during the run%s"
          % (REPEATS, SECONDS, "".join("; %s under '%s'" % (who, " ".join(p)) for who, p in
                  (("generator", PREFIX), ("server", SPREFIX)) if p)))
    for cfg in CONFIGS.split(","):
        enc, npol, threads = cfg.split(":")
        body, ctype = ((pbody, "application/x-protobuf") if enc == "protobuf"
                       else (jbody, "application/json"))
        pol = inp.policies(int(npol), work)
        proc, port, admin = inp.start_serve(sluice, pol, threads, prefix=SPREFIX)

        def load(extra):
            return inp.run_loadgen(loadgen, "http://127.0.0.1:%d/v1/logs" % port,
                                   body, ctype, SECONDS, extra, prefix=PREFIX)
        peak = load(["--conns", str(CONNS)])
        print("%s, %s policies, %s threads: peak %.2f M records/s" % (
            enc, npol, threads, peak["rps"] / 1000))
        for i in range(REPEATS):
            m0, c0 = metrics(admin), cpu(proc.pid)
            half = load(["--conns", str(2 * CONNS), "--rate", "%.1f" % (peak["rps"] / 2)])
            m1, c1 = metrics(admin), cpu(proc.pid)
            sp99, under = server_p99(m0, m1)
            split = " ".join("%s=%.2f" % (k, c1[k] - c0.get(k, 0)) for k in sorted(c1)
                             if c1[k] - c0.get(k, 0) >= 0.01)
            print("  run %d: client p50 %.2f p99 %.2f p99.9 %.2f ms; server p99 <= %s ms "
                  "(%.1f%% <= 1 ms); cpu %s" % (
                      i + 1, half["p50_ms"], half["p99_ms"], half["p999_ms"],
                      "%g" % sp99 if sp99 else "?", 100 * (under or 0), split), flush=True)
        proc.terminate()
        proc.communicate(timeout=60)


main()
