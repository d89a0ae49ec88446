#!/usr/bin/env python3
"""Write an OTLP/JSON traces stream for the `sluice apply` traces benchmark
(bench/run-apply-traces.sh): N ExportTraceServiceRequests, one per line,
compact, about 1 KB each: one resource (service.name), one scope and 3
spans of a small web request (a SERVER span, a CLIENT call under it, an
INTERNAL step; now and then a health check, an error status with an
event, a link). Fixed seed: same N, same file. Never committed: the
benchmark writes it into the build directory.
Usage: gen_otlp_spans.py N OUT"""
import json
import random
import sys

n, out = int(sys.argv[1]), sys.argv[2]
rnd = random.Random(11)
routes = ["/api/cart", "/api/checkout", "/api/products/{id}", "/healthz",
          "/api/login"]
services = ["shop-api", "payment-worker", "ingress-nginx"]


def attr(k, v):
    if isinstance(v, int):
        return {"key": k, "value": {"intValue": str(v)}}
    return {"key": k, "value": {"stringValue": v}}


def request(i):
    trace = "%032x" % rnd.getrandbits(128)
    root = "%016x" % rnd.getrandbits(64)
    route = routes[rnd.randrange(len(routes))]
    t0 = 1763900000000000000 + i * 1000000
    err = rnd.randrange(20) == 0
    server = {
        "traceId": trace, "spanId": root, "parentSpanId": "",
        "name": "GET " + route, "kind": 2,
        "startTimeUnixNano": str(t0), "endTimeUnixNano": str(t0 + 900000),
        "attributes": [attr("http.request.method", "GET"),
                       attr("http.route", route),
                       attr("http.response.status_code", 500 if err else 200)],
        "status": {"code": 2, "message": "upstream failed"} if err else {}}
    client = {
        "traceId": trace, "spanId": "%016x" % rnd.getrandbits(64),
        "parentSpanId": root, "name": "SELECT shop.products", "kind": 3,
        "startTimeUnixNano": str(t0 + 100000),
        "endTimeUnixNano": str(t0 + 600000),
        "attributes": [attr("db.system", "postgresql"),
                       attr("db.operation.name", "SELECT"),
                       attr("server.address", "db-%d.internal" % rnd.randrange(4))],
        "status": {}}
    if err:
        client["events"] = [{"timeUnixNano": str(t0 + 500000),
                             "name": "exception",
                             "attributes": [attr("exception.type", "Timeout")]}]
    internal = {
        "traceId": trace, "spanId": "%016x" % rnd.getrandbits(64),
        "parentSpanId": root, "name": "render", "kind": 1,
        "startTimeUnixNano": str(t0 + 650000),
        "endTimeUnixNano": str(t0 + 850000),
        "attributes": [attr("template", "cart.html")], "status": {}}
    if rnd.randrange(10) == 0:
        internal["links"] = [{"traceId": "%032x" % rnd.getrandbits(128),
                              "spanId": "%016x" % rnd.getrandbits(64)}]
    svc = services[rnd.randrange(len(services))]
    return {"resourceSpans": [{
        "resource": {"attributes": [attr("service.name", svc),
                                    attr("host.name", "node-%d" % rnd.randrange(8))]},
        "scopeSpans": [{"scope": {"name": "io.opentelemetry.http",
                                  "version": "1.30.0"},
                        "spans": [server, client, internal]}]}]}


with open(out, "w") as f:
    for i in range(n):
        f.write(json.dumps(request(i), separators=(",", ":")))
        f.write("\n")
