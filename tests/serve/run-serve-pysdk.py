#!/usr/bin/env python3
"""The OpenTelemetry Python SDK sends logs, spans and metrics to `sluice serve`.

Usage: run-serve-pysdk.py --sluice PATH --source REPO_DIR [--work DIR]

Installs tests/serve/py/requirements.txt (exact pins: opentelemetry-sdk and
the OTLP/HTTP protobuf and OTLP/gRPC exporters with every dependency) with
`python3 -m venv` + pip into --work/serve-py, cached and keyed by the
requirements file and the Python version; prints SKIP with the reason and
exits 0 when the venv or PyPI is not there. Then, for OTLP/HTTP protobuf and
OTLP/gRPC, each without and with gzip, runs tests/serve/py/send.py against a
server started by run-serve.py's Server (example policies, --output) and
checks what reached --output (and the records in / out counters of
/metrics) against what the SDK sent and what examples/policy/policies.json
says. Twice more (OTLP/HTTP gzip, OTLP/gRPC) the server forwards instead
(--forward, protobuf then JSON) to tests/serve/py/receive.py, a target that
decodes with opentelemetry-proto's generated classes, and what it received
is checked record by record the same way. Then both exporters over mutual
TLS (a CA and certificates made with the openssl CLI, as
run-serve-tls.py makes them): the server verifies the SDK's client
certificate, the SDK the server's, and the output is checked the same
way."""
import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("run_serve", os.path.join(HERE, "run-serve.py"))
rs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rs)
_spec = importlib.util.spec_from_file_location("run_serve_tls",
                                               os.path.join(HERE, "run-serve-tls.py"))
rtls = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rtls)


def py_client(work):
    """The venv python with the pinned SDK; None (after printing SKIP and
    the reason) when it cannot be installed."""
    req = os.path.join(HERE, "py", "requirements.txt")
    key = open(req, "rb").read() + sys.version.encode()
    venv = os.path.join(work, "serve-py")
    py = os.path.join(venv, "bin", "python")
    stamp = os.path.join(venv, ".sluice-requirements")
    if os.path.exists(stamp) and open(stamp, "rb").read() == key:
        return py
    shutil.rmtree(venv, ignore_errors=True)
    r = subprocess.run([sys.executable, "-m", "venv", venv], capture_output=True, text=True,
                       timeout=120)
    if r.returncode != 0:
        print("  SKIP: python3 -m venv failed (Debian python3-venv missing?): "
              + (r.stderr or r.stdout)[-300:])
        return None
    try:
        # wheels only: a failed download skips fast instead of compiling grpcio
        r = subprocess.run([py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                            "--only-binary=:all:", "-r", req],
                           capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        print("  SKIP: pip install timed out (PyPI unreachable?)")
        return None
    if r.returncode != 0:
        print("  SKIP: pip install failed (PyPI unreachable?): " + r.stderr[-300:])
        return None
    with open(stamp, "wb") as f:
        f.write(key)
    return py


def attrs(kvs):
    out = {}
    for kv in kvs or []:
        v = kv["value"]
        out[kv["key"]] = next(iter(v.values())) if v else None
    return out


def check_output(lines, label):
    text = b"".join(lines)
    logs, spans, metrics = [], [], {}
    for line in lines:
        d = json.loads(line)
        for key in ("resourceLogs", "resourceSpans", "resourceMetrics"):
            for r in d.get(key, []):
                res = attrs(r["resource"].get("attributes"))
                assert res.get("service.name") == "checkout", (label, res)
                assert res.get("telemetry.sdk.language") == "python", (label, res)
        for rl in d.get("resourceLogs", []):
            for sl in rl["scopeLogs"]:
                assert sl["scope"] == {"name": "sluice-sdk-test", "version": "1.0.0"}, sl["scope"]
                logs += sl["logRecords"]
        for rs_ in d.get("resourceSpans", []):
            for ss in rs_["scopeSpans"]:
                spans += ss["spans"]
        for rm in d.get("resourceMetrics", []):
            for sm in rm["scopeMetrics"]:
                for m in sm["metrics"]:
                    metrics[m["name"]] = m
    # logs: drop-debug-logs drops the two DEBUG records; redact-credentials
    # rewrites e-mail addresses and bearer tokens in bodies, redacts
    # enduser.id, removes session.token and adds redaction.policy=v1
    by_body = {lr["body"]["stringValue"]: lr for lr in logs}
    assert sorted(by_body) == ["auth with Bearer [REDACTED]", "boom",
                               "order placed by <email>@shop.example"], (label, sorted(by_body))
    order = by_body["order placed by <email>@shop.example"]
    assert order["severityText"] == "INFO" and order["severityNumber"] == 9, (label, order)
    assert attrs(order["attributes"]) == {"enduser.id": "[REDACTED]", "order.items": "3",
                                          "redaction.policy": "v1"}, (label, order)
    boom = by_body["boom"]
    assert boom["severityText"] == "ERROR" and boom["severityNumber"] == 17, (label, boom)
    assert attrs(boom["attributes"]) == {"retry": True, "attempt": "3",
                                         "redaction.policy": "v1"}, (label, boom)
    assert attrs(by_body["auth with Bearer [REDACTED]"]["attributes"]) == {
        "http.route": "/api/pay", "redaction.policy": "v1"}, label
    for secret in (b"alice@example.com", b"bob@shop", b"s3cr3t", b"abc.DEF-123", b"cache hit"):
        assert secret not in text, (label, secret)
    # spans: sample-health-spans keeps ~10% of the 20 GET /healthz spans (by
    # trace id); keep-error-spans keeps the failed one; the other is kept
    names = sorted(sp["name"] for sp in spans if sp["name"] != "GET /healthz")
    assert names == ["GET /api/cart", "POST /api/orders"], (label, names)
    health = sum(1 for sp in spans if sp["name"] == "GET /healthz")
    assert health < 20, (label, "every health-check span kept", health)
    failed = next(sp for sp in spans if sp["name"] == "POST /api/orders")
    assert failed["status"] == {"message": "out of stock", "code": 2}, (label, failed)
    assert failed["kind"] == 2 and len(failed["traceId"]) == 32 and len(failed["spanId"]) == 16
    assert attrs(failed["attributes"]) == {"http.route": "/api/orders"}, (label, failed)
    # metrics: drop-debug-metrics drops debug.cache.hits, drop-health-metrics
    # the healthcheck.up gauge
    assert sorted(metrics) == ["http.server.duration", "orders.placed"], (label, sorted(metrics))
    pts = metrics["orders.placed"]["sum"]["dataPoints"]
    assert len(pts) == 1 and pts[0]["asInt"] == "7", (label, pts)
    assert attrs(pts[0]["attributes"]) == {"region": "eu"}, (label, pts)
    assert metrics["orders.placed"]["sum"]["isMonotonic"] is True, label
    hist = metrics["http.server.duration"]
    assert hist["unit"] == "ms", (label, hist)
    hp = hist["histogram"]["dataPoints"]
    assert len(hp) == 1 and hp[0]["count"] == "1" and hp[0]["sum"] == 12.5, (label, hp)
    return len(logs), len(spans), len(metrics)


def receiver(py, out):
    """tests/serve/py/receive.py in the venv: a forwarding target decoding
    with opentelemetry-proto's generated classes; (process, port)."""
    p = subprocess.Popen([py, os.path.join(HERE, "py", "receive.py"), out],
                         stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    assert line.startswith("port "), ("receive.py did not start", line)
    return p, int(line.split()[1])


def run_case(py, proto, comp, forward=None, tls=False):
    """The SDK sends over proto (http / grpc) with comp (over mutual TLS
    with tls); sluice serve writes --output, or with forward ("protobuf" /
    "json") forwards to receive.py. Check what arrived, record by record,
    and the /metrics counters."""
    label = proto + "/" + comp + ("" if not forward else " -> forward " + forward) + \
        (" over mutual TLS" if tls else "")
    tmp = tempfile.mkdtemp(prefix="sluice-pysdk-")
    recv = None
    s = None
    try:
        if forward:
            out = os.path.join(tmp, "received.jsonl")
            recv, port = receiver(py, out)
            args = ["--forward", "http://127.0.0.1:%d" % port]
            s = rs.Server(args + (["--forward-protobuf"] if forward == "protobuf" else []),
                          output=False)
        else:
            s = rs.Server(rtls.tls_flags(mtls=True) if tls else [])
        addr = ("http://%s:%d" % s.http) if proto == "http" else s.addrs[1]
        extra = []
        if tls:  # by name: the certificate is for localhost
            port = s.http[1] if proto == "http" else int(s.addrs[1].rsplit(":", 1)[1])
            addr = ("https://localhost:%d" if proto == "http" else "localhost:%d") % port
            extra = [rtls.p("ca.pem"), rtls.p("client.pem"), rtls.p("client.key")]
        r = subprocess.run([py, os.path.join(HERE, "py", "send.py"), proto, addr, comp] + extra,
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, (label, r.stdout, r.stderr[-1500:])
        m = lambda k, sig: s.metric('sluice_%s_total{signal="%s"}' % (k, sig))
        counted = {sig: (m("records_in", sig), m("records_out", sig))
                   for sig in ("logs", "traces", "metrics")}
        assert s.stop() == 0, label  # the drain delivers the forward queue
        if forward:
            with open(out, "rb") as f:
                lines = f.read().splitlines()
            assert lines, (label, "nothing reached the forwarding target")
        else:
            lines = s.output_lines()
        n = check_output(lines, label)
        # /metrics counted every record the SDK sent and what was kept
        assert counted == {"logs": (5, n[0]), "traces": (22, n[1]),
                           "metrics": (4, n[2])}, (label, counted, n)
        print("  %s: SDK exports succeeded; %d logs, %d spans, %d metrics reached %s "
              "as the policies say" % ((label,) + n + (
                  "the forwarding target" if forward else "--output",)))
    finally:
        if s:
            s.close()
        if recv:
            recv.kill()
            recv.wait()
        shutil.rmtree(tmp, ignore_errors=True)


def test_opentelemetry_python_sdk_sends_logs_spans_metrics_over_http_and_grpc():
    py = py_client(rs.ARGS.work)
    if not py:
        return "skipped"
    for proto in ("http", "grpc"):
        for comp in ("none", "gzip"):
            run_case(py, proto, comp)
    # what --forward sends, decoded by opentelemetry-proto (protobuf) or
    # json (OTLP JSON) at the target, checked as --output is
    run_case(py, "http", "gzip", forward="protobuf")
    run_case(py, "grpc", "none", forward="json")
    # TLS receivers: the SDK's OTLP/HTTP (certificate_file and a client
    # certificate) and OTLP/gRPC (ssl_channel_credentials) exporters
    try:
        run_case(py, "http", "gzip", tls=True)
        run_case(py, "grpc", "gzip", tls=True)
    finally:
        if rtls.PKI:
            shutil.rmtree(rtls.PKI, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sluice", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--work", default=tempfile.gettempdir())
    rs.ARGS = ap.parse_args()
    name = "test_opentelemetry_python_sdk_sends_logs_spans_metrics_over_http_and_grpc"
    t0 = time.time()
    try:
        if globals()[name]() == "skipped":
            print("SKIP %s (%.1fs)" % (name, time.time() - t0), flush=True)
            return 0
    except Exception as e:  # noqa: BLE001 - report the failure
        import traceback
        traceback.print_exc(limit=3)
        print("FAIL %s: %s" % (name, str(e)[:600]), flush=True)
        return 1
    print("PASS %s (%.1fs)" % (name, time.time() - t0), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
