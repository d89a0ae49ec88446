#!/usr/bin/env python3
"""HTTP/2 (h2c, prior knowledge) limits of `sluice serve`, with raw frames.

Usage: run-serve-h2.py --sluice PATH --source REPO_DIR [--only NAME]

Each test starts a server with run-serve.py's Server (port 0, --output),
drives the OTLP/HTTP (or gRPC) listener with Debian's python3-h2 (frames
written by hand where a well-behaved client would refuse to), checks the
answer each limit gives, and then that the server still answers a normal
request. Runs under /usr/bin/python3 when the python on PATH has no h2.
Exit 0 when every test passed."""
import gzip
import importlib.util
import json
import os
import socket
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def debian_python():
    try:
        import h2  # noqa: F401
    except ImportError:
        deb = "/usr/bin/python3"
        if os.path.realpath(sys.executable) != os.path.realpath(deb) and os.path.exists(deb):
            os.execv(deb, [deb] + sys.argv)
        raise SystemExit("run-serve-h2.py needs Debian's python3-h2 (scripts/install-deps)")


if __name__ == "__main__":
    debian_python()

import h2.config  # noqa: E402
import h2.connection  # noqa: E402
import h2.events  # noqa: E402
import h2.exceptions  # noqa: E402
import h2.settings  # noqa: E402

_spec = importlib.util.spec_from_file_location("run_serve", os.path.join(HERE, "run-serve.py"))
rs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rs)


class Stream:
    def __init__(self):
        self.headers = None
        self.trailers = None
        self.data = b""
        self.ended = False
        self.reset = None  # RST_STREAM error code from the server


class H2:
    """A raw h2c client: everything it sends is flushed at once, events are
    gathered per stream."""

    def __init__(self, addr):
        self.sock = socket.create_connection(addr, timeout=10)
        cfg = h2.config.H2Configuration(client_side=True, header_encoding="utf-8",
                                        validate_outbound_headers=False)
        self.c = h2.connection.H2Connection(config=cfg)
        self.c.initiate_connection()
        self.streams = {}
        self.settings = {}
        self.goaway = None
        self.closed = False
        self.ping_acks = 0

    def flush(self):
        data = self.c.data_to_send()
        if data:
            self.sock.sendall(data)

    def stream(self, sid):
        return self.streams.setdefault(sid, Stream())

    def request(self, path, headers=(), body=None, end=True, sid=None):
        sid = sid or self.c.get_next_available_stream_id()
        hdr = [(":method", "POST"), (":scheme", "http"), (":authority", "x"),
               (":path", path), ("content-type", "application/json")] + list(headers)
        self.c.send_headers(sid, hdr, end_stream=end and body is None)
        self.stream(sid)
        if body is not None:
            self.send(sid, body, end)
        return sid

    def send(self, sid, body, end=False):
        """DATA frames of at most 16384 bytes (the default frame size)."""
        for i in range(0, max(len(body), 1), 16384):
            last = i + 16384 >= len(body)
            self.c.send_data(sid, body[i:i + 16384], end_stream=end and last)

    def pump(self, done, timeout=10):
        """Read and handle frames until done(self) or the connection ends."""
        deadline = time.time() + timeout
        self.flush()
        while not done(self):
            if self.closed or time.time() > deadline:
                return done(self)
            self.sock.settimeout(max(0.05, deadline - time.time()))
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except ConnectionResetError:
                data = b""
            if not data:
                self.closed = True
                continue
            try:
                events = self.c.receive_data(data)
            except h2.exceptions.ProtocolError:
                events = []  # frames after the GOAWAY the h2 library saw
            for ev in events:
                self.handle(ev)
            try:
                self.flush()
            except (BrokenPipeError, ConnectionResetError):
                self.closed = True
        return True

    def handle(self, ev):
        if isinstance(ev, h2.events.RemoteSettingsChanged):
            self.settings.update({k: v.new_value for k, v in ev.changed_settings.items()})
        elif isinstance(ev, h2.events.ResponseReceived):
            self.stream(ev.stream_id).headers = dict(ev.headers)
        elif isinstance(ev, h2.events.TrailersReceived):
            self.stream(ev.stream_id).trailers = dict(ev.headers)
        elif isinstance(ev, h2.events.DataReceived):
            self.stream(ev.stream_id).data += ev.data
            self.c.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
        elif isinstance(ev, h2.events.StreamEnded):
            self.stream(ev.stream_id).ended = True
        elif isinstance(ev, h2.events.StreamReset):
            self.stream(ev.stream_id).reset = ev.error_code
        elif isinstance(ev, h2.events.ConnectionTerminated):
            self.goaway = ev.error_code
        elif isinstance(ev, h2.events.PingAckReceived):
            self.ping_acks += 1

    def answered(self, sid):
        return lambda _: self.streams[sid].ended or self.streams[sid].reset is not None

    def close(self):
        self.sock.close()


def log_line(pad=0):
    """A small OTLP/JSON logs request, padded with whitespace to pad bytes."""
    line = b'{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"x"}}]}]}]}'
    return line + b" " * max(0, pad - len(line))


def assert_serves(s):
    """The server still answers a normal request, over HTTP/1.1 and h2, and
    then stops cleanly (exit 0: no sanitizer report, no leak)."""
    st, _, _ = s.post("/v1/logs", log_line())
    assert st == 200, st
    c = H2(s.http)
    try:
        sid = c.request("/v1/logs", body=log_line())
        assert c.pump(c.answered(sid)), "no answer over h2"
        assert c.streams[sid].headers[":status"] == "200", c.streams[sid].headers
    finally:
        c.close()
    rc = s.stop()
    assert rc == 0, (rc, "".join(s.lines)[-2000:])


def status_message(st):
    assert st.ended and st.headers["content-type"] == "application/json", st.headers
    return json.loads(st.data)


# ---- tests ---------------------------------------------------------------

def test_h2_settings_announce_our_limits():
    s = rs.Server([])
    try:
        c = H2(s.http)
        c.pump(lambda c: h2.settings.SettingCodes.MAX_HEADER_LIST_SIZE in c.settings)
        assert c.settings.get(h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS) == 100, c.settings
        assert c.settings[h2.settings.SettingCodes.MAX_HEADER_LIST_SIZE] == 16384, c.settings
        c.close()
    finally:
        s.close()


def test_h2_stream_past_max_concurrent_streams_is_refused():
    s = rs.Server([])
    try:
        c = H2(s.http)
        # 101 open requests in one write, before the server's SETTINGS are
        # read (the h2 library would otherwise refuse to open the 101st)
        sids = [c.request("/v1/logs", end=False) for _ in range(101)]
        c.pump(lambda c: c.streams[sids[-1]].reset is not None, timeout=5)
        assert c.streams[sids[-1]].reset == 7, "101st stream not REFUSED_STREAM (7)"
        assert all(c.streams[i].reset is None for i in sids[:-1])
        # the first 100 are still served on the same connection
        c.send(sids[0], log_line(), end=True)
        assert c.pump(c.answered(sids[0]))
        assert c.streams[sids[0]].headers[":status"] == "200", c.streams[sids[0]].headers
        c.close()
        assert_serves(s)
    finally:
        s.close()


def test_h2_header_list_over_max_header_gets_431():
    s = rs.Server([])
    try:
        c = H2(s.http)
        big = c.request("/v1/logs", headers=[("x-pad", "a" * 17000)], body=log_line())
        assert c.pump(c.answered(big))
        st = c.streams[big]
        assert st.headers[":status"] == "431", st.headers
        msg = status_message(st)
        assert msg["code"] == 8 and "header is larger than 16384 bytes" in msg["message"], msg
        # the connection survives: the next request on it is served
        ok = c.request("/v1/logs", body=log_line())
        assert c.pump(c.answered(ok))
        assert c.streams[ok].headers[":status"] == "200", c.streams[ok].headers
        c.close()
        assert s.metric('sluice_responses_total{class="4xx"}') == 1
        assert_serves(s)
    finally:
        s.close()


def test_h2_body_over_max_body_gets_413_and_grpc_resource_exhausted():
    s = rs.Server(["--max-body", "10000"])
    try:
        c = H2(s.http)
        big = c.request("/v1/logs", body=b" " * 20000)
        assert c.pump(c.answered(big))
        st = c.streams[big]
        assert st.headers[":status"] == "413", st.headers
        msg = status_message(st)
        assert msg["code"] == 8 and "larger than 10000 bytes" in msg["message"], msg
        ok = c.request("/v1/logs", body=log_line())
        assert c.pump(c.answered(ok))
        assert c.streams[ok].headers[":status"] == "200"
        c.close()
        # OTLP/gRPC on the gRPC listener: RESOURCE_EXHAUSTED, trailers-only
        g = H2(s._split(s.addrs[1]))
        sid = g.request("/opentelemetry.proto.collector.logs.v1.LogsService/Export",
                        headers=[("content-type", "application/grpc"), ("te", "trailers")],
                        body=b"\0\0\0\x4e\x20" + b"\0" * 20000)
        assert g.pump(g.answered(sid))
        h = g.streams[sid].headers
        assert h[":status"] == "200" and h["grpc-status"] == "8", h
        assert "larger than 10000 bytes" in h["grpc-message"], h
        g.close()
        assert_serves(s)
    finally:
        s.close()


def test_h2_streams_holding_more_than_max_body_get_503_with_retry_after():
    s = rs.Server(["--max-body", "10000"])
    try:
        c = H2(s.http)
        line = log_line(9000)
        a = c.request("/v1/logs", body=line[:5000], end=False)
        b = c.request("/v1/logs", body=b" " * 6000, end=False)
        c.c.end_stream(b)
        assert c.pump(c.answered(b))
        st = c.streams[b]
        assert st.headers[":status"] == "503" and st.headers["retry-after"] == "1", st.headers
        assert "server busy" in status_message(st)["message"]
        # the first stream was not disturbed
        c.send(a, line[5000:], end=True)
        assert c.pump(c.answered(a))
        assert c.streams[a].headers[":status"] == "200", c.streams[a].headers
        c.close()
        assert_serves(s)
    finally:
        s.close()


def test_h2_gzip_bomb_past_max_decompressed_gets_413():
    s = rs.Server(["--max-decompressed", "100000"])
    try:
        c = H2(s.http)
        bomb = gzip.compress(b"0" * 5000000)
        sid = c.request("/v1/logs", headers=[("content-encoding", "gzip")], body=bomb)
        assert c.pump(c.answered(sid))
        st = c.streams[sid]
        assert st.headers[":status"] == "413", st.headers
        assert "decompressed" in status_message(st)["message"]
        c.close()
        assert_serves(s)
    finally:
        s.close()


def test_h2_rapid_reset_ends_the_connection_with_goaway_enhance_your_calm():
    s = rs.Server([])
    try:
        # 150 resets at once stay under our burst (200): the connection lives
        c = H2(s.http)
        for _ in range(150):
            sid = c.request("/v1/logs", end=False)
            c.c.reset_stream(sid, error_code=8)
        ok = c.request("/v1/logs", body=log_line())
        assert c.pump(c.answered(ok))
        assert c.goaway is None and c.streams[ok].headers[":status"] == "200"
        c.close()
        # 400 pass it, well under nghttp2's own default (1000)
        c = H2(s.http)
        for _ in range(400):  # CVE-2023-44487: open, cancel, repeat
            sid = c.request("/v1/logs", end=False)
            c.c.reset_stream(sid, error_code=8)  # CANCEL
        t0 = time.time()
        c.pump(lambda c: c.goaway is not None and c.closed, timeout=10)
        assert c.goaway is not None, "no GOAWAY after 400 resets"
        # RFC 9113 section 7: ENHANCE_YOUR_CALM (0xb) for a peer that may
        # be generating excessive load, not INTERNAL_ERROR (nghttp2's own)
        assert c.goaway == 0xB, "GOAWAY error %d, want ENHANCE_YOUR_CALM" % c.goaway
        assert c.closed, "connection not closed after GOAWAY"
        c.close()
        print("  GOAWAY (error %d) and close after the reset burst, %.2fs"
              % (c.goaway, time.time() - t0))
        assert_serves(s)
    finally:
        s.close()


def test_h2_request_trickling_past_read_timeout_gets_408_and_goaway():
    s = rs.Server(["--read-timeout-ms", "1500"])
    try:
        c = H2(s.http)
        sid = c.request("/v1/logs", end=False)
        t0 = time.time()
        # a byte every 200 ms keeps the connection busy, never finishing
        while time.time() - t0 < 10 and c.streams[sid].headers is None and not c.closed:
            c.send(sid, b" ")
            c.pump(lambda c: c.streams[sid].headers is not None, timeout=0.2)
        st = c.streams[sid]
        assert st.headers and st.headers[":status"] == "408", (st.headers, st.reset, c.goaway, c.closed, time.time() - t0)
        assert "not received within 1500 ms" in json.loads(st.data)["message"]
        c.pump(lambda c: c.closed, timeout=5)
        assert c.goaway is not None and c.closed, (c.goaway, c.closed)
        took = time.time() - t0
        assert 1.4 < took < 10, took
        c.close()
        assert s.metric("sluice_timeouts_total") >= 1
        assert_serves(s)
    finally:
        s.close()


def test_h2_idle_connection_is_closed_after_idle_timeout():
    s = rs.Server(["--idle-timeout-ms", "1000"])
    try:
        c = H2(s.http)
        sid = c.request("/v1/logs", body=log_line())
        assert c.pump(c.answered(sid))
        t0 = time.time()
        c.pump(lambda c: c.closed, timeout=8)
        assert c.closed, "idle h2 connection still open"
        assert 0.9 < time.time() - t0 < 6, time.time() - t0
        c.close()
        assert_serves(s)
    finally:
        s.close()


def test_h2_client_pings_do_not_keep_an_idle_connection_open():
    """PINGs are answered but are not activity: a connection that only
    pings is closed at --idle-timeout-ms, like one that sends nothing (the
    OpenTelemetry Collector's gRPC keepalive enforcement makes the same
    call)."""
    s = rs.Server(["--idle-timeout-ms", "1000"])
    try:
        c = H2(s.http)
        sid = c.request("/v1/logs", body=log_line())
        assert c.pump(c.answered(sid))
        t0 = time.time()
        n = 0
        while not c.closed and time.time() - t0 < 8:
            c.c.ping(b"%08d" % n)  # every 200 ms, well inside the time-out
            n += 1
            c.pump(lambda c: c.closed, timeout=0.2)
        took = time.time() - t0
        assert c.closed, "a connection kept alive by PINGs alone"
        assert c.ping_acks >= 3, c.ping_acks  # they were answered
        assert 0.9 < took < 4, took
        print("  %d PINGs (%d acked), closed after %.2fs idle" % (n, c.ping_acks, took))
        c.close()
        # a request every 600 ms keeps a connection open past the time-out
        c = H2(s.http)
        t0 = time.time()
        while time.time() - t0 < 2.5:
            sid = c.request("/v1/logs", body=log_line())
            assert c.pump(c.answered(sid)), "busy connection closed"
            c.pump(lambda c: c.closed, timeout=0.6)
        assert not c.closed, "a connection with requests closed as idle"
        c.close()
        assert_serves(s)
    finally:
        s.close()


def test_http1_upgrade_h2c_is_ignored_and_answered_over_http1():
    """Prior knowledge only: an `Upgrade: h2c` request (RFC 7540 section
    3.2, deprecated by RFC 9113) is answered over HTTP/1.1, as a server
    that ignores the upgrade may."""
    s = rs.Server([])
    try:
        st, hdr, body = s.post("/v1/logs", log_line(), headers={
            "Connection": "Upgrade, HTTP2-Settings", "Upgrade": "h2c",
            "HTTP2-Settings": "AAMAAABkAAQAAP__"})
        assert st == 200 and "upgrade" not in hdr, (st, hdr)
        assert json.loads(body) == {}, body
        assert_serves(s)
        assert len(s.output_lines()) == 3, s.output_lines()  # this one, assert_serves' two
    finally:
        s.close()


def main():
    return rs.run_main(globals())


if __name__ == "__main__":
    sys.exit(main())
