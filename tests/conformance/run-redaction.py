#!/usr/bin/env python3
"""Run ../shared/conformance/redaction/cases.json through `sluice redact`.

Usage: run-redaction.py --sluice PATH [--expect-fail FILE] SHARED_DIR

Each case's policy is written to a temporary JSON policy file (v0's names
mapped: key_pattern -> key, path_pattern -> path; "default" becomes
--default), its input is fed as one JSON line, and the redacted VALUE on
stdout is compared with the case's `expected` (key order and text are not
compared: sluice keeps the input's, v0 re-serialises). A case whose
`expected_error` is set must make sluice reject the policy (exit 1, a
message on stderr, nothing on stdout).

Cases where sluice differs from v0 by design are listed, with the reason and
sluice's own expected output, in redaction.divergences.json next to this
file; for those the driver asserts sluice's expected output instead. A case
listed in the --expect-fail file that passes fails the run, as does any
sanitizer report on stderr. The last line is
`redaction: N passed, N failed`.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sluice", required=True)
    ap.add_argument("--expect-fail", default=None)
    ap.add_argument("shared")
    a = ap.parse_args()
    sys.path.insert(0, os.path.join(a.shared, "tools"))
    import conformance_common as cc

    with open(os.path.join(a.shared, "conformance", "redaction", "cases.json")) as f:
        cases = json.load(f)
    with open(os.path.join(HERE, "redaction.divergences.json")) as f:
        div = {d["name"]: d for d in json.load(f)["divergences"]}
    names = [c["name"] for c in cases]
    unknown = sorted(set(div) - set(names))
    if unknown:
        sys.exit("redaction.divergences.json: not a case: " + ", ".join(unknown))
    for d in div.values():
        if not d.get("reason") or ("expected" not in d and "expected_error" not in d):
            sys.exit("redaction.divergences.json: %s needs a reason and an expected "
                     "output or error" % d["name"])
    expected_fail = cc.load_expected(a.expect_fail, names)

    failures = []
    passed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for case in cases:
            name = case["name"]
            why = run_case(a.sluice, tmp, case, div.get(name), cc)
            if why is None:
                passed += 1
            else:
                failures.append(name)
                mark = "XFAIL" if name in expected_fail else "FAIL"
                print("  %s %s: %s" % (mark, name, why))
    status = cc.verdict("redaction", failures, expected_fail, a.expect_fail)
    print("redaction: %d passed, %d failed" % (passed, len(failures)))
    return status


def policy_args(tmp, case):
    pol = case["policy"]
    if pol == "default":
        return ["--default"]
    rules = []
    for r in pol:
        out = {}
        for k, v in r.items():
            out[{"key_pattern": "key", "path_pattern": "path"}.get(k, k)] = v
        rules.append(out)
    path = os.path.join(tmp, case["name"] + ".policy.json")
    with open(path, "w") as f:
        json.dump({"rules": rules}, f)
    return ["--policy", path]


def run_case(sluice, tmp, case, divergence, cc):
    """None when the case passes, else why it failed."""
    want_error = case.get("expected_error")
    want = case.get("expected")
    if divergence is not None:
        want_error = divergence.get("expected_error")
        want = divergence.get("expected")
    payload = case.get("input")
    text = (json.dumps(payload) + "\n") if payload is not None else "{}\n"
    cmd = [sluice, "redact"] + policy_args(tmp, case) + ["--audit", os.devnull, "-"]
    try:
        p = subprocess.run(cmd, input=text.encode(), capture_output=True, timeout=30)
    except subprocess.TimeoutExpired:
        return "timed out"
    san = cc.sanitizer_problem(p.stderr)
    if san:
        return san
    err = p.stderr.decode(errors="replace").strip()
    if want_error:
        if p.returncode != 1 or p.stdout or not err:
            return "expected the policy to be rejected, got exit %d, stdout %r" % (
                p.returncode, p.stdout[:200])
        if isinstance(want_error, str) and divergence is not None and want_error not in err:
            return "expected error containing %r, got %r" % (want_error, err[:200])
        return None
    if p.returncode != 0:
        return "exit %d: %s" % (p.returncode, err[:300])
    lines = p.stdout.decode().splitlines()
    if len(lines) != 1:
        return "expected one output line, got %d" % len(lines)
    try:
        got = json.loads(lines[0])
    except ValueError as e:
        return "output is not JSON (%s): %r" % (e, lines[0][:200])
    if got != want:
        return "got %s, want %s" % (json.dumps(got)[:300], json.dumps(want)[:300])
    # the payload itself must be untouched text-wise where nothing matched:
    # compare the text of the output with the input when they are equal values
    if got == payload and lines[0] != json.dumps(payload, separators=(",", ":")):
        return "unredacted payload was not written back as read"
    return None


if __name__ == "__main__":
    sys.exit(main())
