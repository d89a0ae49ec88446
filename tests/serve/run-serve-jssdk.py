#!/usr/bin/env python3
"""The OpenTelemetry JS SDK sends logs, spans and metrics to `sluice serve`.

Usage: run-serve-jssdk.py --sluice PATH --source REPO_DIR --shared SHARED [--work DIR]

Installs tests/serve/js/package-lock.json (every @opentelemetry package
pinned exactly: sdk-logs, sdk-trace, sdk-metrics and the -otlp-http and
-otlp-proto exporters) with `npm ci` into --work/serve-js, cached and keyed
by the lock file. Then, for the OTLP/HTTP JSON (-otlp-http) and OTLP/HTTP
protobuf (-otlp-proto) exporters, each with gzip off and on, runs
tests/serve/js/send.js twice against a server started by run-serve.py's
Server with tests/serve/js/sdk-policies.json: once with --output, once with
--forward --forward-protobuf to run-serve.py's Target, whose bodies are
decoded here by Python's protobuf package (code protoc generates from the
shared OTLP .proto files, as tests/conformance/run-otlp-proto.py does).
Each record that reached --output or the target is checked against what
the SDK handed its exporter (send.js prints it) and what the policies say:
DEBUG logs dropped, the end user redacted, the session token removed and
redaction.policy added, the health-check span dropped, the debug counter
and the health-check gauge dropped, everything else unchanged; /metrics
counted every record in and the kept ones out.

Exits 77 (ctest SKIP) printing the reason when node >= 20 / npm, the
registry or the .proto files are not there (Debian 12 ships node 18)."""
import argparse
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


rs = load("run_serve", os.path.join(HERE, "run-serve.py"))
otlp_proto = load("run_otlp_proto", os.path.join(HERE, "..", "conformance", "run-otlp-proto.py"))
ARGS = None
SKIP = 77


class Skip(Exception):
    pass


def js_client(work):
    """The pinned JS SDK client installed under work; raises Skip with the
    reason when it cannot be installed."""
    if not shutil.which("node") or not shutil.which("npm"):
        raise Skip("node / npm not installed")
    ver = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout
    m = re.match(r"v(\d+)\.", ver)
    if not m or int(m.group(1)) < 20:
        # the SDK declares node >= 22.15; it runs on 20, not on Debian 12's 18
        raise Skip("node %s is older than 20, which the JS SDK needs" % ver.strip())
    src = os.path.join(HERE, "js")
    dst = os.path.join(work, "serve-js")
    os.makedirs(dst, exist_ok=True)
    lock = open(os.path.join(src, "package-lock.json"), "rb").read()
    stamp = os.path.join(dst, "node_modules", ".sluice-lock")
    if not (os.path.exists(stamp) and open(stamp, "rb").read() == lock):
        for f in ("package.json", "package-lock.json"):
            shutil.copy(os.path.join(src, f), dst)
        try:
            r = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                               cwd=dst, capture_output=True, text=True, timeout=600)
        except subprocess.TimeoutExpired:
            raise Skip("npm ci timed out (registry unreachable?)")
        if r.returncode != 0:
            raise Skip("npm ci failed (registry unreachable?): " + r.stderr[-300:])
        with open(stamp, "wb") as f:
            f.write(lock)
    shutil.copy(os.path.join(src, "send.js"), dst)
    return os.path.join(dst, "send.js")


def protobuf_decoder(work, shared):
    """path -> (protobuf bytes -> OTLP/JSON dict), from protoc-generated code."""
    root = os.path.join(shared, "conformance/otlp/opentelemetry-proto/proto")
    if not os.path.isdir(root):
        raise Skip("no OTLP .proto files at " + root)
    try:
        from google.protobuf import json_format
    except ImportError:
        raise Skip("no google.protobuf (Debian python3-protobuf)")
    otlp_proto.generate(os.path.join(work, "serve-js-proto"), root)
    from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
    from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
    req = {"/v1/logs": logs_service_pb2.ExportLogsServiceRequest,
           "/v1/metrics": metrics_service_pb2.ExportMetricsServiceRequest,
           "/v1/traces": trace_service_pb2.ExportTraceServiceRequest}

    def decode(path, data):
        m = req[path]()
        m.ParseFromString(data)
        return otlp_proto.hex_ids(json_format.MessageToDict(m, use_integers_for_enums=True))
    return decode


# ---- what the policies in tests/serve/js/sdk-policies.json say -----------

def value(v):
    """An OTLP/JSON AnyValue as the JS value the SDK was given."""
    if "intValue" in v:
        return int(v["intValue"])
    if "doubleValue" in v:
        return float(v["doubleValue"])
    return next(iter(v.values())) if v else None


def attrs(kvs):
    return {kv["key"]: value(kv["value"]) for kv in kvs or []}


def expected(sent):
    logs = []
    for r in sent["logs"]:
        if r["severityText"] == "DEBUG":  # drop-debug
            continue
        a = dict(r["attributes"])
        if "enduser.id" in a:  # redact-user
            a.pop("session.token", None)
            a["enduser.id"] = "[REDACTED]"
            a["redaction.policy"] = "v1"
        logs.append(dict(r, attributes=a))
    spans = [s for s in sent["spans"] if s["attributes"].get("http.route") != "/healthz"]
    metrics = [m for m in sent["metrics"] if not m["name"].startswith("debug.") and
               not (m["name"].startswith("healthcheck.") and m["dataPointType"] == 2)]
    return logs, spans, metrics


JS_POINT_TYPE = {0: "histogram", 2: "gauge", 3: "sum"}  # sdk-metrics DataPointType


def check(docs, sent, label):
    """docs: the OTLP/JSON requests that came out; each record against what
    the SDK sent and the policies say. Returns (logs, spans, metrics) kept."""
    logs, spans, metrics = [], [], []
    for d in docs:
        for key in ("resourceLogs", "resourceSpans", "resourceMetrics"):
            for r in d.get(key, []):
                res = attrs(r["resource"].get("attributes"))
                assert res.get("service.name") == "checkout", (label, res)
                assert res.get("telemetry.sdk.language") == "nodejs", (label, res)
                inner = {"resourceLogs": ("scopeLogs", "logRecords", logs),
                         "resourceSpans": ("scopeSpans", "spans", spans),
                         "resourceMetrics": ("scopeMetrics", "metrics", metrics)}[key]
                for sc in r.get(inner[0], []):
                    assert sc["scope"] == {"name": "sluice-sdk-test", "version": "1.0.0"}, \
                        (label, sc["scope"])
                    inner[2].extend(sc.get(inner[1], []))
    want_logs, want_spans, want_metrics = expected(sent)
    got = sorted(({"body": lr["body"]["stringValue"], "severityText": lr["severityText"],
                   "severityNumber": lr["severityNumber"], "attributes": attrs(lr.get("attributes"))}
                  for lr in logs), key=lambda r: r["body"])
    assert got == sorted(want_logs, key=lambda r: r["body"]), (label, got, want_logs)
    got = sorted(({"name": sp["name"], "traceId": sp["traceId"], "spanId": sp["spanId"],
                   "kind": sp.get("kind", 0) - 1, "attributes": attrs(sp.get("attributes"))}
                  for sp in spans), key=lambda s: s["name"])
    assert got == sorted(want_spans, key=lambda s: s["name"]), (label, got, want_spans)
    by_name = {m["name"]: m for m in metrics}
    assert sorted(by_name) == sorted(m["name"] for m in want_metrics), (label, sorted(by_name))
    for w in want_metrics:
        m = by_name[w["name"]]
        kind = JS_POINT_TYPE[w["dataPointType"]]
        assert kind in m, (label, w["name"], kind, m)
        assert m.get("unit", "") == w["unit"], (label, m)
        pts = m[kind]["dataPoints"]
        assert len(pts) == len(w["points"]) == 1, (label, pts, w)
        p, wp = pts[0], w["points"][0]
        assert attrs(p.get("attributes")) == wp["attributes"], (label, p, wp)
        if kind == "histogram":
            assert (int(p["count"]), p["sum"]) == (wp["value"]["count"], wp["value"]["sum"]), \
                (label, p, wp)
        else:
            got_v = float(p["asInt"]) if "asInt" in p else p["asDouble"]
            assert got_v == wp["value"], (label, p, wp)
    return len(logs), len(spans), len(metrics)


def run_case(script, encoding, comp, sink, decode):
    label = "%s/%s/%s" % (encoding, comp, sink)
    pol = os.path.join(HERE, "js", "sdk-policies.json")
    target = None
    if sink == "forward":
        port = rs.free_port()
        target = rs.Target(port)
        s = rs.Server(["--forward", "http://127.0.0.1:%d" % port, "--forward-protobuf"],
                      policies=pol, output=False)
    else:
        s = rs.Server([], policies=pol)
    try:
        base = "http://%s:%d" % s.http
        r = subprocess.run(["node", script, base, encoding, comp], capture_output=True,
                           text=True, timeout=120)
        assert r.returncode == 0, (label, r.stdout[-1500:], r.stderr[-1500:])
        sent = json.loads(r.stdout.strip().splitlines()[-1])["sent"]
        assert (len(sent["logs"]), len(sent["spans"]), len(sent["metrics"])) == (5, 3, 5), \
            (label, sent)
        m = lambda k, sig: s.metric('sluice_%s_total{signal="%s"}' % (k, sig))
        counted = {sig: (m("records_in", sig), m("records_out", sig))
                   for sig in ("logs", "traces", "metrics")}
        assert s.stop() == 0, label
        if target:
            with target.lock:
                bodies, types = list(target.bodies), list(target.types)
            assert set(types) == {"application/x-protobuf"}, (label, types)
            docs = [decode(path, body) for path, body in bodies]
        else:
            docs = [json.loads(line) for line in s.output_lines()]
        n = check(docs, sent, label)
        assert counted == {"logs": (5, n[0]), "traces": (3, n[1]), "metrics": (5, n[2])}, \
            (label, counted, n)
        print("  %s: SDK exports succeeded; %d logs, %d spans, %d metrics reached --%s "
              "as the SDK sent them and the policies say" % ((label,) + n + (sink,)), flush=True)
    finally:
        s.close()
        if target:
            target.close()


def test_opentelemetry_js_sdk_sends_logs_spans_metrics_over_otlp_http_json_and_protobuf():
    script = js_client(ARGS.work)
    decode = protobuf_decoder(ARGS.work, ARGS.shared)
    for encoding in ("json", "proto"):
        for comp in ("none", "gzip"):
            for sink in ("output", "forward"):
                run_case(script, encoding, comp, sink, decode)


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--sluice", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--shared", required=True)
    ap.add_argument("--work", default=tempfile.gettempdir())
    ARGS = rs.ARGS = ap.parse_args()
    name = "test_opentelemetry_js_sdk_sends_logs_spans_metrics_over_otlp_http_json_and_protobuf"
    t0 = time.time()
    try:
        globals()[name]()
    except Skip as e:
        print("SKIP %s: %s" % (name, e), flush=True)
        return SKIP
    except Exception as e:  # noqa: BLE001 - report the failure
        import traceback
        traceback.print_exc(limit=3)
        print("FAIL %s: %s" % (name, str(e)[:1500]), flush=True)
        return 1
    print("PASS %s (%.1fs)" % (name, time.time() - t0), flush=True)
    return 0


if __name__ == "__main__":
    try:
        otlp_proto.debian_python()  # Debian's python3-protobuf decodes forwarded bodies
    except ImportError:
        pass  # reported as a SKIP when the decoder is needed
    sys.exit(main())
