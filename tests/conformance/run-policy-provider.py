#!/usr/bin/env python3
"""Policy conformance in provider mode (upstream's HTTP mode): the runner
gets its policies from a sync server instead of a file.

Usage: run-policy-provider.py --sluice PATH [--expect-fail FILE] [--case NAME]
                              [--mode json|protobuf|grpc]... [--all]
                              [--verbose] SHARED

../shared/tools/policy-conformance has no provider mode (it skips the cases
marked provider_only), so this driver does what upstream's harness does in
HTTP and gRPC mode: it starts a sync server (sync_server.py, loopback, port
0) serving the case's policies.json as a SyncResponse, runs
    sluice conform --server URL --input I --output O --stats S --signal SIG
once per case and mode (json: proto-JSON bodies; protobuf: --protobuf,
application/x-protobuf bodies; grpc: --grpc HOST:PORT, PolicyService/Sync;
the last two with Python's protobuf and h2 on the server side,
sync_server_pb.py; default: json and protobuf, run-policy-provider-grpc.py
runs grpc; with --all every single-batch case passes in each mode), and
checks
  - the output against expected.json, normalised as policy-conformance does;
  - what the runner reported through PolicySyncStatus (its second sync)
    against expected_stats.json, compared as upstream compares server stats:
    misses and zero-hit entries dropped, each error string cut after its
    `invalid regex "<pattern>"` prefix (the regex engine's own message
    follows it and differs between engines);
  - the SyncRequests: client metadata with the four required resource
    attributes (service.name, .namespace, .version, .instance.id), a full
    first sync, and the served hash sent back as last_successful_hash.
Cases: those marked provider_only in SHARED/conformance/policy/testcases;
with --all also every single-batch case (not in make test: file mode covers
them). --expect-fail FILE names cases that still fail ('#' comments); a
listed case that passes fails the run. A sanitizer report on stderr is a
failure. The last line is 'policy-provider: N passed, N failed'.
"""
import argparse, importlib.machinery, importlib.util, json, os, re, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sync_server import SyncServer  # noqa: E402
import sync_server_pb  # noqa: E402

REQUIRED_ATTRS = {"service.name", "service.namespace", "service.version", "service.instance.id"}
_REGEX_PREFIX = re.compile(r'^(.*?invalid regex ".*?")(?::.*)?$', re.S)


def load_tool(shared):
    """policy-conformance's normalisation (the file has no .py suffix)."""
    tools = os.path.join(shared, "tools")
    sys.path.insert(0, tools)
    path = os.path.join(tools, "policy-conformance")
    loader = importlib.machinery.SourceFileLoader("policy_conformance", path)
    spec = importlib.util.spec_from_loader("policy_conformance", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


def norm_error(e):
    m = _REGEX_PREFIX.match(e)
    return m.group(1) if m else e


def provider_stats(entries):
    """Stats as upstream compares them in HTTP mode."""
    out = []
    for p in entries:
        e = {"policy_id": p["policy_id"]}
        if p.get("hits"):
            e["hits"] = p["hits"]
        if p.get("errors"):
            e["errors"] = [norm_error(x) for x in p["errors"]]
        if len(e) > 1:
            out.append(e)
    return sorted(out, key=lambda e: e["policy_id"])


def check_requests(reqs, served_hash):
    problems = []
    if len(reqs) < 2:
        return ["%d sync request(s), want one to load and one to report" % len(reqs)]
    for i, r in enumerate(reqs):
        attrs = {a.get("key") for a in r.get("clientMetadata", {}).get("resourceAttributes", [])
                 if a.get("value", {}).get("stringValue")}
        missing = REQUIRED_ATTRS - attrs
        if missing:
            problems.append("request %d lacks resource attributes %s" % (i, sorted(missing)))
    if reqs[0].get("fullSync") is not True:
        problems.append("first request is not a full sync")
    if reqs[0].get("lastSuccessfulHash"):
        problems.append("first request already names a hash")
    if reqs[-1].get("lastSuccessfulHash") != served_hash:
        problems.append("last request's lastSuccessfulHash %r is not the served hash"
                        % reqs[-1].get("lastSuccessfulHash"))
    return problems


def run_case(tool, sluice, srv, case, work, where):
    name = os.path.basename(case)
    signal = {"logs": "log", "metrics": "metric", "traces": "trace"}[name.split("_")[0]]
    with open(os.path.join(case, "policies.json")) as f:
        srv.serve(f.read())
    out, stats = os.path.join(work, "out.json"), os.path.join(work, "stats.json")
    for p in (out, stats):
        if os.path.exists(p):
            os.remove(p)
    r = subprocess.run([sluice, "conform"] + where + ["--input",
                        os.path.join(case, "input.json"), "--output", out,
                        "--stats", stats, "--signal", signal],
                       capture_output=True, timeout=30)
    bad = tool.sanitizer_problem(r.stderr)
    if bad:
        return [bad]
    if r.returncode != 0:
        return ["runner exited %d: %s" % (r.returncode, r.stderr.decode(errors="replace")[-400:])]
    problems = []
    e, g = tool.normalise(tool.load(os.path.join(case, "expected.json"))), tool.normalise(tool.load(out))
    if e != g:
        problems.append("output differs:\n%s" % tool.diff(e, g))
    want = provider_stats(tool.load(os.path.join(case, "expected_stats.json"))["policies"])
    got = provider_stats(srv.stats()["policies"])
    if want != got:
        problems.append("reported statuses differ:\n%s" % tool.diff(want, got))
    # the runner's own stats file must agree with what it reported
    filed = {p["policy_id"]: p["hits"] for p in tool.load(stats)["policies"] if p.get("hits")}
    told = {p["policy_id"]: p["hits"] for p in srv.stats()["policies"] if p["hits"]}
    if filed != told:
        problems.append("stats file hits %s but reported %s" % (filed, told))
    return problems + check_requests(srv.requests, srv.hash)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sluice", required=True)
    ap.add_argument("--expect-fail", metavar="FILE")
    ap.add_argument("--case", action="append")
    ap.add_argument("--all", action="store_true", help="also every single-batch case")
    ap.add_argument("--verbose", "-v", action="store_true")
    ap.add_argument("--mode", action="append", choices=["json", "protobuf", "grpc"])
    ap.add_argument("shared")
    a = ap.parse_args()
    modes = a.mode or ["json", "protobuf"]
    if modes != ["json"]:
        sync_server_pb.need_debian_python()
    tool = load_tool(a.shared)
    root = os.path.join(a.shared, "conformance", "policy", "testcases")
    names = sorted(n for n in os.listdir(root) if os.path.isdir(os.path.join(root, n)))
    cases = [n for n in names
             if os.path.exists(os.path.join(root, n, "provider_only"))
             or (a.all and os.path.exists(os.path.join(root, n, "input.json")))]
    expected = tool.load_expected(a.expect_fail, cases)
    passed, failures = 0, []
    with tempfile.TemporaryDirectory() as work:
        codec = sync_server_pb.ProtoCodec(a.shared, work) if modes != ["json"] else None
        for mode in modes:
            with SyncServer(codec=codec) as srv:
                grpc = sync_server_pb.GrpcSyncServer(srv, codec) if mode == "grpc" else None
                if grpc:
                    grpc.__enter__()
                where = {"json": ["--server", srv.url],
                         "protobuf": ["--server", srv.url, "--protobuf"],
                         "grpc": ["--grpc", grpc.target if grpc else ""]}[mode]
                try:
                    for name in cases:
                        if a.case and name not in a.case:
                            continue
                        try:
                            problems = run_case(tool, a.sluice, srv, os.path.join(root, name),
                                                work, where)
                        except Exception as e:  # runner time-out, bad JSON
                            problems = ["%s: %s" % (type(e).__name__, e)]
                        if problems:
                            failures.append(name)
                            print("  %s  %s [%s]" % ("XFAIL" if name in expected else "FAIL ",
                                                     name, mode))
                            if a.verbose or name not in expected:
                                for p in problems:
                                    print("    " + p.replace("\n", "\n    "))
                        else:
                            passed += 1
                            print("  PASS  %s [%s]" % (name, mode))
                finally:
                    if grpc:
                        grpc.__exit__()
    if a.case:
        expected &= set(a.case)
    status = tool.verdict("policy-provider", failures, expected, a.expect_fail)
    print("policy-provider: %d passed, %d failed" % (passed, len(failures)))
    return status


if __name__ == "__main__":
    sys.exit(main())
