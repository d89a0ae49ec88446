"""The inputs of the serve benchmarks (serve_load.py, serve_tail.py): a
1,000-record OTLP/JSON logs request from gen_otlp_logs.py's generator, the
same request as protobuf (`sluice convert`), and N generated log policies
(contains / regex matchers on body and attributes, keep all / none /
sampled). Each writes its file under WORK and returns the path. And
start_serve: a server on free ports for them to load, and run_loadgen:
one bench/serve_loadgen run against it."""
import json
import os
import re
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))


def request_body(work):
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


def policies(n, work):
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


def proto_body(sluice, json_path, work):
    out = os.path.join(work, "bench-serve-1000.pb")
    subprocess.run([sluice, "convert", "--from", "otlp-json", "--to", "otlp-proto",
                    json_path, out], check=True)
    return out


def start_serve(sluice, pol, threads, extra=(), prefix=()):
    """`sluice serve` with pol on free ports, --output /dev/null, threads
    workers (prefix: e.g. ["chrt", "-f", "10"]); (process, HTTP port, admin
    HOST:PORT) once its ready line is out."""
    proc = subprocess.Popen(list(prefix) + [
        sluice, "serve", "--policies", pol, "--http", "127.0.0.1:0",
        "--grpc", "127.0.0.1:0", "--admin", "127.0.0.1:0",
        "--threads", str(threads), "--output", "/dev/null"] + list(extra),
        stderr=subprocess.PIPE, text=True)
    for line in proc.stderr:
        m = re.search(r"ready http=[^ ]*:(\d+) .*admin=(\S+)", line)
        if m:
            return proc, int(m.group(1)), m.group(2)
    proc.kill()
    raise AssertionError("sluice serve gave no ready line")


def run_loadgen(loadgen, url, body, ctype, seconds, extra, prefix=()):
    """bench/serve_loadgen against url for seconds, with body (a file) as
    ctype (None: the generator's default) and extra arguments (--conns,
    --rate); its JSON report."""
    typ = ["--type", ctype] if ctype else []
    r = subprocess.run(list(prefix) + [
        loadgen, "--url", url, "--body", body, "--duration", str(seconds)] +
        typ + extra, capture_output=True, text=True, timeout=seconds + 120)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)
