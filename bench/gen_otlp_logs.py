#!/usr/bin/env python3
"""Write a large OTLP/JSON logs stream for the end-to-end `sluice apply`
benchmark: one ExportLogsServiceRequest per line, 200 log records each,
until the file reaches SIZE_MB (default 210). The records look like the
examples' web service (DEBUG chatter, health checks, errors, logins with
bearer tokens and e-mail addresses), so the example policies have work.
Usage: gen_otlp_logs.py OUT [SIZE_MB]. Never committed: bench/run-policy.sh
writes it into the build directory.

gen_otlp_logs.py --records N OUT writes instead N requests of ONE log record
each, one per line, about 583 bytes a line (the shape issue 11 measured
`apply` and Fluent Bit on): bench/run-apply.sh. Same seed, same file."""
import json
import random
import sys

one_per_line = len(sys.argv) > 1 and sys.argv[1] == "--records"
if one_per_line:
    nrecords = int(sys.argv[2])
    out = sys.argv[3]
else:
    out = sys.argv[1]
size = int(sys.argv[2]) * 1000000 if len(sys.argv) > 2 else 210000000
rnd = random.Random(7)
bodies = ["cache lookup key=product:%d hit=true", "GET /healthz 200 0.4ms",
          "payment gateway: connection refused (attempt %d)",
          "login ok for alice@example.com with Authorization: Bearer "
          "3f9a0c11d2e4b5a6c7d8e9f0%d", "GET /api/cart 200 %d.5ms"]
sevs = ["DEBUG", "INFO", "ERROR", "INFO", "INFO"]
attrs = [[{"key": "code.function", "value": {"stringValue": "cache.get"}}],
         [{"key": "http.route", "value": {"stringValue": "/healthz"}},
          {"key": "user_agent.original",
           "value": {"stringValue": "kube-probe/1.29"}}],
         [{"key": "peer.service", "value": {"stringValue": "payments"}}],
         [{"key": "enduser.id", "value": {"stringValue": "alice@example.com"}}],
         [{"key": "http.route", "value": {"stringValue": "/api/cart"}},
          {"key": "session.token", "value": {"stringValue": "tok_abcdef"}}]]
services = ["shop-api", "ingress-nginx", "payment-worker", "shop-api",
            "shop-api"]


def batch(b):
    recs = [[] for _ in services]
    for i in range(200):
        k = rnd.randrange(5)
        recs[k].append({
            "timeUnixNano": str(1763900000000000000 + b * 200 + i),
            "severityText": sevs[k],
            "body": {"stringValue": bodies[k].replace("%d", str(rnd.randrange(1000)))},
            "traceId": "%032x" % rnd.getrandbits(128),
            "spanId": "%016x" % rnd.getrandbits(64),
            "attributes": attrs[k]})
    return {"resourceLogs": [
        {"resource": {"attributes": [{"key": "service.name",
                                      "value": {"stringValue": services[k]}}]},
         "scopeLogs": [{"scope": {"name": "bench"}, "logRecords": recs[k]}]}
        for k in range(5) if recs[k]]}


def single(i):
    """One request with one record: ~583 bytes, as issue 11's records."""
    k = rnd.randrange(5)
    body = bodies[k].replace("%d", str(rnd.randrange(1000)))
    return {"resourceLogs": [{
        "resource": {"attributes": [
            {"key": "service.name", "value": {"stringValue": services[k]}},
            {"key": "host.name",
             "value": {"stringValue": "node-%02d.eu-west-1.internal"
                       % rnd.randrange(40)}}]},
        "scopeLogs": [{"scope": {"name": "bench", "version": "1.0.0"},
                       "logRecords": [{
            "timeUnixNano": str(1763900000000000000 + i * 1000),
            "severityNumber": [5, 9, 17, 9, 9][k],
            "severityText": sevs[k],
            "body": {"stringValue": body},
            "attributes": attrs[k],
            "traceId": "%032x" % rnd.getrandbits(128),
            "spanId": "%016x" % rnd.getrandbits(64)}]}]}]}


if one_per_line:
    with open(out, "w") as f:
        for i in range(nrecords):
            f.write(json.dumps(single(i), separators=(",", ":")) + "\n")
    sys.exit(0)

n = 0
b = 0
with open(out, "w") as f:
    while n < size:
        line = json.dumps(batch(b), separators=(",", ":")) + "\n"
        f.write(line)
        n += len(line)
        b += 1
