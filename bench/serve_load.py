#!/usr/bin/env python3
"""Load `sluice serve` over loopback with bench/serve_loadgen (C, epoll,
HTTP/1.1 keep-alive) and print one row per configuration: policies,
threads, records/s at peak (closed loop, CONNS connections), p50 / p99 at
the peak, p50 / p99 at half the peak (open loop: arrivals scheduled evenly
at half the peak request rate across 2 x CONNS connections, latency from
each request's scheduled time, so queueing is not hidden), peak RSS.
Requests are pre-encoded OTLP/JSON and OTLP/protobuf (the same request,
converted by `sluice convert`) of 1,000 log records (the examples'
web-service mix, from gen_otlp_logs.py's generator). Policies: none, 100
and 1,000 generated log policies (contains / regex matchers on body and
attributes, keep all / none / sampled).
Usage: serve_load.py SLUICE WORKDIR LOADGEN [--smoke]
--smoke: one short run (protobuf, 0 policies, 1 thread; the disk queue in
batch mode) that checks the tool works end to end, and a check against a
stub server of 50 ms per request that the open loop reports the queueing
a closed loop hides (ctest serve_loadgen_smoke); exit 1 when a request
failed, none completed, or the queueing does not show.
Environment: SLUICE_BENCH_SECONDS (default 5 per run), SLUICE_BENCH_CONNS (4),
SLUICE_BENCH_PART (engine, queue or both: which table; default both)."""
import json
import os
import shutil
import sys
import tempfile
import time

sluice, work, loadgen = sys.argv[1], sys.argv[2], sys.argv[3]
SMOKE = "--smoke" in sys.argv[4:]
SECONDS = float(os.environ.get("SLUICE_BENCH_SECONDS", "1" if SMOKE else "5"))
CONNS = int(os.environ.get("SLUICE_BENCH_CONNS", "4"))
PART = os.environ.get("SLUICE_BENCH_PART", "both")
here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import serve_load_inputs as inputs  # noqa: E402


def policies(n):
    return inputs.policies(n, work)


def metrics(admin):
    import urllib.request
    text = urllib.request.urlopen("http://%s/metrics" % admin, timeout=10).read().decode()
    return {l.split()[0]: float(l.split()[1]) for l in text.splitlines()
            if l and not l.startswith("#")}


def run(body, ctype, pol, threads, extra=()):
    proc, port, admin = inputs.start_serve(sluice, pol, threads, extra)

    def load(extra):
        return inputs.run_loadgen(loadgen, "http://127.0.0.1:%d/v1/logs" % port,
                                  body, ctype, SECONDS, extra)

    peak = load(["--conns", str(CONNS)])
    half = load(["--conns", str(2 * CONNS), "--rate", "%.1f" % (peak["rps"] / 2)])
    with open("/proc/%d/status" % proc.pid) as f:
        hwm = [l for l in f if l.startswith("VmHWM")][0].split()[1]
    peak["metrics"] = metrics(admin)
    proc.terminate()
    proc.communicate(timeout=60)
    return peak, half, int(hwm) / 1024.0


jbody = inputs.request_body(work)
pbody = inputs.proto_body(sluice, jbody, work)
print("request: %d bytes of JSON / %d of protobuf, 1000 log records; %.0f s per run; "
      "peak: closed loop over %d connections; half: open loop, even arrivals at half "
      "the peak rate over %d connections, latency from the scheduled send time"
      % (os.path.getsize(jbody), os.path.getsize(pbody), SECONDS, CONNS, 2 * CONNS))
print("%-9s %-9s %-7s %12s %8s %8s %9s %9s %7s %9s" % (
    "encoding", "policies", "threads", "records/s", "p50 ms", "p99 ms", "p50@half",
    "p99@half", "RSS MB", "failed"))
configs = [("protobuf", pbody, "application/x-protobuf", 0, 1)] if SMOKE else [
    (enc, body, ctype, npol, threads)
    for enc, body, ctype in (("protobuf", pbody, "application/x-protobuf"),
                             ("json", jbody, "application/json"))
    for npol in (0, 100, 1000) for threads in (1, 2)] if PART != "queue" else []
bad = 0
for enc, body, ctype, npol, threads in configs:
    peak, half, rss = run(body, ctype, policies(npol), threads)
    failed = sum(x["other"] + x["errors"] + x["unsent"] for x in (peak, half))
    bad += failed + (peak["completed"] == 0) + (half["completed"] == 0)
    print("%-9s %-9d %-7d %12.0f %8.2f %8.2f %9.2f %9.2f %7.1f %9d" % (
        enc, npol, threads, peak["rps"] * 1000, peak["p50_ms"], peak["p99_ms"],
        half["p50_ms"], half["p99_ms"], rss, failed), flush=True)
    if SMOKE:
        peak.pop("metrics")
        print("peak: " + json.dumps(peak))
        print("half: " + json.dumps(half))

# Where the export queue lives: in memory, or --queue-dir with each
# --queue-fsync mode (group commit: appends per fdatasync). Protobuf, 100
# policies (none in --smoke), 2 threads, 2 x CONNS connections at the peak.
print("export queue (protobuf, %d policies, 2 threads, --output /dev/null)"
      % (0 if SMOKE else 100))
print("%-14s %12s %8s %8s %9s %9s %9s %14s" % (
    "queue", "records/s", "p50 ms", "p99 ms", "p50@half", "p99@half", "failed",
    "appends/sync"))
qdir = os.path.join(work, "bench-serve-queue")
for label, extra in ([] if PART == "engine" else
                     [("disk batch", ["--queue-fsync", "batch"])] if SMOKE else
                     [("memory", None), ("disk never", ["--queue-fsync", "never"]),
                      ("disk batch", ["--queue-fsync", "batch"]),
                      ("disk always", ["--queue-fsync", "always"]),
                      ("disk batch 8t", ["--queue-fsync", "batch", "--threads", "8"])]):
    shutil.rmtree(qdir, ignore_errors=True)
    args = [] if extra is None else ["--queue-dir", qdir] + extra
    save = CONNS
    CONNS = 2 * save
    peak, half, rss = run(pbody, "application/x-protobuf", policies(0 if SMOKE else 100), 2,
                          args)
    CONNS = save
    m = peak["metrics"]
    syncs = m.get("sluice_spool_syncs_total", 0)
    appends = m.get("sluice_spool_appends_total", 0)
    failed = sum(x["other"] + x["errors"] + x["unsent"] for x in (peak, half))
    bad += failed + (peak["completed"] == 0)
    if SMOKE and extra is not None:
        bad += appends == 0 or syncs == 0
    print("%-14s %12.0f %8.2f %8.2f %9.2f %9.2f %9d %14s" % (
        label, peak["rps"] * 1000, peak["p50_ms"], peak["p99_ms"], half["p50_ms"],
        half["p99_ms"], failed, "%.2f" % (appends / syncs) if syncs else "-"), flush=True)
shutil.rmtree(qdir, ignore_errors=True)


def check_no_coordinated_omission():
    """--smoke: the open loop counts queueing. A stub server answers one
    request at a time after 50 ms (capacity 20 requests/s); offered 40/s
    for 2 s on one connection, later arrivals wait behind earlier ones, so
    their latency from the scheduled send time grows toward a second. A
    generator that timed from the actual send (or slowed its arrivals to
    the server, as a closed loop does) would report about 50 ms. Closed
    loop on the same stub: about 50 ms, 20/s."""
    import http.server
    import threading

    class Slow(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            time.sleep(0.05)
            # one write: no Nagle / delayed-ACK pause between head and body
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")

        def log_message(self, *a):
            pass

    srv = http.server.HTTPServer(("127.0.0.1", 0), Slow)  # one at a time
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = "http://127.0.0.1:%d/v1/logs" % srv.server_address[1]
    body = os.path.join(work, "bench-serve-tiny.json")
    with open(body, "w") as f:
        f.write("{}")

    def gen(extra):
        return inputs.run_loadgen(loadgen, url, body, None, 2, ["--conns", "1"] + extra)
    closed = gen([])
    opened = gen(["--rate", "40"])
    srv.shutdown()
    print("stub 50 ms/request: closed loop %.1f req/s p50 %.1f ms; open loop at 40/s: "
          "p50 %.1f ms, p99 %.1f ms, max send lag %.1f ms" % (
              closed["rps"], closed["p50_ms"], opened["p50_ms"], opened["p99_ms"],
              opened["max_send_lag_ms"]))
    ok = (closed["p50_ms"] >= 45 and closed["rps"] <= 21 and opened["scheduled"] >= 70
          and opened["p99_ms"] > 400 and opened["max_send_lag_ms"] > 300)
    if not ok:
        print("open loop does not show the queueing: " + json.dumps([closed, opened]))
    return ok


if SMOKE and not check_no_coordinated_omission():
    bad += 1
sys.exit(1 if SMOKE and bad else 0)
