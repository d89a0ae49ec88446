#!/usr/bin/env python3
"""End-to-end tests of `sluice serve` over loopback (Python stdlib only).

Usage: run-serve.py --sluice PATH --source REPO_DIR [--work DIR] [--only NAME]

Each test starts its own server on port 0, reads the ports from the
`sluice serve: ready http=... grpc=... admin=...` line, drives it with
http.client / raw sockets, and checks what reaches --output (or a
forwarding target written here) and /metrics. Every test is bounded in
time. The OpenTelemetry JS SDK test is run-serve-jssdk.py, which imports
Server and Target from here.
Exit 0 when every test passed or was skipped."""
import argparse
import ctypes
import ctypes.util
import gzip
import http.client
import http.server
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

ARGS = None
READY = re.compile(r"^sluice serve: ready http=(\S+) grpc=(\S+) admin=(\S+)$")


class Server:
    def __init__(self, extra, policies=None, output=True, raw=None, nofile=None):
        self.tmp = tempfile.mkdtemp(prefix="sluice-serve-test-")
        self.out = os.path.join(self.tmp, "out.jsonl")
        pol = policies or os.path.join(ARGS.source, "examples/policy/policies.json")
        cmd = [ARGS.sluice, "serve", "--policies", pol, "--http", "127.0.0.1:0",
               "--grpc", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--threads", "2"]
        if output:
            cmd += ["--output", self.out]
        cmd += extra
        if raw is not None:
            cmd = [ARGS.sluice, "serve"] + raw
        limit = None
        if nofile:
            import resource
            limit = lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
        self.proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True,
                                     preexec_fn=limit)
        self.lines = []
        self.ready = threading.Event()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        if not self.ready.wait(20):
            self.proc.kill()
            raise AssertionError("no ready line; stderr:\n" + "".join(self.lines))
        self.http = self._split(self.addrs[0])
        self.admin = self._split(self.addrs[2])

    def _read(self):
        for line in self.proc.stderr:
            self.lines.append(line)
            m = READY.match(line.rstrip("\n"))
            if m:
                self.addrs = m.groups()
                self.ready.set()

    @staticmethod
    def _split(a):
        host, port = a.rsplit(":", 1)
        return host, int(port)

    def conn(self, admin=False):
        h, p = self.admin if admin else self.http
        return http.client.HTTPConnection(h, p, timeout=10)

    def post(self, path, body, ctype="application/json", headers=None, conn=None):
        c = conn or self.conn()
        hdr = {"Content-Type": ctype}
        hdr.update(headers or {})
        c.request("POST", path, body=body, headers=hdr)
        r = c.getresponse()
        data = r.read()
        if conn is None:
            c.close()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), data

    def get(self, path):
        c = self.conn(admin=True)
        c.request("GET", path)
        r = c.getresponse()
        data = r.read().decode()
        c.close()
        return r.status, data

    def metric(self, name):
        st, text = self.get("/metrics")
        assert st == 200, (st, text[:300])
        for line in text.splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{") and False:
                return float(line.split()[-1])
            if line.split(" ")[0] == name:
                return float(line.split()[-1])
        raise AssertionError("no metric " + name)

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError("server did not stop in time")
        self.reader.join(5)
        return rc

    def output_lines(self):
        if not os.path.exists(self.out):
            return []
        with open(self.out, "rb") as f:
            return f.read().splitlines(keepends=True)

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)


def example(name):
    with open(os.path.join(ARGS.source, "examples/policy", name), "rb") as f:
        return [l for l in f.read().splitlines() if l.strip()]


def records(line, key):
    doc = json.loads(line)
    n = 0
    outer = {"resourceLogs": ("scopeLogs", "logRecords"),
             "resourceSpans": ("scopeSpans", "spans"),
             "resourceMetrics": ("scopeMetrics", "metrics")}[key]
    for r in doc.get(key, []):
        for s in r.get(outer[0], []):
            n += len(s.get(outer[1], []))
    return n


def zstd_compress(data):
    lib = ctypes.CDLL(ctypes.util.find_library("zstd"))
    lib.ZSTD_compressBound.restype = ctypes.c_size_t
    lib.ZSTD_compressBound.argtypes = [ctypes.c_size_t]
    lib.ZSTD_compress.restype = ctypes.c_size_t
    lib.ZSTD_compress.argtypes = [ctypes.c_void_p, ctypes.c_size_t,
                                  ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int]
    cap = lib.ZSTD_compressBound(len(data))
    buf = ctypes.create_string_buffer(cap)
    n = lib.ZSTD_compress(buf, cap, data, len(data), 3)
    return buf.raw[:n]


def apply_output(lines):
    pol = os.path.join(ARGS.source, "examples/policy/policies.json")
    r = subprocess.run([ARGS.sluice, "apply", "--quiet", "--policies", pol],
                       input=b"\n".join(lines) + b"\n", capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout.splitlines(keepends=True)


# ---- tests ---------------------------------------------------------------

def test_each_signal_json_is_accepted_and_written():
    s = Server([])
    try:
        for path, name in (("/v1/logs", "logs.jsonl"), ("/v1/metrics", "metrics.jsonl"),
                           ("/v1/traces", "spans.jsonl")):
            st, hdr, body = s.post(path, example(name)[0])
            assert st == 200, (path, st, body)
            assert hdr["content-type"] == "application/json"
            assert json.loads(body) == {}, body
        assert s.stop() == 0
        assert len(s.output_lines()) == 3
    finally:
        s.close()


def test_output_equals_apply_output_byte_for_byte():
    s = Server([])
    try:
        lines = example("logs.jsonl") + example("metrics.jsonl") + example("spans.jsonl")
        paths = (["/v1/logs"] * len(example("logs.jsonl")) +
                 ["/v1/metrics"] * len(example("metrics.jsonl")) +
                 ["/v1/traces"] * len(example("spans.jsonl")))
        c = s.conn()
        for p, l in zip(paths, lines):
            st, _, body = s.post(p, l, conn=c)
            assert st == 200, (st, body)
        c.close()
        assert s.stop() == 0
        got = s.output_lines()
        want = apply_output(lines)
        assert len(got) == len(want), (len(got), len(want))
        for i, (g, w) in enumerate(zip(got, want)):
            assert g == w, "line %d differs:\n serve %r\n apply %r" % (i, g[:200], w[:200])
    finally:
        s.close()


def test_gzip_and_zstd_bodies_are_decoded():
    s = Server([])
    try:
        line = example("logs.jsonl")[0]
        st, _, b = s.post("/v1/logs", gzip.compress(line), headers={"Content-Encoding": "gzip"})
        assert st == 200, (st, b)
        st, _, b = s.post("/v1/logs", zstd_compress(line), headers={"Content-Encoding": "zstd"})
        assert st == 200, (st, b)
        st, _, b = s.post("/v1/logs", line, headers={"Content-Encoding": "br"})
        assert st == 415, (st, b)
        st, _, b = s.post("/v1/logs", b"\x1f\x8b\x08\x00garbage", headers={"Content-Encoding": "gzip"})
        assert st == 400, (st, b)
        assert "gzip" in json.loads(b)["message"]
        assert s.stop() == 0
        out = s.output_lines()
        # the 5/m rate limit keeps fewer records the second time: compare
        # with apply over the same two requests
        assert out == apply_output([line, line]), [o[:100] for o in out]
    finally:
        s.close()


def test_chunked_body_is_accepted():
    s = Server([])
    try:
        line = example("logs.jsonl")[0]
        parts = [line[i:i + 700] for i in range(0, len(line), 700)]
        c = s.conn()
        c.request("POST", "/v1/logs", body=iter(parts), encode_chunked=True,
                  headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
        r = c.getresponse()
        body = r.read()
        assert r.status == 200, (r.status, body)
        # a second request on the same connection after a chunked one
        st, _, body = s.post("/v1/logs", line, conn=c)
        assert st == 200, (st, body)
        c.close()
        assert s.stop() == 0
        assert len(s.output_lines()) == 2
        assert s.output_lines()[0] == apply_output([line])[0]
    finally:
        s.close()


def test_keep_alive_and_pipelining_reuse_one_connection():
    s = Server([])
    try:
        line = example("logs.jsonl")[1]
        c = s.conn()
        s.post("/v1/logs", line, conn=c)
        sock = c.sock
        for _ in range(5):
            st, _, _ = s.post("/v1/logs", line, conn=c)
            assert st == 200
        assert c.sock is sock, "connection was not kept alive"
        c.close()
        # three requests in one write: three answers, in order
        req = (b"POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"Content-Length: %d\r\n\r\n" % len(line)) + line
        raw = socket.create_connection(s.http, timeout=10)
        raw.sendall(req * 3)
        data = b""
        while data.count(b"HTTP/1.1 200") < 3:
            chunk = raw.recv(65536)
            assert chunk, data
            data += chunk
        raw.close()
        assert s.stop() == 0
        assert len(s.output_lines()) == 9
    finally:
        s.close()


def test_malformed_json_gets_400_naming_the_problem():
    s = Server([])
    try:
        st, hdr, body = s.post("/v1/logs", b'{"resourceLogs": [ {"scopeLogs": 5} ]}')
        assert st == 400, (st, body)
        msg = json.loads(body)
        assert msg["code"] == 3 and "scopeLogs" in msg["message"], msg
        st, _, body = s.post("/v1/logs", b'{"resourceLogs": [')
        assert st == 400, (st, body)
        st, _, body = s.post("/v1/traces", example("logs.jsonl")[0])
        assert st == 400 and b"resourceSpans" in body, (st, body)
        assert s.stop() == 0
        assert s.output_lines() == []
    finally:
        s.close()


def test_wrong_path_method_and_media_type():
    s = Server([])
    try:
        st, _, _ = s.post("/v1/other", b"{}")
        assert st == 404
        c = s.conn()
        c.request("GET", "/v1/logs")
        r = c.getresponse()
        r.read()
        assert r.status == 405
        c.close()
        st, _, body = s.post("/v1/logs", b"{}", ctype="text/plain")
        assert st == 415, (st, body)
        assert "application/json" in json.loads(body)["message"]
        st, _, _ = s.post("/v1/logs", b"{}", ctype="application/json; charset=utf-8")
        assert st == 200
    finally:
        s.stop()
        s.close()


def ready_info(s):
    st, body = s.get("/readyz")
    assert st == 200, (st, body)
    return json.loads(body)


def pb_varint(v):
    out = b""
    while v >= 0x80:
        out += bytes([(v & 0x7F) | 0x80])
        v >>= 7
    return out + bytes([v])


def pb_len(field, data):
    return pb_varint(field << 3 | 2) + pb_varint(len(data)) + data


def test_protobuf_body():
    s = Server([])
    try:
        # ExportLogsServiceRequest{resource_logs{scope_logs{log_records{
        #   body{string_value:"hello from protobuf"}}}}}
        rec = pb_len(5, pb_len(1, b"hello from protobuf"))
        body = pb_len(1, pb_len(2, pb_len(2, rec)))
        st, hdr, resp = s.post("/v1/logs", body, ctype="application/x-protobuf")
        assert st == 200, (st, resp)
        assert hdr["content-type"] == "application/x-protobuf"
        assert resp == b"", resp
        st, _, resp = s.post("/v1/logs", b"\xff\xff\xff", ctype="application/x-protobuf")
        assert st == 400, (st, resp)
        assert s.stop() == 0
        out = s.output_lines()
        assert len(out) == 1 and b"hello from protobuf" in out[0], out
    finally:
        s.close()


def nghttp(url, body, headers):
    """POST with nghttp (nghttp2-client: h2c, prior knowledge); returns
    the received header fields (trailers included) and the body."""
    fd, path = tempfile.mkstemp()
    with os.fdopen(fd, "wb") as f:
        f.write(body)
    cmd = ["nghttp", "-v", "-d", path, url]
    for k, v in headers.items():
        cmd += ["-H", "%s: %s" % (k, v)]
    r = subprocess.run(cmd, capture_output=True, timeout=30)
    os.unlink(path)
    fields = {}
    for line in r.stdout.decode(errors="replace").splitlines():
        m = re.match(r"^\[\s*[\d.]+\] recv \(stream_id=\d+\) ([^:]*|:[a-z]+): (.*)$", line)
        if m:
            fields[m.group(1)] = m.group(2)
    return fields, r.stdout


def test_h2c_prior_knowledge_json():
    if not shutil.which("nghttp"):
        print("  SKIP: nghttp (Debian nghttp2-client) is not installed")
        return
    s = Server([])
    try:
        line = example("logs.jsonl")[0]
        url = "http://%s:%d/v1/logs" % s.http
        f, out = nghttp(url, line, {"content-type": "application/json"})
        assert f.get(":status") == "200", out[-2000:]
        assert f.get("content-type") == "application/json"
        f, _ = nghttp(url, gzip.compress(line), {"content-type": "application/json",
                                                  "content-encoding": "gzip"})
        assert f.get(":status") == "200"
        f, _ = nghttp(url, b"{", {"content-type": "application/json"})
        assert f.get(":status") == "400"
        assert s.stop() == 0
        assert s.output_lines() == apply_output([line, line])
    finally:
        s.close()


def grpc_frame(msg, compressed=False):
    return bytes([1 if compressed else 0]) + len(msg).to_bytes(4, "big") + msg


def test_grpc_export_status_in_trailers():
    if not shutil.which("nghttp"):
        print("  SKIP: nghttp (Debian nghttp2-client) is not installed")
        return
    s = Server([])
    try:
        h, p = s.addrs[1].rsplit(":", 1)
        base = "http://%s:%s/opentelemetry.proto.collector." % (h, p)
        hdr = {"content-type": "application/grpc", "te": "trailers"}
        rec = pb_len(5, pb_len(1, b"hello over grpc"))
        msg = pb_len(1, pb_len(2, pb_len(2, rec)))
        # a frame whose length does not match: INVALID_ARGUMENT
        f, out = nghttp(base + "logs.v1.LogsService/Export", msg, hdr)
        assert f.get(":status") == "200", out[-2000:]
        assert f.get("grpc-status") == "3", f
        # unknown method: UNIMPLEMENTED
        f, _ = nghttp(base + "logs.v1.LogsService/Nope", grpc_frame(msg), hdr)
        assert f.get("grpc-status") == "12", f
        f, _ = nghttp(base + "logs.v1.LogsService/Export", grpc_frame(msg), hdr)
        assert f.get("grpc-status") == "0", f
        f, _ = nghttp(base + "logs.v1.LogsService/Export",
                      grpc_frame(gzip.compress(msg), True),
                      dict(hdr, **{"grpc-encoding": "gzip"}))
        assert f.get("grpc-status") == "0", f
        assert s.stop() == 0
        out = s.output_lines()
        assert len(out) == 2 and all(b"hello over grpc" in o for o in out), out
    finally:
        s.close()


def test_oversized_body_gets_413():
    s = Server(["--max-body", "65536"])
    try:
        big = b'{"resourceLogs":[]' + b" " * 100000 + b"}"
        st, _, body = s.post("/v1/logs", big)
        assert st == 413, (st, body)
        # chunked past the limit too
        c = s.conn()
        c.request("POST", "/v1/logs", body=iter([big[:50000], big[50000:]]),
                  encode_chunked=True, headers={"Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        assert r.status == 413, r.status
        c.close()
        st, _, _ = s.post("/v1/logs", example("logs.jsonl")[0])
        assert st == 200
        assert s.stop() == 0
    finally:
        s.close()


def test_input_buffers_are_bounded_across_connections():
    s = Server(["--max-inflight", "262144"])
    try:
        big = b'{"resourceLogs":[' + b" " * 600000 + b"]}"
        try:
            st, hdr, body = s.post("/v1/logs", big)
            assert st == 503 and hdr.get("retry-after") == "1", (st, hdr, body)
        except (ConnectionResetError, BrokenPipeError):
            pass  # refused while the body was still being sent
        assert s.metric("sluice_memory_rejections_total") >= 1
        # the refused connection's buffer is given back when it closes
        deadline = time.time() + 5
        while True:
            st, _, _ = s.post("/v1/logs", example("logs.jsonl")[0])
            if st == 200 or time.time() > deadline:
                break
            time.sleep(0.1)
        assert st == 200, st
        assert s.metric("sluice_inflight_bytes") <= 262144
        assert s.stop() == 0
        assert len(s.output_lines()) == 1
    finally:
        s.close()


def test_gzip_bomb_gets_413():
    s = Server(["--max-decompressed", "1048576"])
    try:
        bomb = gzip.compress(b'{"resourceLogs":[' + b" " * (64 << 20) + b"]}", 9)
        assert len(bomb) < 200000
        st, _, body = s.post("/v1/logs", bomb, headers={"Content-Encoding": "gzip"})
        assert st == 413, (st, body)
        assert "decompressed" in json.loads(body)["message"]
        st, _, _ = s.post("/v1/logs", zstd_compress(b'{"resourceLogs":[' + b" " * (8 << 20) + b"]}"),
                          headers={"Content-Encoding": "zstd"})
        assert st == 413
        assert s.stop() == 0
        assert s.output_lines() == []
    finally:
        s.close()


def test_truncated_body_and_slow_client_time_out():
    s = Server(["--read-timeout-ms", "500"])
    try:
        # truncated: Content-Length larger than what comes, then silence
        raw = socket.create_connection(s.http, timeout=10)
        raw.sendall(b"POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    b"Content-Length: 1000\r\n\r\n{\"resourceLogs\"")
        data = raw.recv(4096)
        assert data.startswith(b"HTTP/1.1 408"), data
        # the Status body carries the gRPC code h2 uses too: DEADLINE_EXCEEDED
        assert re.search(rb'"code":\s*4\b', data), data
        raw.close()
        # slowloris: headers one byte at a time, never finished
        raw = socket.create_connection(s.http, timeout=10)
        t0 = time.time()
        closed = False
        for ch in b"POST /v1/logs HTTP/1.1\r\nHost: slow\r\nX-A: " + b"a" * 40:
            try:
                raw.sendall(bytes([ch]))
            except OSError:
                closed = True
                break
            time.sleep(0.05)
            if time.time() - t0 > 4:
                break
        if not closed:
            data = raw.recv(4096)
            assert data == b"" or data.startswith(b"HTTP/1.1 408"), data
        assert time.time() - t0 < 4, "slow client was not cut off"
        raw.close()
        # truncated then closed by the client: nothing written, server fine
        raw = socket.create_connection(s.http, timeout=10)
        raw.sendall(b"POST /v1/logs HTTP/1.1\r\nContent-Length: 100\r\n\r\n{")
        raw.close()
        st, _, _ = s.post("/v1/logs", example("logs.jsonl")[0])
        assert st == 200
        assert s.metric("sluice_timeouts_total") >= 2
        assert s.stop() == 0
        assert len(s.output_lines()) == 1
    finally:
        s.close()


def test_bad_http_gets_400_431():
    s = Server(["--max-header", "4096"])
    try:
        for req, want in ((b"NOT HTTP\r\n\r\n", b"HTTP/1.1 400"),
                          (b"POST /v1/logs HTTP/1.1\r\nX: " + b"a" * 8000 + b"\r\n\r\n", b"HTTP/1.1 431"),
                          (b"POST /v1/logs HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", b"HTTP/1.1 501"),
                          (b"POST /v1/logs HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", b"HTTP/1.1 400")):
            raw = socket.create_connection(s.http, timeout=10)
            raw.sendall(req)
            data = raw.recv(4096)
            assert data.startswith(want), (req[:40], data)
            if want.endswith(b"431"):  # RESOURCE_EXHAUSTED, as over h2
                assert re.search(rb'"code":\s*8\b', data), data
            raw.close()
        assert s.stop() == 0
    finally:
        s.close()


def test_connection_limit():
    s = Server(["--max-connections", "2"])
    try:
        a = socket.create_connection(s.http, timeout=10)
        b = socket.create_connection(s.http, timeout=10)
        time.sleep(0.3)
        c = socket.create_connection(s.http, timeout=10)
        assert c.recv(10) == b"", "third connection should be closed"
        c.close()
        a.close()
        b.close()
        time.sleep(0.3)
        st, _, _ = s.post("/v1/logs", example("logs.jsonl")[0])
        assert st == 200
        assert s.metric("sluice_connections_refused_total") >= 1
        assert s.stop() == 0
    finally:
        s.close()


def test_out_of_file_descriptors_refuses_and_recovers():
    s = Server(["--threads", "1"], nofile=48)
    try:
        socks = []
        for _ in range(80):
            socks.append(socket.create_connection(s.http, timeout=10))
        time.sleep(0.5)
        # the server holds what its descriptors allow and refuses the rest
        # (closed at once, counted) instead of spinning on the listener
        for so in socks:
            so.close()
        time.sleep(0.5)
        refused = s.metric("sluice_connections_refused_total")
        assert refused >= 1, refused
        st, _, _ = s.post("/v1/logs", example("logs.jsonl")[0])
        assert st == 200
        assert s.stop() == 0
    finally:
        s.close()


def test_admin_metrics_healthz_readyz():
    s = Server([])
    try:
        st, _, _ = s.post("/v1/logs", example("logs.jsonl")[0])
        assert st == 200
        st, body = s.get("/healthz")
        assert st == 200 and body == "ok\n"
        info = ready_info(s)
        assert info["ready"] is True
        st, text = s.get("/metrics")
        assert st == 200
        n_in = records(example("logs.jsonl")[0], "resourceLogs")
        assert 'sluice_records_in_total{signal="logs"} %d' % n_in in text, text[:500]
        assert re.search(r'sluice_policy_hits_total\{policy="[^"]+",signal="logs"\} [1-9]', text)
        assert "sluice_request_duration_seconds_bucket{signal=\"logs\",le=\"+Inf\"} 1" in text
        assert "sluice_request_duration_seconds_count{signal=\"traces\"} 0" in text
        assert re.search(r"sluice_worker_connections\{worker=\"0\"\} [0-9]+", text)
        assert "sluice_reload_failure_total 0" in text
        st, _ = s.get("/nothing")
        assert st == 404
        assert s.stop() == 0
    finally:
        s.close()


def test_connections_are_shared_evenly_between_workers():
    """A client opening its pool at once (8 keep-alive connections in a
    burst) gets them dealt out across the workers: whichever worker wakes
    for the listener accepts, but hands each connection to the one holding
    the fewest. Before, one worker could take the whole burst and queue
    every request while the other idled (the 2-thread tail latency)."""
    s = Server(["--threads", "4"])
    socks = []
    try:
        for _ in range(8):
            socks.append(socket.create_connection(s.http, timeout=10))
        body = example("logs.jsonl")[0]
        req = (b"POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"Content-Length: %d\r\n\r\n" % len(body)) + body
        for k in socks:  # every connection answered: adopted by its worker
            k.sendall(req)
        for k in socks:
            got = b""
            while b"\r\n\r\n" not in got:
                got += k.recv(65536)
            assert got.startswith(b"HTTP/1.1 200"), got[:100]
        st, text = s.get("/metrics")
        share = [int(v) for v in re.findall(r'^sluice_worker_connections\{worker="\d+"\} (\d+)$',
                                            text, re.M)]
        # 8 OTLP connections plus this scrape's own (on the worker that accepted it)
        assert len(share) == 4 and sum(share) == 9, share
        assert max(share) - min(share) <= 1 and min(share) >= 2, share
        assert s.stop() == 0
    finally:
        for k in socks:
            k.close()
        s.close()


def test_request_duration_counts_from_the_first_byte():
    """sluice_request_duration_seconds{signal} starts at the request's
    first byte read, not when the handler starts: a body that arrives
    0.4 s after its head lands above the 0.25 s bucket, and only in the logs
    series."""
    s = Server([])
    try:
        body = example("logs.jsonl")[0]
        head = (b"POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n" % len(body))
        k = socket.create_connection(s.http, timeout=10)
        k.sendall(head + body[:10])
        time.sleep(0.4)
        k.sendall(body[10:])
        got = b""
        while b"\r\n\r\n" not in got:
            got += k.recv(65536)
        k.close()
        assert got.startswith(b"HTTP/1.1 200"), got[:100]
        _, text = s.get("/metrics")
        for series, want in (('_bucket{signal="logs",le="0.25"}', 0),
                             ('_bucket{signal="logs",le="1"}', 1),
                             ('_count{signal="logs"}', 1),
                             ('_count{signal="metrics"}', 0)):
            assert "sluice_request_duration_seconds%s %d\n" % (series, want) in text, (series, text[-3000:])
        assert s.stop() == 0
    finally:
        s.close()


def test_sighup_with_garbage_policy_keeps_old_snapshot():
    s = None
    tmp = tempfile.mkdtemp(prefix="sluice-serve-pol-")
    try:
        pol = os.path.join(tmp, "policies.json")
        shutil.copy(os.path.join(ARGS.source, "examples/policy/policies.json"), pol)
        s = Server([], policies=pol)
        line = example("logs.jsonl")[0]
        st, _, _ = s.post("/v1/logs", line)
        assert st == 200
        with open(pol, "w") as f:
            f.write('{"policies": [ {"id": "x", "log": ')
        s.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 10
        while s.metric("sluice_reload_failure_total") < 1:
            assert time.time() < deadline, "reload failure not counted"
            time.sleep(0.1)
        while not any("policy reload failed" in l and "policies.json:1:" in l
                      for l in s.lines):
            assert time.time() < deadline, s.lines
            time.sleep(0.05)
        st, _, _ = s.post("/v1/logs", line)
        assert st == 200
        # a good file again: reload succeeds, counters carry over
        shutil.copy(os.path.join(ARGS.source, "examples/policy/policies.json"), pol)
        s.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 10
        while s.metric("sluice_reload_success_total") < 1:
            assert time.time() < deadline, "reload success not counted"
            time.sleep(0.1)
        st, _, _ = s.post("/v1/logs", line)
        assert st == 200
        assert s.stop() == 0
        out = s.output_lines()
        assert len(out) == 3
        # the old snapshot kept working: same policies, same result (the
        # 5/m rate limit and 10% sampling can differ between requests, so
        # compare against apply on the same sequence)
        assert out == apply_output([line, line, line]), "output differs from apply"
    finally:
        if s:
            s.close()
        shutil.rmtree(tmp, ignore_errors=True)


def test_regex_cache_is_written_then_loaded_on_restart():
    """--regex-cache DIR: the first start compiles the example policies'
    regexes and stores the databases; a restart with the same patterns loads
    them (files left as they were) and the output still equals apply's."""
    tmp = tempfile.mkdtemp(prefix="sluice-serve-rxc-")
    try:
        cache = os.path.join(tmp, "rx")
        os.mkdir(cache)
        line = example("logs.jsonl")[0]

        def run_once():
            """One server start with the cache, one request: then the
            databases in the cache and their modification times."""
            s = Server(["--regex-cache", cache])
            try:
                assert s.post("/v1/logs", line)[0] == 200
                assert s.stop() == 0
                assert s.output_lines() == apply_output([line])
            finally:
                s.close()
            return {f: os.stat(os.path.join(cache, f)).st_mtime_ns
                    for f in os.listdir(cache) if f.endswith(".hsdb")}

        stored = run_once()
        assert stored, "no database stored in the cache"
        assert run_once() == stored, "a cache hit changed or rewrote a database"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_policy_file_replaced_is_reloaded_by_inotify():
    s = None
    tmp = tempfile.mkdtemp(prefix="sluice-serve-pol-")
    try:
        pol = os.path.join(tmp, "p.json")
        with open(pol, "w") as f:
            json.dump({"policies": []}, f)
        s = Server([], policies=pol)
        line = example("logs.jsonl")[0]
        st, _, _ = s.post("/v1/logs", line)
        assert st == 200
        # replaced the way editors do it: a new file renamed over the old
        new = os.path.join(tmp, "p.json.new")
        with open(new, "w") as f:
            json.dump({"policies": [{"id": "drop-all", "name": "drop-all", "log": {
                "match": [{"log_field": "body", "regex": "."}], "keep": "none"}}]}, f)
        os.rename(new, pol)
        deadline = time.time() + 10
        while s.metric("sluice_reload_success_total") < 1:
            assert time.time() < deadline, "file change not picked up"
            time.sleep(0.05)
        st, _, _ = s.post("/v1/logs", line)
        assert st == 200
        assert s.stop() == 0
        out = s.output_lines()
        assert len(out) == 2
        assert records(out[0], "resourceLogs") == records(line, "resourceLogs")
        assert records(out[1], "resourceLogs") == 0, out[1][:200]
        # JSON bodies load lazily for the snapshot's reads (none, then the
        # body): each line is still what apply writes with that snapshot
        empty = os.path.join(tmp, "empty.json")
        with open(empty, "w") as f:
            json.dump({"policies": []}, f)
        for i, p in ((0, empty), (1, pol)):
            r = subprocess.run([ARGS.sluice, "apply", "--quiet", "--policies", p],
                               input=line + b"\n", capture_output=True, timeout=60)
            assert r.returncode == 0, r.stderr
            assert out[i] == r.stdout, (i, out[i][:200], r.stdout[:200])
    finally:
        if s:
            s.close()
        shutil.rmtree(tmp, ignore_errors=True)


CONFIG = """# sluice serve configuration
receivers:
  http: 127.0.0.1:0
  grpc: 127.0.0.1:0
admin: 127.0.0.1:0
threads: 2
policies:
  files: [%s]
  watch: false
exporter:
  output: %s
limits:
  max_body: 100000
"""


def test_config_file_runs_the_server_and_check_reports_located_problems():
    tmp = tempfile.mkdtemp(prefix="sluice-serve-cfg-")
    s = None
    try:
        out = os.path.join(tmp, "kept.jsonl")
        cfg = os.path.join(tmp, "serve.yaml")
        pol = os.path.join(ARGS.source, "examples/policy/policies.json")
        with open(cfg, "w") as f:
            f.write(CONFIG % (pol, out))
        r = subprocess.run([ARGS.sluice, "check", "--config", cfg], capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        s = Server([], raw=["--config", cfg])
        line = example("logs.jsonl")[0]
        st, _, _ = s.post("/v1/logs", line)
        assert st == 200
        st, _, _ = s.post("/v1/logs", b"{" + b" " * 200000 + b"}")
        assert st == 413, "limits.max_body not applied"
        assert s.stop() == 0
        with open(out, "rb") as f:
            assert f.read().splitlines(keepends=True) == apply_output([line])
        with open(cfg, "w") as f:
            f.write("receivers:\n  http: nope\n  htp: 1:2\nthreads: 0\n"
                    "policies:\n  files: [%s]\n" % pol)
        r = subprocess.run([ARGS.sluice, "check", "--config", cfg], capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 1, r
        assert "serve.yaml:2:9: http: expected HOST:PORT" in r.stderr, r.stderr
        assert 'serve.yaml:3:3: unknown key "htp" in receivers' in r.stderr, r.stderr
        assert "serve.yaml:4:10: threads: expected an integer" in r.stderr, r.stderr
        r = subprocess.run([ARGS.sluice, "serve", "--config", cfg], capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 1 and "unknown key" in r.stderr, r
    finally:
        if s:
            s.close()
        shutil.rmtree(tmp, ignore_errors=True)


class Target:
    """A forwarding target: OTLP/HTTP JSON receiver that records bodies."""

    def __init__(self, port):
        self.bodies = []
        self.types = []
        self.encodings = []  # Content-Encoding of each request
        self.peers = set()
        self.lock = threading.Lock()
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive: the forwarder reuses it

            def do_POST(self):
                n = int(self.headers["Content-Length"])
                data = self.rfile.read(n)
                with outer.lock:
                    outer.encodings.append(self.headers.get("Content-Encoding"))
                if self.headers.get("Content-Encoding") == "gzip":
                    data = gzip.decompress(data)
                with outer.lock:
                    outer.bodies.append((self.path, data))
                    outer.types.append(self.headers.get("Content-Type"))
                    outer.peers.add(self.client_address)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), H)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def free_port():
    so = socket.socket()
    so.bind(("127.0.0.1", 0))
    port = so.getsockname()[1]
    so.close()
    return port


def test_forward_target_down_then_up_backpressure_then_delivery():
    port = free_port()
    s = Server(["--forward", "http://127.0.0.1:%d" % port, "--queue-bytes", "20000"],
               output=False)
    target = None
    try:
        line = example("logs.jsonl")[0]
        kept_per_request = records(apply_output([line])[0], "resourceLogs")
        assert kept_per_request > 0
        acked = 0
        got503 = None
        for _ in range(200):
            st, hdr, body = s.post("/v1/logs", line)
            if st == 200:
                acked += 1
            else:
                got503 = (st, hdr, body)
                break
        assert got503, "queue never filled"
        st, hdr, body = got503
        assert st == 503 and "retry-after" in hdr, got503
        assert json.loads(body)["code"] == 14
        assert acked >= 1
        assert s.metric("sluice_backpressure_rejections_total") >= 1
        time.sleep(0.5)
        assert s.metric("sluice_export_retries_total") >= 1
        target = Target(port)
        deadline = time.time() + 20
        while s.metric("sluice_queue_depth") > 0:
            assert time.time() < deadline, "queue not drained after target came up"
            time.sleep(0.1)
        st, _, _ = s.post("/v1/logs", line)
        assert st == 200, "backpressure not released"
        acked += 1
        assert s.stop() == 0
        with target.lock:
            bodies = list(target.bodies)
            peers = len(target.peers)
        assert all(p == "/v1/logs" for p, _ in bodies)
        assert peers < len(bodies), "the forwarder did not keep its connection"
        # rate limit (5/m) and sampling mean later requests keep fewer
        # records: compare with apply over the same acknowledged sequence
        want = [l for l in apply_output([line] * acked)]
        want_records = sum(records(w, "resourceLogs") for w in want)
        got_records = sum(records(b, "resourceLogs") for _, b in bodies)
        assert got_records == want_records, (got_records, want_records, acked)
    finally:
        s.close()
        if target:
            target.close()


def test_sigterm_drains_the_forward_queue_or_logs_what_is_left():
    line = example("logs.jsonl")[0]
    # target down, two requests acknowledged, then the target comes up and
    # SIGTERM follows at once: the drain delivers both before exiting
    port = free_port()
    s = Server(["--forward", "http://127.0.0.1:%d" % port, "--drain-timeout-ms", "15000"],
               output=False)
    target = None
    try:
        for _ in range(2):
            st, _, _ = s.post("/v1/logs", line)
            assert st == 200
        target = Target(port)
        assert s.stop() == 0
        with target.lock:
            got = sum(records(b, "resourceLogs") for _, b in target.bodies)
        want = sum(records(l, "resourceLogs") for l in apply_output([line, line]))
        assert got == want, (got, want)
    finally:
        s.close()
        if target:
            target.close()
    # target never up: the drain gives up after its timeout, exits 0 and
    # says how much was not delivered
    port = free_port()
    s = Server(["--forward", "http://127.0.0.1:%d" % port, "--drain-timeout-ms", "800"],
               output=False)
    try:
        for _ in range(2):
            st, _, _ = s.post("/v1/logs", line)
            assert st == 200
        t0 = time.time()
        assert s.stop() == 0
        assert time.time() - t0 < 10
        assert any("drain timeout: 2 request(s)" in l for l in s.lines), s.lines[-3:]
    finally:
        s.close()


def test_forward_protobuf():
    port = free_port()
    args = ["--forward", "http://127.0.0.1:%d/otlp/" % port, "--forward-protobuf"]
    target = Target(port)
    s = Server(args, output=False)
    try:
        st, _, _ = s.post("/v1/logs", example("logs.jsonl")[0])
        assert st == 200
        assert s.stop() == 0
        with target.lock:
            assert [p for p, _ in target.bodies] == ["/otlp/v1/logs"], target.bodies
            assert target.types == ["application/x-protobuf"]
            assert target.bodies[0][1][:1] == b"\x0a"  # resource_logs, field 1
    finally:
        s.close()
        target.close()


def pass_through_policies(tmp):
    path = os.path.join(tmp, "none.json")
    with open(path, "w") as f:
        f.write('{"policies": []}')
    return path


def bodies(lines):
    """The string bodies of every log record in OTLP JSON lines, in order."""
    out = []
    for line in lines:
        for rl in json.loads(line).get("resourceLogs", []):
            for sl in rl.get("scopeLogs", []):
                out += [r["body"]["stringValue"] for r in sl.get("logRecords", [])]
    return out


def wait(cond, what, timeout=15):
    """Poll cond every 0.1 s until it holds; fail after timeout seconds."""
    deadline = time.time() + timeout
    while not cond():
        assert time.time() < deadline, "timed out waiting for " + what
        time.sleep(0.1)


def wait_drained(servers, seconds=30):
    deadline = time.time() + seconds
    for srv in servers:
        while srv.metric("sluice_queue_depth") > 0:
            assert time.time() < deadline, "queue not drained"
            time.sleep(0.1)


def test_forward_grpc_target_down_unavailable_retries_then_delivery():
    """sender --forward-grpc--> middle (a second serve, --grpc) --forward-grpc-->
    last (--grpc, --output). The middle starts after the sender has
    acknowledged requests (target down), and its own target is down with a
    tiny queue, so it answers the sender with a backpressure status
    (retried); when the last comes up everything acknowledged arrives."""
    p_mid, p_last = free_port(), free_port()
    tmp = tempfile.mkdtemp(prefix="sluice-grpc-fwd-")
    none = pass_through_policies(tmp)
    line = example("logs.jsonl")[0]
    sender = Server(["--forward-grpc", "127.0.0.1:%d" % p_mid, "--queue-bytes", "20000"],
                    output=False)
    mid = last = None
    try:
        acked = 0
        for _ in range(3):
            st, _, _ = sender.post("/v1/logs", line)
            assert st == 200
            acked += 1
        time.sleep(0.5)
        assert sender.metric("sluice_export_retries_total") >= 1, "target down: no retry"
        mid = Server(["--grpc", "127.0.0.1:%d" % p_mid, "--forward-grpc",
                      "127.0.0.1:%d" % p_last, "--queue-bytes", "600"],
                     policies=none, output=False)
        retries = sender.metric("sluice_export_retries_total")
        got503 = False
        for _ in range(300):
            st, _, _ = sender.post("/v1/logs", line)
            if st != 200:
                got503 = True
                break
            acked += 1
            time.sleep(0.01)
        assert got503, "the sender's queue never filled"
        # the sender reaches the middle when its backoff (grown while the
        # target was down) next fires: wait for that, do not race it
        wait(lambda: mid.metric("sluice_backpressure_rejections_total") >= 1,
             "the middle to push back")
        last = Server(["--grpc", "127.0.0.1:%d" % p_last], policies=none)
        wait_drained([sender, mid])
        assert sender.metric("sluice_export_retries_total") > retries, \
            "the middle's push-back was not retried"
        pushed = [l for l in sender.lines if "delivery failed (status 14)" in l
                  or "delivery failed (status 8)" in l]
        assert pushed, "no UNAVAILABLE / RESOURCE_EXHAUSTED seen: %s" % sender.lines[-3:]
        assert sender.stop() == 0 and mid.stop() == 0 and last.stop() == 0
        want = sum(records(w, "resourceLogs") for w in apply_output([line] * acked))
        got = sum(records(l, "resourceLogs") for l in last.output_lines())
        assert got == want, (got, want, acked)
    finally:
        for srv in (sender, mid, last):
            if srv:
                srv.close()
        shutil.rmtree(tmp, ignore_errors=True)


def load_until_sigterm(s, path, line, loaders=4, seconds=1.5):
    """Send line to path from `loaders` keep-alive connections for `seconds`,
    then SIGTERM; return (exit status, requests answered 200). Connections
    are opened only before SIGTERM (under a lock): once the server exits
    its port may belong to another test's server (ctest -j), whose answers
    must not be counted here."""
    acked = [0] * loaders
    term = threading.Event()
    gate = threading.Lock()

    def load(i):
        c = None
        while True:
            try:
                if c is None:
                    with gate:
                        if term.is_set():
                            return
                        c = s.conn()
                        c.auto_open = 0
                        c.connect()
                st, hdr, _ = s.post(path, line, conn=c)
                if st == 200:
                    acked[i] += 1
                if st != 200 or hdr.get("connection") == "close":
                    c.close()
                    c = None
            except (OSError, http.client.HTTPException):
                c = None
    ts = [threading.Thread(target=load, args=(i,)) for i in range(loaders)]
    for t in ts:
        t.start()
    time.sleep(seconds)
    with gate:
        term.set()
    rc = s.stop(signal.SIGTERM)
    for t in ts:
        t.join(20)
    return rc, sum(acked)


def test_sigterm_under_load_loses_nothing_acknowledged():
    s = Server(["--threads", "2"])
    try:
        rc, total = load_until_sigterm(s, "/v1/metrics", example("metrics.jsonl")[0])
        assert rc == 0, rc
        assert total > 0
        out = s.output_lines()
        assert len(out) == total, "acknowledged %d, written %d" % (total, len(out))
    finally:
        s.close()


def test_output_rotation_by_size():
    s = Server(["--rotate-bytes", "20000"])
    try:
        line = example("logs.jsonl")[0]
        for _ in range(6):
            st, _, _ = s.post("/v1/logs", line)
            assert st == 200
        assert s.stop() == 0
        assert os.path.exists(s.out + ".1"), os.listdir(s.tmp)
        assert os.path.getsize(s.out) <= 20000
    finally:
        s.close()


def run_main(namespace):
    """Parse the runner's arguments into ARGS, run every test_* function of
    namespace (a module's globals(): this file's or a sibling's that imports
    it), print PASS / FAIL per test; the exit status. --work is optional."""
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--sluice", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--work", default=tempfile.gettempdir())
    ap.add_argument("--only")
    ARGS = ap.parse_args()
    tests = [(k, v) for k, v in sorted(namespace.items()) if k.startswith("test_")]
    failed = 0
    for name, fn in tests:
        if ARGS.only and ARGS.only not in name:
            continue
        t0 = time.time()
        try:
            fn()
            print("PASS %s (%.1fs)" % (name, time.time() - t0), flush=True)
        except Exception as e:  # noqa: BLE001 - report every failure
            failed += 1
            import traceback
            traceback.print_exc(limit=3)
            print("FAIL %s: %s" % (name, str(e)[:400]), flush=True)
    print("%d failed" % failed)
    return 1 if failed else 0


def main():
    return run_main(globals())


if __name__ == "__main__":
    sys.exit(main())
