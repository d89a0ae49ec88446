#!/usr/bin/env python3
"""Load `sluice serve` over loopback with h2load and print one row per
configuration: policies, threads, records/s at peak (closed loop, 4
connections), p50 / p99 latency at peak, p99 at half the peak request rate
(h2load --rps), peak RSS.
Requests are pre-encoded OTLP/JSON and OTLP/protobuf (the same request,
converted by `sluice convert`) of 1,000 log records (the examples'
web-service mix, from gen_otlp_logs.py's generator). Policies: none, 100
and 1,000 generated log policies (contains / regex matchers on body and
attributes, keep all / none / sampled). Usage: serve_load.py SLUICE WORKDIR
Environment: SLUICE_BENCH_REQUESTS (default 400), SLUICE_BENCH_CONNS (4)."""
import json
import os
import re
import subprocess
import sys
import tempfile
import time

sluice, work = sys.argv[1], sys.argv[2]
N = int(os.environ.get("SLUICE_BENCH_REQUESTS", "400"))
CONNS = int(os.environ.get("SLUICE_BENCH_CONNS", "4"))
here = os.path.dirname(os.path.abspath(__file__))


def request_body():
    path = os.path.join(work, "bench-serve-src.jsonl")
    subprocess.run([sys.executable, os.path.join(here, "gen_otlp_logs.py"), path, "2"],
                   check=True)
    lines = open(path).read().splitlines()
    req = {"resourceLogs": []}
    n = 0
    for l in lines:
        d = json.loads(l)
        for rl in d["resourceLogs"]:
            for sl in rl["scopeLogs"]:
                take = min(len(sl["logRecords"]), 1000 - n)
                sl["logRecords"] = sl["logRecords"][:take]
                n += take
            req["resourceLogs"].append(rl)
            if n >= 1000:
                break
        if n >= 1000:
            break
    assert n == 1000, n
    out = os.path.join(work, "bench-serve-1000.json")
    with open(out, "w") as f:
        json.dump(req, f, separators=(",", ":"))
    return out


def policies(n):
    pols = []
    words = ["cache", "healthz", "payment", "login", "cart", "orders", "timeout",
             "refused", "token", "retry"]
    for i in range(n):
        w = words[i % len(words)] + ("%d" % i if i >= len(words) else "")
        m = ({"log_field": "body", "contains": w} if i % 3 else
             {"log_attribute": "http.route", "regex": "^/%s.*" % w})
        keep = ["all", "none", "50%"][i % 3]
        pols.append({"id": "p%04d" % i, "name": "p%d" % i,
                     "log": {"match": [m], "keep": keep}})
    path = os.path.join(work, "bench-serve-policies-%d.json" % n)
    with open(path, "w") as f:
        json.dump({"policies": pols}, f)
    return path


def percentile(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100.0 * len(xs)))]


def proto_body(json_path):
    out = os.path.join(work, "bench-serve-1000.pb")
    subprocess.run([sluice, "convert", "--from", "otlp-json", "--to", "otlp-proto",
                    json_path, out], check=True)
    return out


def run(body, ctype, pol, threads):
    err = tempfile.TemporaryFile(mode="w+")
    proc = subprocess.Popen([sluice, "serve", "--policies", pol, "--http", "127.0.0.1:0",
                             "--grpc", "127.0.0.1:0", "--admin", "127.0.0.1:0",
                             "--threads", str(threads), "--output", "/dev/null"],
                            stderr=subprocess.PIPE, text=True)
    port = None
    for line in proc.stderr:
        m = re.search(r"ready http=[^ ]*:(\d+) ", line)
        if m:
            port = int(m.group(1))
            break
    assert port, "no ready line"

    def load(extra):
        log = os.path.join(work, "bench-serve-h2load.log")
        t = time.monotonic()
        r = subprocess.run(["h2load", "--h1", "-n", str(N), "-c", str(CONNS), "-d", body,
                            "-H", "content-type: " + ctype, "--log-file", log]
                           + extra + ["http://127.0.0.1:%d/v1/logs" % port],
                           capture_output=True, text=True, timeout=600)
        wall = time.monotonic() - t
        m = re.search(r"finished in ([\d.]+)(m?s), ([\d.]+) req/s", r.stdout)
        ok = re.search(r"status codes: (\d+) 2xx", r.stdout)
        lat = []
        for line in open(log):
            parts = line.split()
            if len(parts) >= 3 and parts[1] == "200":
                lat.append(int(parts[2]))
        return (float(m.group(3)) if m else N / wall,
                int(ok.group(1)) if ok else 0, lat or [0])

    rps, ok, lat = load([])
    # half the peak request rate, spread over the connections
    half = max(1, int(rps / 2 / CONNS))
    _, ok_half, lat_half = load(["--rps", str(half)])
    with open("/proc/%d/status" % proc.pid) as f:
        hwm = [l for l in f if l.startswith("VmHWM")][0].split()[1]
    proc.terminate()
    proc.communicate(timeout=60)
    return {"rps": rps, "ok": ok + ok_half, "lat": lat, "lat_half": lat_half,
            "rss_mb": int(hwm) / 1024.0}


jbody = request_body()
pbody = proto_body(jbody)
print("request: %d bytes of JSON / %d of protobuf, 1000 log records; %d requests "
      "over %d connections" % (os.path.getsize(jbody), os.path.getsize(pbody), N, CONNS))
print("%-9s %-9s %-7s %12s %8s %8s %13s %7s %6s" % (
    "encoding", "policies", "threads", "records/s", "p50 ms", "p99 ms", "p99@half ms",
    "RSS MB", "2xx"))
for enc, body, ctype in (("protobuf", pbody, "application/x-protobuf"),
                         ("json", jbody, "application/json")):
  for npol in (0, 100, 1000):
    pol = policies(npol)
    for threads in (1, 2):
        res = run(body, ctype, pol, threads)
        lat = res["lat"]
        print("%-9s %-9d %-7d %12.0f %8.2f %8.2f %13.2f %7.1f %6d" % (
            enc, npol, threads, res["rps"] * 1000, percentile(lat, 50) / 1000.0,
            percentile(lat, 99) / 1000.0, percentile(res["lat_half"], 99) / 1000.0,
            res["rss_mb"], res["ok"]), flush=True)
