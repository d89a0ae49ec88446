"""A policy sync server for tests (upstream's conformance `server/`, in
Python's stdlib): `POST /v1/policy/sync` takes a tero.policy.v1 SyncRequest
in proto-JSON and answers a SyncResponse whose policies are the current
policy file's list, its hash the SHA-256 of that file. It records every
request and sums the PolicySyncStatus hits and misses it receives per policy
id (errors: the last list received), as upstream's `/stats` does; `GET
/stats` gives them as {"policies":[{"policy_id","hits","misses","errors"}]}.
Loopback only, port 0 (the chosen port is in .port).

Use: with SyncServer() as srv: srv.serve(policies_text); ... srv.requests,
srv.stats(). Protobuf bodies are refused with 415 (JSON only). With
srv.failing = True every sync gets a 503 (a provider that is down); with
srv.error_message set, a 200 SyncResponse carrying only that error_message."""
import hashlib, http.server, json, threading, time


class SyncServer:
    def __init__(self, interval=60):
        self.lock = threading.Lock()
        self.interval = interval
        self.failing = False
        self.error_message = ""
        self.serve("{\"policies\": []}")
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # head and body are two writes

            def log_message(self, *a):
                pass

            def reply(self, code, body):
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
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
                if self.path != "/v1/policy/sync":
                    return self.reply(404, {"error": "not found"})
                if outer.failing:
                    return self.reply(503, {"error": "down"})
                if self.headers.get("Content-Type", "") != "application/json":
                    return self.reply(415, {"error": "JSON only"})
                try:
                    req = json.loads(body)
                except ValueError as e:
                    return self.reply(400, {"error": str(e)})
                self.reply(200, outer.record(req))

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
            self.policies = json.loads(policies_text).get("policies", [])
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
            return {"policies": self.policies, "hash": self.hash,
                    "syncTimestampUnixNano": str(time.time_ns()),
                    "recommendedSyncIntervalSeconds": self.interval,
                    "syncType": "SYNC_TYPE_FULL"}

    def stats(self):
        with self.lock:
            return {"policies": [dict(policy_id=k, **v) for k, v in sorted(self.received.items())]}
