"""A policy sync server for tests (upstream's conformance `server/`, in
Python's stdlib): `POST /v1/policy/sync` takes a tero.policy.v1 SyncRequest
in proto-JSON and answers a SyncResponse whose policies are the current
policy file's list, its hash the SHA-256 of that file. It records every
request and sums the PolicySyncStatus hits and misses it receives per policy
id (errors: the last list received; transform stage hits and misses under
"stages"), as upstream's `/stats` does; `GET
/stats` gives them as {"policies":[{"policy_id","hits","misses","errors"}]}.
Loopback only, port 0 (the chosen port is in .port).

Like upstream's server (which re-encodes the policies with protojson), it
serves enum values as numbers: the value of an enum field (logField,
spanKind, mode, ...) that is a full enum name of the policy schema
(LOG_FIELD_BODY, SPAN_KIND_SERVER, ...) becomes its number, so the client's loader is checked on the wire form.

Use: with SyncServer() as srv: srv.serve(policies_text); ... srv.requests,
srv.stats(). Protobuf bodies (application/x-protobuf) are answered in
protobuf when a codec is given (SyncServer(codec=sync_server_pb.ProtoCodec
(...)): requests are recorded as the dicts it decodes), else refused with
415. With
srv.failing = True every sync gets a 503 (a provider that is down); with
srv.error_message set, a 200 SyncResponse carrying only that error_message."""
import gzip, hashlib, http.server, json, threading, time


# tero.policy.v1 enums (reference/policy-engine-upstream.md section 2)
ENUMS = {}
for prefix, names in (
        ("LOG_FIELD_", {"BODY": 1, "SEVERITY_TEXT": 2, "TRACE_ID": 3, "SPAN_ID": 4, "EVENT_NAME": 5,
                        "RESOURCE_SCHEMA_URL": 10, "SCOPE_SCHEMA_URL": 11}),
        ("METRIC_FIELD_", {"NAME": 1, "DESCRIPTION": 2, "UNIT": 3, "RESOURCE_SCHEMA_URL": 10,
                           "SCOPE_SCHEMA_URL": 11, "SCOPE_NAME": 12, "SCOPE_VERSION": 13}),
        ("METRIC_TYPE_", {"GAUGE": 1, "SUM": 2, "HISTOGRAM": 3, "EXPONENTIAL_HISTOGRAM": 4, "SUMMARY": 5}),
        ("AGGREGATION_TEMPORALITY_", {"DELTA": 1, "CUMULATIVE": 2}),
        ("TRACE_FIELD_", {"NAME": 1, "TRACE_ID": 2, "SPAN_ID": 3, "PARENT_SPAN_ID": 4, "TRACE_STATE": 5,
                          "RESOURCE_SCHEMA_URL": 10, "SCOPE_SCHEMA_URL": 11, "SCOPE_NAME": 12,
                          "SCOPE_VERSION": 13}),
        ("SPAN_KIND_", {"INTERNAL": 1, "SERVER": 2, "CLIENT": 3, "PRODUCER": 4, "CONSUMER": 5}),
        ("SPAN_STATUS_CODE_", {"OK": 1, "ERROR": 2}),
        ("SAMPLING_MODE_", {"HASH_SEED": 1, "PROPORTIONAL": 2, "EQUALIZING": 3})):
    for k, v in names.items():
        ENUMS[prefix + k] = v


ENUM_KEYS = {"logField", "log_field", "metricField", "metric_field", "metricType", "metric_type",
             "aggregationTemporality", "aggregation_temporality", "traceField", "trace_field",
             "spanKind", "span_kind", "spanStatus", "span_status", "mode"}


def enum_numbers(v):
    if isinstance(v, dict):
        return {k: ENUMS.get(x, x) if k in ENUM_KEYS and isinstance(x, str) else enum_numbers(x)
                for k, x in v.items()}
    if isinstance(v, list):
        return [enum_numbers(x) for x in v]
    return v


class SyncServer:
    def __init__(self, interval=60, codec=None):
        self.lock = threading.Lock()
        self.codec = codec
        self.interval = interval
        self.failing = False
        self.error_message = ""
        # (path, content or grpc encoding, compressed flag) of each request,
        # HTTP and gRPC (sync_server_pb records there too)
        self.encodings = []
        self.serve("{\"policies\": []}")
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # head and body are two writes

            def log_message(self, *a):
                pass

            def reply(self, code, body, proto=False):
                ctype = "application/json"
                if proto:
                    data, ctype = outer.codec.encode_response(body), "application/x-protobuf"
                else:
                    data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                if self.path == "/stats":
                    self.reply(200, outer.stats())
                else:
                    self.reply(404, {"error": "not found"})

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                enc = self.headers.get("Content-Encoding")
                with outer.lock:
                    outer.encodings.append((self.path, enc, enc == "gzip"))
                if enc == "gzip":
                    body = gzip.decompress(body)
                elif enc not in (None, "identity"):
                    return self.reply(415, {"error": "unsupported encoding"})
                if self.path != "/v1/policy/sync":
                    return self.reply(404, {"error": "not found"})
                if outer.failing:
                    return self.reply(503, {"error": "down"})
                ctype = self.headers.get("Content-Type", "")
                proto = ctype == "application/x-protobuf" and outer.codec is not None
                if ctype != "application/json" and not proto:
                    return self.reply(415, {"error": "JSON only"})
                try:
                    req = outer.codec.decode_request(body) if proto else json.loads(body)
                except Exception as e:  # noqa: BLE001 - bad JSON or protobuf
                    return self.reply(400, {"error": str(e)})
                self.reply(200, outer.record(req), proto)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.url = "http://127.0.0.1:%d/v1/policy/sync" % self.port
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *a):
        self.httpd.shutdown()
        self.httpd.server_close()

    def serve(self, policies_text):
        """Serve this policy file ({"policies": [...]}) from now on and
        forget what was recorded."""
        with self.lock:
            self.policies = enum_numbers(json.loads(policies_text).get("policies", []))
            self.hash = hashlib.sha256(policies_text.encode()).hexdigest()
            self.requests = []
            self.received = {}

    def record(self, req):
        with self.lock:
            self.requests.append(req)
            if self.error_message:
                return {"errorMessage": self.error_message}
            for st in req.get("policyStatuses", req.get("policy_statuses", [])):
                e = self.received.setdefault(st["id"], {"hits": 0, "misses": 0, "errors": []})
                e["hits"] += int(st.get("matchHits", st.get("match_hits", 0)))
                e["misses"] += int(st.get("matchMisses", st.get("match_misses", 0)))
                e["errors"] = list(st.get("errors", []))
                for stage in ("remove", "redact", "rename", "add"):
                    got = st.get(stage)
                    if got:
                        t = e.setdefault("stages", {}).setdefault(stage, {"hits": 0, "misses": 0})
                        t["hits"] += int(got.get("hits", 0))
                        t["misses"] += int(got.get("misses", 0))
            return {"policies": self.policies, "hash": self.hash,
                    "syncTimestampUnixNano": str(time.time_ns()),
                    "recommendedSyncIntervalSeconds": self.interval,
                    "syncType": "SYNC_TYPE_FULL"}

    def stats(self):
        with self.lock:
            return {"policies": [dict(policy_id=k, **v) for k, v in sorted(self.received.items())]}
