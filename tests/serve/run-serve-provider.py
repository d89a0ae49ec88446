#!/usr/bin/env python3
"""End-to-end test of `sluice serve --policy-server URL` (the sync
provider) over loopback, against tests/conformance/sync_server.py, in three
modes: HTTP with proto-JSON bodies, HTTP with protobuf bodies
(--policy-protobuf) and gRPC (--policy-server grpc://HOST:PORT,
sync_server_pb.GrpcSyncServer; Python's protobuf and h2, so this runs on
/usr/bin/python3).

Usage: run-serve-provider.py --sluice PATH --source REPO_DIR

Checks, bounded in time:
  - the provider's policies and a policy file merge into one snapshot; on a
    duplicate id the file's policy wins and the provider's copy is rejected;
  - each sync sends the required resource attributes and, after the first,
    the last hash it took as lastSuccessfulHash;
  - hit deltas are reported (the provider's sum equals the records that
    matched, however many syncs ran) with each rejected policy's compile
    errors and each transform stage's hits and misses;
  - recommended_sync_interval_seconds is honoured (1 s here) and a new hash
    rebuilds the snapshot (sluice_reload_success_total) without a restart;
  - an unchanged hash rebuilds nothing;
  - a provider that stops answering keeps the last good snapshot and counts
    sluice_policy_sync_failure_total;
  - `sluice conform --server` (and --grpc) against a provider answering
    error_message exits 1 naming it;
  - `--forward-grpc` to a gRPC peer that answers UNIMPLEMENTED drops the
    request for good, logged and counted (not retried);
  - `policies: {server: URL}` in --config does what --policy-server does,
    and `sluice check --config` accepts a config with a server and no
    files.
Exit 0 when it passed."""
import argparse, importlib.machinery, importlib.util, json, os, shutil, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "conformance"))
from sync_server import SyncServer  # noqa: E402
import sync_server_pb  # noqa: E402


def load_serve_helpers():
    path = os.path.join(HERE, "run-serve.py")
    loader = importlib.machinery.SourceFileLoader("run_serve", path)
    spec = importlib.util.spec_from_loader("run_serve", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


_rs = load_serve_helpers()
bodies, wait = _rs.bodies, _rs.wait


def log_policy(pid, field, op, value):
    return {"id": pid, "name": pid,
            "log": {"match": [{"log_field": "LOG_FIELD_" + field.upper(), op: value}], "keep": "none"}}


def logs(*recs):
    return json.dumps({"resourceLogs": [{"scopeLogs": [{"logRecords": [
        {"severityText": sev, "body": {"stringValue": body}} for sev, body in recs]}]}]})


def scenario(rs, a, tmp, srv, codec, mode):
    """The provider scenario with serve syncing in mode; returns the serve."""
    local = os.path.join(tmp, "local.json")
    with open(local, "w") as f:
        json.dump({"policies": [log_policy("shared-id", "body", "contains", "secret")]}, f)
    served = {"policies": [
        log_policy("drop-debug", "severity_text", "exact", "DEBUG"),
        log_policy("bad-regex", "body", "regex", "([bad"),
        # same id as the file's policy: the file's wins, this one is rejected
        log_policy("shared-id", "severity_text", "exact", "INFO"),
        # kept and transformed: its stage counts are reported
        {"id": "tag-warn", "name": "tag-warn",
         "log": {"match": [{"log_field": "LOG_FIELD_SEVERITY_TEXT", "exact": "WARN"}], "keep": "all",
                 "transform": {"remove": [{"log_attribute": {"path": ["absent"]}}],
                               "add": [{"log_attribute": {"path": ["tagged"]}, "value": "1"}]}}},
    ]}
    srv.serve(json.dumps(served))
    first_hash = srv.hash
    grpc = sync_server_pb.GrpcSyncServer(srv, codec).__enter__() if mode == "grpc" else None
    flags = {"json": ["--policy-server", srv.url],
             "protobuf": ["--policy-server", srv.url, "--policy-protobuf"],
             "grpc": ["--policy-server", "grpc://" + (grpc.target if grpc else "")]}[mode]
    s = rs.Server(flags, policies=local)
    try:
        st, _, _ = s.post("/v1/logs", logs(("DEBUG", "d1"), ("INFO", "has secret"), ("INFO", "plain"),
                                           ("WARN", "w1")))
        assert st == 200, st
        wait(lambda: srv.stats()["policies"] and
             any(p["policy_id"] == "drop-debug" and p["hits"] >= 1 for p in srv.stats()["policies"]),
             "the hits of drop-debug to be reported")
        time.sleep(2.5)  # two more syncs: deltas, not totals
        got = {p["policy_id"]: p for p in srv.stats()["policies"]}
        assert got["drop-debug"]["hits"] == 1, got
        assert got["shared-id"]["hits"] == 1, got  # the file's policy (body contains secret)
        assert any(e.startswith('log: match[0]: invalid regex "([bad"') for e in got["bad-regex"]["errors"]), got
        assert got["tag-warn"].get("stages") == {"remove": {"hits": 0, "misses": 1},
                                                 "add": {"hits": 1, "misses": 0}}, got["tag-warn"]
        _, text = s.get("/metrics")
        for series in ('{policy="tag-warn",stage="add",result="hit"} 1',
                       '{policy="tag-warn",stage="remove",result="miss"} 1'):
            assert "sluice_policy_transform_stage_total" + series in text, series
        reqs = list(srv.requests)
        assert len(reqs) >= 3, len(reqs)
        for r in reqs:
            keys = {x["key"] for x in r["clientMetadata"]["resourceAttributes"]}
            assert {"service.name", "service.namespace", "service.version",
                    "service.instance.id"} <= keys, keys
        assert all(r.get("lastSuccessfulHash") == first_hash for r in reqs[1:]), reqs[1:]
        assert reqs[0].get("fullSync") is True and not reqs[1].get("fullSync"), reqs[:2]
        assert s.metric("sluice_reload_success_total") == 0, "same hash, yet rebuilt"
        # new policies: rebuilt within a sync interval, no restart
        srv.serve(json.dumps({"policies": [log_policy("drop-info", "severity_text", "exact", "INFO")]}))
        wait(lambda: s.metric("sluice_reload_success_total") >= 1, "the provider's new policies")
        st, _, _ = s.post("/v1/logs", logs(("DEBUG", "d2"), ("INFO", "dropped now")))
        assert st == 200, st
        wait(lambda: any(p["policy_id"] == "drop-info" and p["hits"] >= 1 for p in srv.stats()["policies"]),
             "the hits of drop-info")
        # the provider is down: syncs fail, the last snapshot keeps working
        srv.failing = True
        wait(lambda: s.metric("sluice_policy_sync_failure_total") >= 1, "a failed sync to be counted")
        st, _, _ = s.post("/v1/logs", logs(("INFO", "still dropped"), ("WARN", "kept")))
        assert st == 200, st
        assert s.stop() == 0
        out = bodies(s.output_lines())
        assert out == ["plain", "w1", "d2", "kept"], out
        assert any("policy shared-id: duplicate id" in l for l in s.lines), "".join(s.lines)[-2000:]
        assert not any("Sanitizer" in l or "runtime error:" in l for l in s.lines), "".join(s.lines)[-3000:]
        return s
    except BaseException:
        print("".join(s.lines)[-3000:])
        s.close()
        raise
    finally:
        if grpc:
            grpc.__exit__()


def conform_error_message(a, tmp, codec):
    inp = os.path.join(tmp, "in.json")
    with open(inp, "w") as f:
        f.write(logs(("INFO", "x")))
    with SyncServer(codec=codec) as srv:
        srv.error_message = "no policies for you"
        with sync_server_pb.GrpcSyncServer(srv, codec) as grpc:
            for where in (["--server", srv.url], ["--server", srv.url, "--protobuf"],
                          ["--grpc", grpc.target]):
                r = subprocess.run([a.sluice, "conform"] + where + ["--input", inp,
                                    "--output", os.path.join(tmp, "o.json"), "--stats",
                                    os.path.join(tmp, "s.json"), "--signal", "log"],
                                   capture_output=True, text=True, timeout=30)
                assert r.returncode == 1 and "no policies for you" in r.stderr, \
                    (where, r.returncode, r.stderr)


def config_file(rs, a, tmp):
    served = {"policies": [log_policy("drop-debug", "severity_text", "exact", "DEBUG"),
                           log_policy("drop-info", "severity_text", "exact", "INFO")]}
    with SyncServer() as srv:
        srv.serve(json.dumps(served))
        cfg = os.path.join(tmp, "serve.yaml")
        out = os.path.join(tmp, "cfg-out.jsonl")
        with open(cfg, "w") as f:
            f.write("receivers: {http: 127.0.0.1:0, grpc: 127.0.0.1:0}\n"
                    "admin: 127.0.0.1:0\nthreads: 1\n"
                    "policies: {server: \"%s\"}\nexporter: {output: %s}\n" % (srv.url, out))
        r = subprocess.run([a.sluice, "check", "--config", cfg], capture_output=True,
                           text=True, timeout=30)
        assert r.returncode == 0, r.stderr + r.stdout
        s2 = rs.Server([], raw=["--config", cfg])
        try:
            st, _, _ = s2.post("/v1/logs", logs(("DEBUG", "gone"), ("INFO", "gone too"), ("WARN", "stays")))
            assert st == 200, st
            assert s2.stop() == 0
            with open(out) as f:
                got = bodies(f.read().splitlines())
                assert got == ["stays"], (got, "".join(s2.lines)[-1500:])
        finally:
            s2.close()


def forward_grpc_refused(rs, codec):
    """--forward-grpc to a gRPC peer without the Export method (the sync
    server answers UNIMPLEMENTED): a permanent refusal, logged and counted
    in sluice_export_dropped_total, not retried."""
    with SyncServer(codec=codec) as srv, sync_server_pb.GrpcSyncServer(srv, codec) as peer:
        s = rs.Server(["--forward-grpc", peer.target], output=False)
        try:
            st, _, _ = s.post("/v1/logs", logs(("WARN", "w")))
            assert st == 200, st
            wait(lambda: s.metric("sluice_export_dropped_total") >= 1, "the refusal to be counted")
            assert s.metric("sluice_export_retries_total") == 0
            assert s.stop() == 0
            assert any("target answered 12" in l for l in s.lines), "".join(s.lines)[-1500:]
        finally:
            s.close()


def compression_of_what_serve_sends(rs, codec):
    """gzip on the requests serve sends: --forward-grpc compresses by
    default (grpc-encoding: gzip, the message flagged compressed) and not
    with --forward-compression none; the policy sync sends plain bodies by
    default and gzip with --policy-compression gzip, over HTTP
    (Content-Encoding) and gRPC (grpc-encoding). The peers decompress and
    answer, so the sync still works."""
    export = "/opentelemetry.proto.collector.logs.v1.LogsService/Export"
    sync = "/tero.policy.v1.PolicyService/Sync"
    with SyncServer(interval=1, codec=codec) as srv, sync_server_pb.GrpcSyncServer(srv, codec) as peer:
        srv.serve(json.dumps({"policies": [log_policy("drop-debug", "severity_text", "exact", "DEBUG")]}))
        for flags, want in (([], ("gzip", True)),
                            (["--forward-compression", "none"], ("identity", False)),
                            (["--forward-compression", "gzip"], ("gzip", True))):
            del srv.encodings[:]
            s = rs.Server(["--forward-grpc", peer.target] + flags, output=False)
            try:
                st, _, _ = s.post("/v1/logs", logs(("WARN", "w")))
                assert st == 200, st
                wait(lambda: any(e[0] == export for e in srv.encodings), "the export call")
                got = [e[1:] for e in srv.encodings if e[0] == export]
                assert got[0] == want, (flags, got)
                assert s.stop() == 0
            finally:
                s.close()
        for url, flags, want in ((srv.url, [], ("/v1/policy/sync", None, False)),
                                 (srv.url, ["--policy-compression", "gzip"], ("/v1/policy/sync", "gzip", True)),
                                 ("grpc://" + peer.target, ["--policy-compression", "gzip"], (sync, "gzip", True)),
                                 ("grpc://" + peer.target, [], (sync, "identity", False))):
            del srv.encodings[:]
            s = rs.Server(["--policy-server", url] + flags)
            try:
                wait(lambda: len([e for e in srv.encodings if e[0] == want[0]]) >= 2,
                     "two syncs")  # the first (before ready) and a periodic one
                got = [e for e in srv.encodings if e[0] == want[0]]
                assert all(e == want for e in got), (url, flags, got)
                # the periodic sync's answer was read (the first one, before
                # the ready line, is not counted)
                wait(lambda: s.metric("sluice_policy_sync_success_total") >= 1,
                     "an answered periodic sync")
                assert s.stop() == 0
            finally:
                s.close()


class TlsFront:
    """A TLS terminator for the test sync servers: accepts TLS on
    127.0.0.1:port (a certificate of the test CA for localhost and
    127.0.0.1; ALPN h2 or http/1.1) and relays the bytes both ways to the
    cleartext backend at (host, port). .port is its own."""

    def __init__(self, backend, cert, key):
        import socket, ssl, threading
        self.socket, self.threading = socket, threading
        self.backend = backend
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cert, key)
        self.ctx.set_alpn_protocols(["h2", "http/1.1"])
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.threading.Thread(target=self._relay, args=(c,), daemon=True).start()

    def _relay(self, c):
        import select, ssl
        try:
            c.settimeout(10)
            t = self.ctx.wrap_socket(c, server_side=True)
        except (ssl.SSLError, OSError):
            c.close()
            return
        b = self.socket.create_connection(self.backend, timeout=10)
        try:
            while True:
                ready = [t] if t.pending() else select.select([t, b], [], [], 30)[0]
                if not ready:
                    return
                for src, dst in ((t, b), (b, t)):
                    if src in ready:
                        data = src.recv(65536)
                        if not data:
                            return
                        dst.sendall(data)
        except (ssl.SSLError, OSError):
            pass
        finally:
            t.close()
            b.close()

    def close(self):
        self.sock.close()


def policy_server_over_tls(rs, a, tmp, codec):
    """--policy-server https://... and grpcs://... with --policy-ca: the
    sync runs over TLS to the test sync server behind a TLS front whose
    certificate the test CA signed; its policies are enforced. Without
    --policy-ca (the system store) or with another CA the first sync
    fails: serve refuses to start, logging the refused certificate."""
    spec = importlib.util.spec_from_file_location("run_serve_tls",
                                                  os.path.join(HERE, "run-serve-tls.py"))
    tls = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tls)
    pol = os.path.join(tmp, "tls-local.json")
    with open(pol, "w") as f:
        json.dump({"policies": [log_policy("never", "body", "contains", "zzz-never")]}, f)
    try:
        over_tls(rs, a, tls, pol, codec)
    finally:
        if tls.PKI:
            shutil.rmtree(tls.PKI, ignore_errors=True)


def over_tls(rs, a, tls, pol, codec):
    with SyncServer(interval=1, codec=codec) as srv, \
            sync_server_pb.GrpcSyncServer(srv, codec) as grpc:
        srv.serve(json.dumps({"policies": [log_policy("drop-debug", "severity_text", "exact",
                                                      "DEBUG")]}))
        host, port = srv.url.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)
        fronts = {"https": TlsFront((host, int(port)), tls.p("server.pem"), tls.p("server.key")),
                  "grpcs": TlsFront(grpc.sock.getsockname(), tls.p("server.pem"),
                                    tls.p("server.key"))}
        urls = {"https": "https://127.0.0.1:%d/v1/policy/sync" % fronts["https"].port,
                "grpcs": "grpcs://localhost:%d" % fronts["grpcs"].port}
        try:
            for scheme, url in urls.items():
                s = rs.Server(["--policy-server", url, "--policy-ca", tls.p("ca.pem")],
                              policies=pol)
                try:
                    st, _, _ = s.post("/v1/logs", logs(("DEBUG", "gone"), ("WARN", "kept")))
                    assert st == 200, st
                    wait(lambda: s.metric("sluice_policy_sync_success_total") >= 1,
                         "a periodic sync over %s" % scheme)
                    assert s.stop() == 0
                    assert bodies(s.output_lines()) == ["kept"], (scheme, s.output_lines())
                finally:
                    s.close()
                for ca in ([], ["--policy-ca", tls.p("rogue.pem")]):
                    r = subprocess.run([a.sluice, "serve", "--policies", pol, "--policy-server",
                                        url, "--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0",
                                        "--admin", "127.0.0.1:0"] + ca,
                                       capture_output=True, text=True, timeout=60)
                    assert r.returncode != 0 and "ready" not in r.stderr, (scheme, ca, r.stderr)
                    assert "tls: certificate refused" in r.stderr, (scheme, ca, r.stderr[-800:])
        finally:
            for f in fronts.values():
                f.close()


def main():
    sync_server_pb.need_debian_python()
    ap = argparse.ArgumentParser()
    ap.add_argument("--sluice", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--shared", default=os.environ.get("SLUICE_SHARED",
                                                       os.path.join(HERE, "..", "..", "..", "shared")))
    ap.add_argument("--mode", action="append", choices=["json", "protobuf", "grpc"])
    a = ap.parse_args()
    rs = _rs
    rs.ARGS = a
    tmp = tempfile.mkdtemp(prefix="sluice-provider-test-")
    failed = 0
    try:
        codec = sync_server_pb.ProtoCodec(a.shared, tmp)
        for mode in a.mode or ["json", "protobuf", "grpc"]:
            try:
                with SyncServer(interval=1, codec=codec) as srv:
                    scenario(rs, a, tmp, srv, codec, mode).close()
                print("PASS serve --policy-server [%s]" % mode)
            except AssertionError as e:
                failed += 1
                print("FAIL serve --policy-server [%s]: %s" % (mode, str(e)[:1500]))
        for name, fn in (("conform error_message", lambda: conform_error_message(a, tmp, codec)),
                         ("forward-grpc refused", lambda: forward_grpc_refused(rs, codec)),
                         ("compression of what serve sends",
                          lambda: compression_of_what_serve_sends(rs, codec)),
                         ("policies.server in --config", lambda: config_file(rs, a, tmp)),
                         ("policy-server over TLS with --policy-ca",
                          lambda: policy_server_over_tls(rs, a, tmp, codec))):
            try:
                fn()
                print("PASS " + name)
            except AssertionError as e:
                failed += 1
                print("FAIL %s: %s" % (name, str(e)[:1500]))
        return 1 if failed else 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
