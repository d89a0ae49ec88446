#!/usr/bin/env python3
"""TLS of `sluice serve`: receivers (HTTP/1.1, h2 via ALPN, gRPC, mutual
TLS) and exporters (--forward https://, --forward-grpc-tls), with real
clients.

Usage: run-serve-tls.py --sluice PATH --source REPO_DIR [--only NAME]

A CA, a server certificate (localhost, 127.0.0.1), a client certificate
and a second, untrusted CA with its own client certificate are made at
test time with the `openssl` CLI. Clients: Python's ssl + http.client
(HTTP/1.1), curl (HTTP/1.1 and h2), nghttp (h2 over ALPN), raw sockets
(cleartext to the TLS port, a handshake slowloris) and sluice serve itself
as the exporter of a chain. The OpenTelemetry Python SDK over TLS (OTLP
HTTP and gRPC exporters) is in run-serve-pysdk.py. Servers come from
run-serve.py's Server (port 0, --output). Exit 0 when every test passed."""
import http.client
import importlib.util
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("run_serve", os.path.join(HERE, "run-serve.py"))
rs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rs)

PKI = None  # the directory of the test certificates


def openssl(*args):
    r = subprocess.run(["openssl"] + list(args), capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, (args, r.stderr)


def make_ca(d, name):
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", os.path.join(d, name + ".key"), "-out", os.path.join(d, name + ".pem"),
            "-days", "2", "-subj", "/CN=sluice test " + name)


def make_cert(d, ca, name, cn, san=None, client=False):
    key, csr, pem = (os.path.join(d, name + x) for x in (".key", ".csr", ".pem"))
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", key, "-out", csr, "-subj", "/CN=" + cn)
    ext = os.path.join(d, name + ".ext")
    with open(ext, "w") as f:
        if san:
            f.write("subjectAltName=%s\n" % san)
        f.write("extendedKeyUsage=%s\n" % ("clientAuth" if client else "serverAuth"))
    openssl("x509", "-req", "-in", csr, "-CA", os.path.join(d, ca + ".pem"),
            "-CAkey", os.path.join(d, ca + ".key"), "-CAcreateserial", "-out", pem,
            "-days", "2", "-extfile", ext)


def pki():
    global PKI
    if PKI is None:
        PKI = tempfile.mkdtemp(prefix="sluice-tls-pki-")
        make_ca(PKI, "ca")
        make_ca(PKI, "rogue")
        make_cert(PKI, "ca", "server", "localhost", "DNS:localhost,IP:127.0.0.1")
        make_cert(PKI, "ca", "client", "sdk-client", client=True)
        make_cert(PKI, "rogue", "rogue-client", "rogue-client", client=True)
        # a second server certificate from another CA: the SIGHUP reload
        make_ca(PKI, "ca2")
        make_cert(PKI, "ca2", "server2", "localhost", "DNS:localhost,IP:127.0.0.1")
    return PKI


def p(name):
    return os.path.join(pki(), name)


def tls_flags(mtls=False):
    f = ["--tls-cert", p("server.pem"), "--tls-key", p("server.key")]
    if mtls:
        f += ["--tls-client-ca", p("ca.pem")]
    return f


def client_ctx(ca="ca.pem", cert=None, alpn=("http/1.1",)):
    ctx = ssl.create_default_context(cafile=p(ca))
    if cert:
        ctx.load_cert_chain(p(cert + ".pem"), p(cert + ".key"))
    if alpn:
        ctx.set_alpn_protocols(list(alpn))
    return ctx


def log_line(body="x"):
    return json.dumps({"resourceLogs": [{"scopeLogs": [{"logRecords": [
        {"severityText": "WARN", "body": {"stringValue": body}}]}]}]}).encode()


def https_post(addr, body, ctx=None, host="localhost"):
    """POST /v1/logs over HTTPS/1.1; (status, body, the TLS socket's
    negotiated ALPN protocol and version)."""
    c = http.client.HTTPSConnection(host, addr[1], timeout=10, context=ctx or client_ctx())
    try:
        c.request("POST", "/v1/logs", body=body, headers={"Content-Type": "application/json"})
        r = c.getresponse()
        data = r.read()
        return r.status, data, c.sock.selected_alpn_protocol(), c.sock.version()
    finally:
        c.close()


bodies, wait = rs.bodies, rs.wait


def stop_clean(s):
    rc = s.stop()
    assert rc == 0, (rc, "".join(s.lines)[-2000:])
    assert not any("Sanitizer" in l or "runtime error:" in l for l in s.lines), "".join(s.lines)[-3000:]


def grpc_addr(s):
    host, port = s.addrs[1].rsplit(":", 1)
    return host, int(port)


# ---- receivers -----------------------------------------------------------

def test_https_http1_request_is_answered_and_written():
    s = rs.Server(tls_flags())
    try:
        st, data, alpn, ver = https_post(s.http, log_line("over tls"))
        assert st == 200 and json.loads(data) == {}, (st, data)
        assert alpn == "http/1.1", alpn
        assert ver in ("TLSv1.2", "TLSv1.3"), ver
        # keep-alive: several requests on one TLS connection
        c = http.client.HTTPSConnection("localhost", s.http[1], timeout=10, context=client_ctx())
        for i in range(3):
            c.request("POST", "/v1/logs", body=log_line("ka%d" % i),
                      headers={"Content-Type": "application/json"})
            r = c.getresponse()
            assert r.status == 200 and r.read() == b"{}"
        c.close()
        # a big body (several TLS records, several reads)
        big = json.dumps({"resourceLogs": [{"scopeLogs": [{"logRecords": [
            {"severityText": "WARN", "body": {"stringValue": "b%05d" % i + "y" * 200}}
            for i in range(2000)]}]}]}).encode()
        st, _, _, _ = https_post(s.http, big)
        assert st == 200, st
        stop_clean(s)
        got = bodies(s.output_lines())
        assert got[:4] == ["over tls", "ka0", "ka1", "ka2"], got[:4]
        assert len(got) == 4 + 2000, len(got)
    finally:
        s.close()


def test_tls_below_1_2_is_refused():
    """TLS 1.2 is the floor: a client that offers at most TLS 1.1 gets no
    session (checked with the openssl CLI, which can still offer 1.1 at
    security level 0)."""
    s = rs.Server(tls_flags())
    try:
        r = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % s.http[1],
                            "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"],
                           input="", capture_output=True, text=True, timeout=20)
        assert r.returncode != 0, r.stdout[-800:]
        assert "Cipher is (NONE)" in r.stdout, r.stdout[-800:]  # no session
        r = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % s.http[1],
                            "-tls1_2", "-CAfile", p("ca.pem"), "-verify_return_error",
                            "-servername", "localhost"],
                           input="", capture_output=True, text=True, timeout=20)
        assert "Protocol  : TLSv1.2" in r.stdout or "TLSv1.2" in r.stdout, r.stdout[-800:]
        assert s.metric("sluice_tls_handshake_failures_total") >= 1
        stop_clean(s)
    finally:
        s.close()


def test_h2_over_tls_via_alpn_with_nghttp_and_curl():
    s = rs.Server(tls_flags())
    try:
        tmp = os.path.join(s.tmp, "req.json")
        with open(tmp, "wb") as f:
            f.write(log_line("nghttp h2"))
        r = subprocess.run(["nghttp", "-v", "-H", "content-type: application/json", "-d", tmp,
                            "https://localhost:%d/v1/logs" % s.http[1]],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stdout[-1500:] + r.stderr[-500:]
        assert "The negotiated protocol: h2" in r.stdout, r.stdout[-1500:]
        assert ":status: 200" in r.stdout, r.stdout[-1500:]
        if shutil.which("curl"):
            for flag, want in (("--http2", "2"), ("--http1.1", "1.1")):
                c = subprocess.run(["curl", "-sS", flag, "--cacert", p("ca.pem"), "-H",
                                    "Content-Type: application/json", "--data-binary", "@" + tmp,
                                    "-w", " %{http_code} %{http_version}",
                                    "https://localhost:%d/v1/logs" % s.http[1]],
                                   capture_output=True, text=True, timeout=30)
                assert c.stdout.endswith(" 200 " + want), (flag, c.stdout, c.stderr)
        # the gRPC listener offers only h2: a client wanting http/1.1 is refused
        ctx = client_ctx(alpn=("http/1.1",))
        with socket.create_connection(grpc_addr(s), timeout=10) as raw:
            try:
                with ctx.wrap_socket(raw, server_hostname="localhost") as t:
                    t.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                    refused = t.recv(100) == b""
            except (ssl.SSLError, ConnectionResetError):
                refused = True
        assert refused, "gRPC listener spoke http/1.1 over TLS"
        stop_clean(s)
        n = len(bodies(s.output_lines()))
        assert n == (3 if shutil.which("curl") else 1), n
    finally:
        s.close()


def test_mutual_tls_accepts_a_client_certificate_and_refuses_others():
    s = rs.Server(tls_flags(mtls=True))
    try:
        st, data, _, _ = https_post(s.http, log_line("with cert"), client_ctx(cert="client"))
        assert st == 200, (st, data)

        def refused(ctx):
            try:
                st, _, _, _ = https_post(s.http, log_line("must not pass"), ctx)
                return "answered %d" % st
            except (ssl.SSLError, ConnectionResetError, BrokenPipeError,
                    http.client.RemoteDisconnected) as e:
                return e
        for ctx, what in ((client_ctx(), "no client certificate"),
                          (client_ctx(cert="rogue-client"), "a certificate of another CA")):
            e = refused(ctx)
            assert not isinstance(e, str), (what, e)
            print("  %s: refused (%s)" % (what, type(e).__name__))
        wait(lambda: s.metric("sluice_tls_handshake_failures_total") >= 2, "two refused handshakes")
        # the refused ones do not stop the good ones
        st, _, _, _ = https_post(s.http, log_line("again"), client_ctx(cert="client"))
        assert st == 200
        stop_clean(s)
        assert bodies(s.output_lines()) == ["with cert", "again"], s.output_lines()
    finally:
        s.close()


def test_cleartext_to_a_tls_port_is_refused_cleanly():
    s = rs.Server(tls_flags())
    try:
        # cleartext HTTP: one plain 400 saying so, then the connection ends
        with socket.create_connection(s.http, timeout=10) as c:
            body = log_line("cleartext")
            c.sendall(b"POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
            got = b""
            while True:
                d = c.recv(4096)
                if not d:
                    break
                got += d
        assert got.startswith(b"HTTP/1.1 400 "), got[:200]
        assert b"TLS" in got, got
        # h2c prior knowledge and junk: closed, nothing answered. The junk
        # is fixed, not random: random bytes that start like a TLS or an
        # SSLv2 record header (0x16 03 .., or 0x80+ len 01) make OpenSSL
        # wait for the record's length, to the read time-out
        junk = b"\x01" + bytes((i * 37 + 11) % 256 for i in range(299))
        for junk in (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", junk):
            with socket.create_connection(s.http, timeout=10) as c:
                c.sendall(junk)
                try:
                    d = c.recv(4096)
                except ConnectionResetError:
                    d = b""
                assert not d.startswith(b"HTTP/"), d[:100]
                # a TLS alert at most, then the end
                while d:
                    try:
                        d = c.recv(4096)
                    except ConnectionResetError:
                        break
        assert s.metric("sluice_tls_handshake_failures_total") >= 3
        st, _, _, _ = https_post(s.http, log_line("still serving"))
        assert st == 200
        stop_clean(s)
        assert bodies(s.output_lines()) == ["still serving"], s.output_lines()
    finally:
        s.close()


def test_tls_handshake_slowloris_is_closed_at_the_read_timeout():
    """A client that connects and never finishes the handshake (silent, or
    trickling a ClientHello a byte at a time) is closed at
    --read-timeout-ms, not at the longer idle time-out."""
    s = rs.Server(tls_flags() + ["--read-timeout-ms", "1000", "--idle-timeout-ms", "30000"])
    try:
        # a real ClientHello's first bytes, from an in-memory client session
        ctx = client_ctx()
        inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
        obj = ctx.wrap_bio(inc, out, server_hostname="localhost")
        try:
            obj.do_handshake()
        except ssl.SSLWantReadError:
            pass
        hello = out.read()
        assert hello[:1] == b"\x16", hello[:5]
        for mode in ("silent", "trickle"):
            c = socket.create_connection(s.http, timeout=10)
            t0 = time.time()
            closed = False
            i = 0
            while time.time() - t0 < 8:
                if mode == "trickle" and i < len(hello) - 1:
                    try:
                        c.sendall(hello[i:i + 1])  # never the last byte
                    except (BrokenPipeError, ConnectionResetError):
                        closed = True
                        break
                    i += 1
                c.settimeout(0.2)
                try:
                    if c.recv(100) == b"":
                        closed = True
                        break
                except socket.timeout:
                    continue
                except ConnectionResetError:
                    closed = True
                    break
            took = time.time() - t0
            c.close()
            assert closed, "%s handshake still open after %.1fs" % (mode, took)
            assert 0.9 < took < 4, (mode, took)
            print("  %s handshake closed after %.2fs" % (mode, took))
        assert s.metric("sluice_timeouts_total") >= 2
        st, _, _, _ = https_post(s.http, log_line("after"))
        assert st == 200
        stop_clean(s)
    finally:
        s.close()


def client_hello():
    """The first flight of a real TLS client (a ClientHello), from an
    in-memory session."""
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = client_ctx().wrap_bio(inc, out, server_hostname="localhost")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


def closed_by_server(c, wait=2.0):
    """Whether the server ended connection c (EOF or reset) within wait
    seconds; what it sent before that (a ServerHello) is read and dropped."""
    c.settimeout(0.2)
    t0 = time.time()
    while time.time() - t0 < wait:
        try:
            if c.recv(65536) == b"":
                return True
        except socket.timeout:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return True
    return False


def test_tls_sessions_are_charged_to_max_inflight():
    """Each TLS connection's OpenSSL session is charged (64 KiB, its
    measured ceiling) to --max-inflight from accept to close: many idle
    handshakes cannot take more memory than the bound; the ones past it
    are closed at once and counted, and the budget comes back when they
    go. 1 MiB holds 16 sessions, fewer with their input buffers."""
    s = rs.Server(tls_flags() + ["--max-inflight", str(1 << 20)])
    conns = []
    try:
        hello = client_hello()
        for i in range(40):
            c = socket.create_connection(s.http, timeout=10)
            if i % 2:
                c.sendall(hello)  # mid-handshake; the others send nothing
            conns.append(c)
        closed = [closed_by_server(c, 0.5) for c in conns]
        inflight = s.metric("sluice_inflight_bytes")
        refused = s.metric("sluice_tls_memory_refusals_total")
        print("  40 connections: %d closed at once, %d refusals counted, inflight %d bytes"
              % (sum(closed), refused, inflight))
        # the bound, plus the input buffer of this very scrape (the admin
        # listener is counted but never refused, so /metrics stays reachable)
        assert inflight <= (1 << 20) + (128 << 10), inflight
        assert 16 <= sum(closed) < 40 and refused >= 16, (sum(closed), refused)
        for c in conns:
            c.close()
        # everything but the scrape's own input buffer given back
        wait(lambda: s.metric("sluice_inflight_bytes") <= (128 << 10),
             "the sessions' charge to come back")
        st, _, _, _ = https_post(s.http, log_line("after the flood"))
        assert st == 200
        stop_clean(s)
        assert bodies(s.output_lines()) == ["after the flood"]
    finally:
        for c in conns:
            c.close()
        s.close()


def admin_get(s, path, ctx=None, host="localhost"):
    c = http.client.HTTPSConnection(host, s.admin[1], timeout=10, context=ctx or client_ctx())
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, r.read().decode()
    finally:
        c.close()


def test_admin_listener_over_tls_with_its_own_or_the_receivers_certificate():
    """--admin-tls-cert/--admin-tls-key put /metrics, /healthz and /readyz
    behind TLS (Python ssl and curl); cleartext to it is refused. With
    --admin-tls the admin listener takes the receivers' context, client CA
    included: a scraper without a client certificate is refused."""
    s = rs.Server(tls_flags() + ["--admin-tls-cert", p("server2.pem"),
                                 "--admin-tls-key", p("server2.key")])
    try:
        st, _, _, _ = https_post(s.http, log_line("counted"))
        assert st == 200
        st, text = admin_get(s, "/metrics", client_ctx(ca="ca2.pem"))
        assert st == 200 and 'sluice_records_in_total{signal="logs"} 1' in text, text[:300]
        # the admin certificate is its own: the receivers' CA does not vouch for it
        try:
            admin_get(s, "/healthz", client_ctx(ca="ca.pem"))
            raise AssertionError("the admin listener showed the receivers' certificate")
        except ssl.SSLCertVerificationError:
            pass
        r = subprocess.run(["curl", "-sS", "--cacert", p("ca2.pem"),
                            "https://localhost:%d/healthz" % s.admin[1]],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0 and r.stdout == "ok\n", (r.returncode, r.stdout, r.stderr)
        c = socket.create_connection(s.admin, timeout=10)
        c.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        got = c.recv(4096)
        c.close()
        assert b"sluice_" not in got, got[:200]  # no metrics in cleartext
        stop_clean(s)
    finally:
        s.close()
    s = rs.Server(tls_flags(mtls=True) + ["--admin-tls"])
    try:
        st, text = admin_get(s, "/readyz", client_ctx(cert="client"))
        assert st == 200 and '"ready":true' in text, text
        try:
            admin_get(s, "/metrics", client_ctx())
            raise AssertionError("a scraper without a client certificate got in")
        except (ssl.SSLError, ConnectionResetError, http.client.RemoteDisconnected):
            pass
        stop_clean(s)
    finally:
        s.close()
    r = subprocess.run([rs.ARGS.sluice, "serve", "--policies",
                        os.path.join(rs.ARGS.source, "examples/policy/policies.json"),
                        "--admin-tls"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "--admin-tls needs --tls-cert" in r.stderr, r.stderr


def test_check_config_validates_admin_tls_keys():
    d = tempfile.mkdtemp(prefix="sluice-tls-admin-config-")
    try:
        pol = os.path.join(rs.ARGS.source, "examples/policy/policies.json")
        good = os.path.join(d, "good.yaml")
        with open(good, "w") as f:
            f.write("receivers: {http: 127.0.0.1:0, grpc: 127.0.0.1:0}\n"
                    "admin: 127.0.0.1:0\n"
                    "admin_tls: {cert_file: %s, key_file: %s}\n"
                    "policies: {files: [%s]}\nexporter: {output: %s}\n"
                    % (p("server.pem"), p("server.key"), pol, os.path.join(d, "o.jsonl")))
        r = subprocess.run([rs.ARGS.sluice, "check", "--config", good], capture_output=True,
                           text=True, timeout=30)
        assert r.returncode == 0, r.stdout + r.stderr
        s = rs.Server([], raw=["--config", good])
        try:
            st, text = admin_get(s, "/healthz")
            assert st == 200 and text == "ok\n"
            stop_clean(s)
        finally:
            s.close()
        bad = os.path.join(d, "bad.yaml")
        with open(bad, "w") as f:
            f.write("admin_tls:\n  cert_file: %s\n  sni: x\n"
                    "policies: {ca_file: /nonexistent/ca.pem}\n" % p("server.pem"))
        bad2 = os.path.join(d, "bad2.yaml")
        with open(bad2, "w") as f:
            f.write("admin_tls: {same_as_receivers: true}\n")
        out = ""
        for path in (bad, bad2):
            r = subprocess.run([rs.ARGS.sluice, "check", "--config", path], capture_output=True,
                               text=True, timeout=30)
            assert r.returncode == 1, r.stdout + r.stderr
            out += r.stdout + r.stderr
        for want in ("bad.yaml:2:3: admin_tls: cert_file and key_file go together",
                     'bad.yaml:3:3: unknown key "sni" in admin_tls',
                     'bad.yaml:4:21: ca_file: cannot read "/nonexistent/ca.pem"',
                     "bad2.yaml:1:12: admin_tls: same_as_receivers needs receivers.tls"):
            assert want in out, (want, out)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_bad_certificate_or_key_fails_at_start_naming_the_file():
    bad = os.path.join(pki(), "not-a-cert.pem")
    with open(bad, "w") as f:
        f.write("-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n")
    pol = os.path.join(rs.ARGS.source, "examples/policy/policies.json")
    base = [rs.ARGS.sluice, "serve", "--policies", pol, "--http", "127.0.0.1:0",
            "--grpc", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--output", os.devnull]
    for flags, name in ((["--tls-cert", bad, "--tls-key", p("server.key")], bad),
                        (["--tls-cert", p("server.pem"), "--tls-key", p("nope.key")], p("nope.key")),
                        (["--tls-cert", p("server.pem"), "--tls-key", p("client.key")], p("client.key")),
                        (["--tls-cert", p("server.pem"), "--tls-key", p("server.key"),
                          "--tls-client-ca", p("missing-ca.pem")], p("missing-ca.pem"))):
        r = subprocess.run(base + flags, capture_output=True, text=True, timeout=30)
        assert r.returncode == 1, (flags, r.returncode, r.stderr[-500:])
        assert name in r.stderr and "ready" not in r.stderr, (flags, r.stderr[-800:])
    r = subprocess.run(base + ["--tls-cert", p("server.pem")], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 2 and "--tls-key" in r.stderr, r.stderr


def test_sighup_reloads_the_certificate_for_new_connections():
    d = tempfile.mkdtemp(prefix="sluice-tls-reload-")
    try:
        cert, key = os.path.join(d, "c.pem"), os.path.join(d, "c.key")
        shutil.copy(p("server.pem"), cert)
        shutil.copy(p("server.key"), key)
        s = rs.Server(["--tls-cert", cert, "--tls-key", key])
        try:
            st, _, _, _ = https_post(s.http, log_line("first"))
            assert st == 200
            shutil.copy(p("server2.pem"), cert)
            shutil.copy(p("server2.key"), key)
            s.proc.send_signal(signal.SIGHUP)
            wait(lambda: any("tls certificate reloaded" in l for l in s.lines), "the reload")
            st, _, _, _ = https_post(s.http, log_line("second"), client_ctx(ca="ca2.pem"))
            assert st == 200
            try:
                https_post(s.http, log_line("old ca"), client_ctx(ca="ca.pem"))
                raise AssertionError("the old certificate is still served")
            except ssl.SSLCertVerificationError:
                pass
            # a broken file: logged, the last good certificate stays
            with open(cert, "w") as f:
                f.write("garbage")
            s.proc.send_signal(signal.SIGHUP)
            wait(lambda: any("tls reload failed" in l for l in s.lines), "the failed reload")
            st, _, _, _ = https_post(s.http, log_line("third"), client_ctx(ca="ca2.pem"))
            assert st == 200
            stop_clean(s)
            assert bodies(s.output_lines()) == ["first", "second", "third"]
        finally:
            s.close()
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_check_config_validates_tls_keys():
    d = tempfile.mkdtemp(prefix="sluice-tls-config-")
    try:
        pol = os.path.join(rs.ARGS.source, "examples/policy/policies.json")
        good = os.path.join(d, "good.yaml")
        with open(good, "w") as f:
            f.write("receivers:\n  http: 127.0.0.1:0\n  grpc: 127.0.0.1:0\n"
                    "  tls: {cert_file: %s, key_file: %s, client_ca_file: %s}\n"
                    "admin: 127.0.0.1:0\npolicies: {files: [%s], compression: gzip}\n"
                    "exporter: {output: %s, compression: none}\n"
                    % (p("server.pem"), p("server.key"), p("ca.pem"), pol, os.path.join(d, "o.jsonl")))
        r = subprocess.run([rs.ARGS.sluice, "check", "--config", good], capture_output=True,
                           text=True, timeout=30)
        assert r.returncode == 0, r.stdout + r.stderr
        s = rs.Server([], raw=["--config", good])
        try:
            st, _, _, _ = https_post(s.http, log_line("from config"), client_ctx(cert="client"))
            assert st == 200
            stop_clean(s)
        finally:
            s.close()
        bad = os.path.join(d, "bad.yaml")
        with open(bad, "w") as f:
            f.write("receivers:\n  tls:\n    cert_file: /nonexistent/cert.pem\n"
                    "    key_file: %s\n    ciphers: all\n"
                    "exporter: {forward: \"https://localhost:1\", compression: brotli,\n"
                    "           insecure_skip_verify: 3}\n" % p("server.key"))
        r = subprocess.run([rs.ARGS.sluice, "check", "--config", bad], capture_output=True,
                           text=True, timeout=30)
        out = r.stdout + r.stderr
        assert r.returncode == 1, out
        assert "go together" not in out, out  # an unreadable cert_file is one problem
        for want in ('bad.yaml:3:16: cert_file: cannot read "/nonexistent/cert.pem"',
                     'bad.yaml:5:5: unknown key "ciphers" in receivers.tls',
                     'bad.yaml:6:57: compression: unknown value "brotli" (gzip or none)',
                     'bad.yaml:7:34: insecure_skip_verify: expected true or false'):
            assert want in out, (want, out)
    finally:
        shutil.rmtree(d, ignore_errors=True)


# ---- exporters -----------------------------------------------------------

def test_forward_https_chain_delivers_to_a_tls_serve():
    """serve --forward https:// -> a TLS serve: verified against
    --forward-ca (by name, with SNI), JSON and protobuf; an untrusted
    certificate is retried, never delivered, until skip-verify."""
    target = rs.Server(tls_flags())
    try:
        url = "https://localhost:%d" % target.http[1]
        for extra, body in (([], "json"), (["--forward-protobuf"], "protobuf")):
            front = rs.Server(["--forward", url, "--forward-ca", p("ca.pem")] + extra, output=False)
            try:
                st, _, _ = front.post("/v1/logs", log_line("chain " + body))
                assert st == 200, st
                wait(lambda: front.metric("sluice_export_requests_total") >= 1, "the export")
                assert front.metric("sluice_export_failures_total") == 0, "".join(front.lines)[-1500:]
                stop_clean(front)
            finally:
                front.close()
        # the system store does not know the test CA: refused, retried
        front = rs.Server(["--forward", url], output=False)
        try:
            st, _, _ = front.post("/v1/logs", log_line("untrusted"))
            assert st == 200
            wait(lambda: front.metric("sluice_export_failures_total") >= 1, "a refused certificate")
            assert any("certificate" in l and "refused" in l for l in front.lines), \
                "".join(front.lines)[-1500:]
            front.proc.kill()
            front.proc.wait()
        finally:
            front.close()
        # the name must match: 127.0.0.1 is in the certificate, 127.0.0.2 is not
        front = rs.Server(["--forward", "https://127.0.0.2:%d" % target.http[1],
                           "--forward-ca", p("ca.pem")], output=False)
        try:
            st, _, _ = front.post("/v1/logs", log_line("wrong name"))
            assert st == 200
            wait(lambda: front.metric("sluice_export_failures_total") >= 1, "a name mismatch")
            front.proc.kill()
            front.proc.wait()
        finally:
            front.close()
        front = rs.Server(["--forward", url, "--forward-insecure-skip-verify"], output=False)
        try:
            st, _, _ = front.post("/v1/logs", log_line("skip verify"))
            assert st == 200
            stop_clean(front)
        finally:
            front.close()
        stop_clean(target)
        got = bodies(target.output_lines())
        assert got == ["chain json", "chain protobuf", "skip verify"], got
    finally:
        target.close()


def test_forward_grpc_tls_chain_delivers_to_a_tls_serve():
    target = rs.Server(tls_flags())
    try:
        g = "127.0.0.1:%d" % grpc_addr(target)[1]
        for extra in ([], ["--forward-compression", "none"]):
            front = rs.Server(["--forward-grpc", g, "--forward-grpc-tls", "--forward-ca",
                               p("ca.pem")] + extra, output=False)
            try:
                st, _, _ = front.post("/v1/logs", log_line("grpc tls %s" % (extra and "plain" or "gzip")))
                assert st == 200
                wait(lambda: front.metric("sluice_export_requests_total") >= 1, "the export")
                stop_clean(front)
            finally:
                front.close()
        # h2c to a TLS gRPC port: never delivered
        front = rs.Server(["--forward-grpc", g], output=False)
        try:
            st, _, _ = front.post("/v1/logs", log_line("h2c to tls"))
            assert st == 200
            wait(lambda: front.metric("sluice_export_failures_total") >= 1, "a failed export")
            front.proc.kill()
            front.proc.wait()
        finally:
            front.close()
        stop_clean(target)
        got = bodies(target.output_lines())
        assert got == ["grpc tls gzip", "grpc tls plain"], got
    finally:
        target.close()


def test_forward_https_sends_sni_to_an_independent_server():
    """--forward https:// to Python's ssl + http.server (not sluice): the
    ClientHello names the host (SNI), ALPN is not offered to an OTLP/HTTP
    target, the body arrives gzip-compressed by default."""
    import http.server
    import threading
    seen = {"sni": [], "bodies": [], "alpn": []}
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(p("server.pem"), p("server.key"))
    ctx.sni_callback = lambda sock, name, c: seen["sni"].append(name)

    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            data = self.rfile.read(int(self.headers["Content-Length"]))
            seen["bodies"].append((self.path, self.headers.get("Content-Encoding"), data))
            seen["alpn"].append(self.connection.selected_alpn_protocol())
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *a):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    try:
        port = httpd.server_address[1]
        front = rs.Server(["--forward", "https://localhost:%d/otlp" % port,
                           "--forward-ca", p("ca.pem")], output=False)
        try:
            st, _, _ = front.post("/v1/logs", log_line("to python"))
            assert st == 200
            wait(lambda: seen["bodies"], "the export")
            stop_clean(front)
        finally:
            front.close()
        assert seen["sni"] and seen["sni"][0] == "localhost", seen["sni"]
        path, enc, data = seen["bodies"][0]
        assert path == "/otlp/v1/logs" and enc == "gzip", (path, enc)
        import gzip
        assert bodies([gzip.decompress(data)]) == ["to python"]
        assert seen["alpn"][0] is None, seen["alpn"]
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_forward_compression_none_sends_plain_bodies():
    """--forward-compression none: no Content-Encoding; the default: gzip."""
    port = rs.free_port()
    t = rs.Target(port)
    try:
        for flags, want in (([], "gzip"), (["--forward-compression", "none"], None)):
            front = rs.Server(["--forward", "http://127.0.0.1:%d" % port] + flags, output=False)
            try:
                st, _, _ = front.post("/v1/logs", log_line("c"))
                assert st == 200
                wait(lambda: len(t.encodings) >= 1, "the export")
                assert t.encodings == [want], (flags, t.encodings)
                del t.encodings[:]
                stop_clean(front)
            finally:
                front.close()
    finally:
        t.close()


def main():
    try:
        return rs.run_main(globals())
    finally:
        if PKI:
            shutil.rmtree(PKI, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
