#!/usr/bin/env python3
"""Generate the bundled OTLP/JSON examples of a small web service (shop-api
behind an nginx ingress, with a postgres client and a payment worker).

Deterministic (fixed seed), so the committed files never need regenerating:
    python3 examples/policy/generate.py examples/policy

Writes logs.jsonl (300 log records), metrics.jsonl (88 metrics) and
spans.jsonl (231 spans), one OTLP export request per line. The data holds
what the example policies act on: DEBUG chatter, health-check probes, an
error storm ("connection refused" from the payment worker), bearer tokens
and e-mail addresses in log bodies and attributes."""
import json
import os
import random
import sys

rnd = random.Random(20261123)
T0 = 1763900000000000000  # ns


def hexid(n):
    return "".join(rnd.choice("0123456789abcdef") for _ in range(n))


def attr(k, v):
    if isinstance(v, bool):
        return {"key": k, "value": {"boolValue": v}}
    if isinstance(v, int):
        return {"key": k, "value": {"intValue": str(v)}}
    if isinstance(v, float):
        return {"key": k, "value": {"doubleValue": v}}
    return {"key": k, "value": {"stringValue": v}}


def resource(service, extra=()):
    return {"attributes": [attr("service.name", service),
                           attr("service.version", "1.4.2"),
                           attr("deployment.environment", "production")]
            + [attr(k, v) for k, v in extra]}


USERS = ["alice@example.com", "bob.smith@example.org", "carol@shop.test",
         "dave+orders@example.net"]
PATHS = ["/api/cart", "/api/products", "/api/orders", "/api/checkout",
         "/api/users/me"]
SEV = {"DEBUG": 5, "INFO": 9, "WARN": 13, "ERROR": 17}


def log(sev, body, attrs, t, trace=None):
    rec = {"timeUnixNano": str(t), "observedTimeUnixNano": str(t + 1000),
           "severityNumber": SEV[sev], "severityText": sev,
           "body": {"stringValue": body},
           "attributes": [attr(k, v) for k, v in attrs]}
    if trace:
        rec["traceId"] = trace
        rec["spanId"] = hexid(16)
    return rec


def logs_batch(b, n):
    api, ingress, worker = [], [], []
    for i in range(n):
        t = T0 + (b * n + i) * 250000000
        trace = hexid(32)
        r = rnd.random()
        if r < 0.25:
            api.append(log("DEBUG", "cache lookup key=product:%d hit=%s" % (
                rnd.randint(1, 500), rnd.choice(["true", "false"])),
                [("code.function", "cache.get")], t, trace))
        elif r < 0.45:
            ingress.append(log("INFO", "GET /healthz 200 0.4ms",
                               [("http.route", "/healthz"),
                                ("http.status_code", 200),
                                ("user_agent.original", "kube-probe/1.29")],
                               t, trace))
        elif r < 0.60:
            worker.append(log("ERROR",
                              "payment gateway: connection refused "
                              "(attempt %d)" % rnd.randint(1, 5),
                              [("peer.service", "payments"),
                               ("retry", True)], t, trace))
        elif r < 0.75:
            user = rnd.choice(USERS)
            api.append(log("INFO", "login ok for %s with Authorization: "
                           "Bearer %s" % (user, hexid(24)),
                           [("enduser.id", user),
                            ("http.route", "/api/login")], t, trace))
        else:
            path = rnd.choice(PATHS)
            status = rnd.choice([200, 200, 200, 201, 404, 500])
            sev = "WARN" if status >= 500 else "INFO"
            api.append(log(sev, "%s %s %d %.1fms" % (
                rnd.choice(["GET", "POST"]), path, status,
                rnd.uniform(2, 80)),
                [("http.route", path), ("http.status_code", status),
                 ("session.token", "tok_" + hexid(20))], t, trace))

    def scope(name, recs):
        return {"scope": {"name": name, "version": "1.0.0"},
                "logRecords": recs}
    out = []
    for svc, name, recs in (("shop-api", "shop.api", api),
                            ("ingress-nginx", "nginx", ingress),
                            ("payment-worker", "payments.worker", worker)):
        if recs:
            out.append({"resource": resource(svc, [("k8s.namespace.name",
                                                    "shop")]),
                        "scopeLogs": [scope(name, recs)]})
    return {"resourceLogs": out}


def metrics_batch(b):
    t = T0 + b * 60000000000
    ms = []
    for path in PATHS:
        ms.append({"name": "http.server.request.duration", "unit": "s",
                   "description": "request latency",
                   "histogram": {"aggregationTemporality": 2, "dataPoints": [{
                       "startTimeUnixNano": str(T0), "timeUnixNano": str(t),
                       "count": str(rnd.randint(50, 500)),
                       "sum": rnd.uniform(1, 40),
                       "bucketCounts": [str(rnd.randint(0, 100))
                                        for _ in range(5)],
                       "explicitBounds": [0.005, 0.05, 0.25, 1.0],
                       "attributes": [attr("http.route", path)]}]}})
    for name in ("debug.gc.pause", "debug.goroutines", "debug.heap.objects"):
        ms.append({"name": name, "unit": "1", "gauge": {"dataPoints": [{
            "timeUnixNano": str(t), "asDouble": rnd.uniform(0, 1000),
            "attributes": [attr("runtime", "go")]}]}})
    ms.append({"name": "db.client.connections.usage", "unit": "{connection}",
               "sum": {"aggregationTemporality": 2, "isMonotonic": False,
                       "dataPoints": [{"timeUnixNano": str(t),
                                       "asInt": str(rnd.randint(1, 20)),
                                       "attributes": [attr("state", "used")]}]}})
    ms.append({"name": "orders.created", "unit": "{order}",
               "sum": {"aggregationTemporality": 1, "isMonotonic": True,
                       "dataPoints": [{"timeUnixNano": str(t),
                                       "asInt": str(rnd.randint(0, 30))}]}})
    ms.append({"name": "healthcheck.probe.duration", "unit": "ms",
               "gauge": {"dataPoints": [{"timeUnixNano": str(t),
                                         "asDouble": rnd.uniform(0.1, 2)}]}})
    return {"resourceMetrics": [{
        "resource": resource("shop-api"),
        "scopeMetrics": [{"scope": {"name": "shop.api.metrics"},
                          "metrics": ms}]}]}


def spans_batch(b, n):
    spans = []
    for i in range(n):
        t = T0 + (b * n + i) * 300000000
        trace = hexid(32)
        if rnd.random() < 0.3:
            spans.append({"traceId": trace, "spanId": hexid(16),
                          "name": "GET /healthz", "kind": 2,
                          "startTimeUnixNano": str(t),
                          "endTimeUnixNano": str(t + 400000),
                          "attributes": [attr("http.route", "/healthz")],
                          "status": {}})
            continue
        path = rnd.choice(PATHS)
        err = rnd.random() < 0.1
        root = hexid(16)
        spans.append({"traceId": trace, "spanId": root,
                      "name": "POST " + path if "check" in path
                      else "GET " + path, "kind": 2,
                      "startTimeUnixNano": str(t),
                      "endTimeUnixNano": str(t + 30000000),
                      "attributes": [attr("http.route", path),
                                     attr("http.status_code",
                                          500 if err else 200)],
                      "status": {"code": 2 if err else 1}})
        spans.append({"traceId": trace, "spanId": hexid(16),
                      "parentSpanId": root, "name": "SELECT shop.orders",
                      "kind": 3, "startTimeUnixNano": str(t + 1000000),
                      "endTimeUnixNano": str(t + 9000000),
                      "attributes": [attr("db.system", "postgresql"),
                                     attr("db.statement",
                                          "SELECT * FROM orders WHERE id=$1")],
                      "status": {}})
    return {"resourceSpans": [{
        "resource": resource("shop-api"),
        "scopeSpans": [{"scope": {"name": "shop.api.tracing"},
                        "spans": spans}]}]}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(__file__)
    with open(os.path.join(out, "logs.jsonl"), "w") as f:
        for b in range(4):
            f.write(json.dumps(logs_batch(b, 75), separators=(",", ":")) + "\n")
    with open(os.path.join(out, "metrics.jsonl"), "w") as f:
        for b in range(8):
            f.write(json.dumps(metrics_batch(b), separators=(",", ":")) + "\n")
    with open(os.path.join(out, "spans.jsonl"), "w") as f:
        for b in range(3):
            f.write(json.dumps(spans_batch(b, 45), separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
