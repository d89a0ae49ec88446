#!/usr/bin/env python3
"""End-to-end tests of `sluice serve --queue-dir` (the on-disk export queue)
over loopback, Python stdlib only, with the helpers of run-serve.py.

Usage: run-serve-spool.py --sluice PATH --source REPO_DIR [--only NAME]

What is acknowledged survives `kill -9` while the forwarding target is
down and is delivered exactly once (count and content) after a restart; a
torn tail entry is skipped and counted, the entries before it delivered; a
full disk queue answers 503 with Retry-After; SIGTERM drains the disk queue
or leaves what it could not deliver on disk for the next start.
Exit 0 when every test passed."""
import importlib.util
import json
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("run_serve",
                                               os.path.join(HERE, "run-serve.py"))
rs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rs)


def log_lines(n):
    """n distinct OTLP/JSON log requests (the example lines, each with its
    first body changed to say which request it is)."""
    base = rs.example("logs.jsonl")
    out = []
    for i in range(n):
        doc = json.loads(base[i % len(base)])
        lr = doc["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]
        lr["body"] = {"stringValue": "request %d" % i}
        out.append(json.dumps(doc).encode())
    return out


def kept_bodies(lines):
    """What --forward sends for these requests, in order: the `apply`
    output of each (requests that keep nothing are not forwarded)."""
    return [json.loads(w) for w in rs.apply_output(lines)
            if rs.records(w, "resourceLogs") > 0]


def wait_for(cond, what, timeout=20):
    deadline = time.time() + timeout
    while not cond():
        assert time.time() < deadline, "timed out waiting for " + what
        time.sleep(0.05)


def forward_args(port, qdir, extra=()):
    return ["--forward", "http://127.0.0.1:%d" % port, "--queue-dir", qdir] + list(extra)


def segments(qdir):
    return sorted(f for f in os.listdir(qdir) if f.startswith("seg-"))


def send_all(s, lines):
    for l in lines:
        st, _, body = s.post("/v1/logs", l)
        assert st == 200, (st, body)


def delivered(target):
    with target.lock:
        return [json.loads(b) for _, b in target.bodies]


def test_kill9_with_target_down_then_restart_delivers_each_once():
    qdir = tempfile.mkdtemp(prefix="sluice-spool-")
    port = rs.free_port()
    target = None
    s = rs.Server(forward_args(port, qdir), output=False)
    try:
        lines = log_lines(12)
        send_all(s, lines)
        want = kept_bodies(lines)
        assert len(want) >= 2, "the policies keep too little to check"
        assert s.metric("sluice_queue_depth") == len(want)
        assert s.metric("sluice_spool_appends_total") == len(want)
        assert s.metric("sluice_spool_syncs_total") >= 1
        s.proc.kill()  # kill -9: no drain, no cursor written
        s.proc.wait()
        s.close()
        target = rs.Target(port)
        s = rs.Server(forward_args(port, qdir), output=False)
        assert s.metric("sluice_spool_replayed_total") == len(want)
        wait_for(lambda: s.metric("sluice_queue_depth") == 0, "the replay")
        assert s.stop() == 0
        s.close()
        got = delivered(target)
        assert got == want, "delivered %d of %d, or other content" % (len(got), len(want))
        # once: a third start finds nothing left to send
        s = rs.Server(forward_args(port, qdir), output=False)
        assert s.metric("sluice_spool_replayed_total") == 0
        assert s.stop() == 0
        assert len(delivered(target)) == len(want)
        assert len(segments(qdir)) <= 1
    finally:
        s.close()
        if target:
            target.close()
        shutil.rmtree(qdir, ignore_errors=True)


def test_torn_tail_entry_is_skipped_and_counted_the_rest_delivered():
    qdir = tempfile.mkdtemp(prefix="sluice-spool-")
    port = rs.free_port()
    target = None
    s = rs.Server(forward_args(port, qdir), output=False)
    try:
        lines = log_lines(12)
        send_all(s, lines)
        want = kept_bodies(lines)
        s.proc.kill()
        s.proc.wait()
        s.close()
        seg = os.path.join(qdir, [f for f in segments(qdir)
                                  if os.path.getsize(os.path.join(qdir, f)) > 0][-1])
        size = os.path.getsize(seg)
        os.truncate(seg, size - 7)  # the last entry loses its last bytes
        target = rs.Target(port)
        s = rs.Server(forward_args(port, qdir), output=False)
        assert s.metric("sluice_spool_torn_total") == 1
        assert s.metric("sluice_spool_replayed_total") == len(want) - 1
        assert any('"level":"warn"' in l and "torn" in l for l in s.lines), s.lines
        wait_for(lambda: s.metric("sluice_queue_depth") == 0, "the replay")
        assert s.stop() == 0
        assert delivered(target) == want[:-1]
    finally:
        s.close()
        if target:
            target.close()
        shutil.rmtree(qdir, ignore_errors=True)


def test_full_disk_queue_answers_503_and_loses_nothing_acknowledged():
    qdir = tempfile.mkdtemp(prefix="sluice-spool-")
    port = rs.free_port()
    target = None
    s = rs.Server(forward_args(port, qdir, ["--queue-max-bytes", "20000"]),
                  output=False)
    try:
        lines = log_lines(200)
        acked = []
        got503 = None
        for l in lines:
            st, hdr, body = s.post("/v1/logs", l)
            if st != 200:
                got503 = (st, hdr, body)
                break
            acked.append(l)
        assert got503, "the disk queue never filled"
        st, hdr, body = got503
        assert st == 503 and "retry-after" in hdr, got503
        assert json.loads(body)["code"] == 14
        assert s.metric("sluice_backpressure_rejections_total") >= 1
        assert s.metric("sluice_queue_bytes") >= 20000
        target = rs.Target(port)
        wait_for(lambda: s.metric("sluice_queue_depth") == 0, "the drain")
        st, _, _ = s.post("/v1/logs", lines[len(acked)])
        assert st == 200, "backpressure not released"
        acked.append(lines[len(acked)])
        assert s.stop() == 0
        assert delivered(target) == kept_bodies(acked)
    finally:
        s.close()
        if target:
            target.close()
        shutil.rmtree(qdir, ignore_errors=True)


def test_sigterm_drains_the_disk_queue_or_keeps_it_for_the_next_start():
    qdir = tempfile.mkdtemp(prefix="sluice-spool-")
    lines = log_lines(3)
    want = kept_bodies(lines)
    # target up before SIGTERM: the drain delivers everything
    port = rs.free_port()
    s = rs.Server(forward_args(port, qdir), output=False)
    target = None
    try:
        send_all(s, lines)
        target = rs.Target(port)
        assert s.stop() == 0
        assert delivered(target) == want
        target.close()
        target = None
        # target never up: exit 0 after the drain timeout, the requests
        # stay on disk and the next start delivers them
        port = rs.free_port()
        s = rs.Server(forward_args(port, qdir, ["--drain-timeout-ms", "800"]),
                      output=False)
        send_all(s, lines)
        assert s.stop() == 0
        assert any("stay in the queue directory" in l for l in s.lines), s.lines[-3:]
        s.close()
        target = rs.Target(port)
        s = rs.Server(forward_args(port, qdir), output=False)
        assert s.metric("sluice_spool_replayed_total") == len(want)
        assert s.stop() == 0
        assert delivered(target) == want
    finally:
        s.close()
        if target:
            target.close()
        shutil.rmtree(qdir, ignore_errors=True)


def test_sigterm_under_load_with_disk_queue_and_output_loses_nothing():
    qdir = tempfile.mkdtemp(prefix="sluice-spool-")
    s = rs.Server(["--queue-dir", qdir, "--queue-fsync", "batch"])
    try:
        rc, total = rs.load_until_sigterm(s, "/v1/metrics", rs.example("metrics.jsonl")[0])
        assert rc == 0, rc
        assert total > 0
        out = s.output_lines()
        assert len(out) == total, (len(out), total, "".join(s.lines[-8:]))
        # the drain had 10 s: nothing may be left for the next start
        assert not any("stay in the queue directory" in l for l in s.lines), \
            "".join(s.lines[-8:])
    finally:
        s.close()
        shutil.rmtree(qdir, ignore_errors=True)


def test_queue_dir_in_use_or_unwritable_refuses_to_start():
    qdir = tempfile.mkdtemp(prefix="sluice-spool-")
    s = rs.Server(["--queue-dir", qdir])
    try:
        import subprocess
        pol = os.path.join(rs.ARGS.source, "examples/policy/policies.json")
        r = subprocess.run([rs.ARGS.sluice, "serve", "--policies", pol, "--http",
                            "127.0.0.1:0", "--grpc", "127.0.0.1:0", "--admin",
                            "127.0.0.1:0", "--queue-dir", qdir],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 1, r
        assert "in use by another process" in r.stderr, r.stderr
        r = subprocess.run([rs.ARGS.sluice, "serve", "--policies", pol,
                            "--queue-fsync", "sometimes"],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 2 and "always, batch or never" in r.stderr, r
        assert s.stop() == 0
    finally:
        s.close()
        shutil.rmtree(qdir, ignore_errors=True)


def test_pipelined_requests_share_one_fdatasync():
    qdir = tempfile.mkdtemp(prefix="sluice-spool-")
    s = rs.Server(["--queue-dir", qdir, "--queue-fsync", "batch", "--threads", "1"])
    try:
        body = json.dumps({"resourceLogs": [{"scopeLogs": [{"logRecords": [
            {"severityText": "INFO", "body": {"stringValue": "pipelined"}}]}]}]}).encode()
        req = (b"POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"Content-Length: %d\r\n\r\n" % len(body)) + body
        so = rs.socket.create_connection(s.http, timeout=10)
        so.sendall(req * 5)  # one write: the server reads them in one go
        data = b""
        while data.count(b"HTTP/1.1 200 ") < 5 or not data.endswith(b"{}"):
            chunk = so.recv(65536)
            assert chunk, data
            data += chunk
        so.close()
        assert data.count(b"HTTP/1.1 ") == 5, data
        appends = s.metric("sluice_spool_appends_total")
        syncs = s.metric("sluice_spool_syncs_total")
        assert appends == 5, appends
        # one event batch, one commit (two if the kernel split the write)
        assert 1 <= syncs <= 2, syncs
        assert s.stop() == 0
        assert len(s.output_lines()) == 5
    finally:
        s.close()
        shutil.rmtree(qdir, ignore_errors=True)


def test_config_file_sets_the_disk_queue_and_check_locates_a_bad_fsync_mode():
    import subprocess
    tmp = tempfile.mkdtemp(prefix="sluice-spool-cfg-")
    qdir = os.path.join(tmp, "queue")
    pol = os.path.join(rs.ARGS.source, "examples/policy/policies.json")
    try:
        bad = os.path.join(tmp, "bad.yaml")
        with open(bad, "w") as f:
            f.write("policies: {files: [%s]}\n"
                    "exporter:\n"
                    "  output: %s\n"
                    "  queue_dir: %s\n"
                    "  queue_fsync: sometimes\n" % (pol, os.path.join(tmp, "o"), qdir))
        r = subprocess.run([rs.ARGS.sluice, "check", "--config", bad],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 1, r
        assert '%s:5:16: queue_fsync: unknown value "sometimes"' % bad in r.stderr, r.stderr
        good = os.path.join(tmp, "good.yaml")
        with open(good, "w") as f:
            f.write("exporter: {queue_dir: %s, queue_fsync: never, queue_max_bytes: 30000}\n"
                    % qdir)
        s = rs.Server(["--config", good])
        try:
            st, _, _ = s.post("/v1/logs", rs.example("logs.jsonl")[0])
            assert st == 200
            assert s.metric("sluice_queue_capacity_bytes") == 30000
            assert s.metric("sluice_spool_appends_total") == 1
            assert s.metric("sluice_spool_syncs_total") == 0, "fsync never"
            assert segments(qdir), os.listdir(qdir)
            assert s.stop() == 0
            assert len(s.output_lines()) == 1
        finally:
            s.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    return rs.run_main(globals())


if __name__ == "__main__":
    sys.exit(main())
