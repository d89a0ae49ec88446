#!/usr/bin/env python3
"""OTLP/JSON decoder conformance: run `sluice apply` with an empty policy file
over public OTLP samples and decoder cases.

Usage: run-otlp.py --sluice PATH [--expect-fail FILE] [--case NAME] [--verbose] SHARED

Cases (from SHARED/conformance/otlp, never copied into the repository):
  decoder/<logs|metrics|traces>/<name>  every case of fluent-bit/decoder-cases/*.json
      (input written out as one JSON line). A case with `expected_error` must be
      rejected: exit status 1 and a located `file:line:col: ` error on stderr. Any
      other case must be accepted. Fluent Bit's own codes are not compared.
  sample/<dir>/<file>                   opentelemetry-proto/*.json and
      fluent-bit/integration/*.in.json, whole files.
  sample/otel-spec-file-exporter/<file>:<line>  each line of the JSON Lines files.
  sample/policy/<case>/<input>          every input of the policy conformance cases
      (SHARED/conformance/policy/testcases), whole files.
An accepted input must come out as exactly one line of JSON equal to the input
with scopes / resources that hold no records left out (as the reference runner
writes them) and hex ids in lower case: an empty policy changes nothing else.

Why `sluice apply`: it is the command users run, and the whole path (load,
validate, index, write) is what an OTLP decoder test should exercise. An empty
policy file keeps every record.

By-design divergences: where Fluent Bit rejects what the OTLP/JSON mapping
accepts, sluice follows the spec (proto3 JSON: a missing repeated or string
field is its default; {} is an empty request; "" is an empty id). Those cases
are listed in DIVERGENCES below with the reason, and must be ACCEPTED; they are
not expected failures. Where Fluent Bit accepts what the mapping rejects, the
case is listed too and must be REJECTED.

--expect-fail FILE names cases that still fail, one per line ('#' comments); a
listed case that passes fails the run. A sanitizer report on stderr is a failure.
The last line is 'otlp: N passed, N failed'.
"""
import argparse, json, os, re, subprocess, sys, tempfile

_SANITIZER = re.compile(rb"ERROR: (Address|Leak|Memory|Thread)Sanitizer|: runtime error: |SUMMARY: \w+Sanitizer")
_LOCATED = re.compile(rb"^[^:\n]+:\d+:\d+: ", re.M)

MISSING_LIST = "a missing repeated field is empty in proto3 JSON (the Collector accepts it)"
EMPTY_REQUEST = "{} is a valid, empty export request in proto3 JSON"
EMPTY_ID = "an empty id is the proto3 default (bytes), used by the policy fixtures for 'no id'"
MISSING_STRING = "a missing string field is \"\" in proto3 JSON (the span/metric name is then unknown, not invalid)"
# name -> (sluice's verdict, reason)
DIVERGENCES = {
    "decoder/logs/scopeLogs_missing": ("accept", MISSING_LIST),
    "decoder/logs/resourceLogs_missing": ("accept", EMPTY_REQUEST),
    "decoder/logs/resource_valid_scope_missing": ("accept", MISSING_LIST),
    "decoder/metrics/invalid_resource_metrics_missing": ("accept", EMPTY_REQUEST),
    "decoder/metrics/invalid_scope_metrics_missing": ("accept", MISSING_LIST),
    "decoder/metrics/invalid_metrics_missing": ("accept", MISSING_LIST),
    "decoder/metrics/invalid_metric_name_missing": ("accept", MISSING_STRING),
    "decoder/metrics/missing_metric_type": (
        "accept", "the metric data oneof may be unset in proto3; the metric then has no type"),
    "decoder/metrics/invalid_gauge_datapoints_missing": ("accept", MISSING_LIST),
    "decoder/metrics/invalid_sum_datapoints_missing": ("accept", MISSING_LIST),
    "decoder/metrics/invalid_histogram_datapoints_missing": ("accept", MISSING_LIST),
    "decoder/metrics/invalid_summary_datapoints_missing": ("accept", MISSING_LIST),
    "decoder/metrics/invalid_exponential_histogram_datapoints_missing": ("accept", MISSING_LIST),
    "decoder/metrics/valid_invalid_numeric_skips_points": (
        "reject", "\"12.0oops\" is not a double in proto3 JSON; Fluent Bit skips the point, "
                  "sluice never drops data silently"),
    "decoder/logs/unwrapped_plain_map": (
        "reject", "an AnyValue has exactly the seven kinds of common.proto; "
                  "{\"key1\": ...} is not one of them"),
    "decoder/traces/valid_with_event_and_link": (
        "reject", "status.code \"OK\" is not an enum name of the OTLP/JSON mapping "
                  "(STATUS_CODE_OK or 1); the Collector rejects it too"),
    "decoder/traces/resourceSpans_missing": ("accept", EMPTY_REQUEST),
    "decoder/traces/scopeSpans_missing": ("accept", MISSING_LIST),
    "decoder/traces/spans_missing": ("accept", MISSING_LIST),
    "decoder/traces/span_name_missing": ("accept", MISSING_STRING),
    "decoder/traces/event_missing_name": ("accept", MISSING_STRING),
    "decoder/traces/link_missing_trace_id": ("accept", EMPTY_ID),
    "decoder/traces/trace_id_zero_length": ("accept", EMPTY_ID),
    "decoder/traces/span_id_zero_length": ("accept", EMPTY_ID),
    "decoder/traces/link_trace_id_zero_length": ("accept", EMPTY_ID),
    "decoder/traces/link_span_id_zero_length": ("accept", EMPTY_ID),
}

LISTS = {
    "resourceLogs": ("scopeLogs", "logRecords"), "resource_logs": ("scope_logs", "log_records"),
    "resourceMetrics": ("scopeMetrics", "metrics"), "resource_metrics": ("scope_metrics", "metrics"),
    "resourceSpans": ("scopeSpans", "spans"), "resource_spans": ("scope_spans", "spans"),
}
ID_KEYS = {"traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"}


def lower_ids(v):
    if isinstance(v, dict):
        return {k: (x.lower() if k in ID_KEYS and isinstance(x, str) else lower_ids(x))
                for k, x in v.items()}
    if isinstance(v, list):
        return [lower_ids(x) for x in v]
    return v


def expected_output(doc):
    """The request minus scopes without records and resources without scopes."""
    doc = lower_ids(doc)
    if not isinstance(doc, dict):
        return doc
    for key, (skey, rkey) in LISTS.items():
        if isinstance(doc.get(key), list):
            kept = []
            for res in doc[key]:
                scopes = [s for s in (res.get(skey) or []) if s.get(rkey)]
                if scopes:
                    res = dict(res)
                    res[skey] = scopes
                    kept.append(res)
            doc = dict(doc)
            doc[key] = kept
    return doc


def run(sluice, policy, path, timeout):
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "abort_on_error=1:detect_leaks=1")
    r = subprocess.run([sluice, "apply", "--policies", policy, "--quiet", path],
                       capture_output=True, timeout=timeout, env=env)
    return r.returncode, r.stdout, r.stderr


def check(sluice, policy, path, docs, must, timeout):
    """Problems running sluice on path: must = 'accept' (docs = the parsed
    input values) or 'reject'."""
    code, out, err = run(sluice, policy, path, timeout)
    m = _SANITIZER.search(err)
    if m:
        return ["sanitizer report: " + err[m.start():m.start() + 200].decode(errors="replace")]
    if must == "reject":
        if code != 1:
            return ["accepted (exit %d), must be rejected" % code]
        if not _LOCATED.search(err):
            return ["rejected without a file:line:col error: %r" % err[-300:]]
        return []
    if code != 0:
        return ["rejected (exit %d): %s" % (code, err.decode(errors="replace")[-300:].strip())]
    lines = out.decode("utf-8").splitlines()
    if len(lines) != len(docs):
        return ["%d output lines for %d input values" % (len(lines), len(docs))]
    problems = []
    for i, (line, doc) in enumerate(zip(lines, docs)):
        try:
            got = json.loads(line)
        except ValueError as e:
            problems.append("output %d is not JSON: %s" % (i, e))
            continue
        want = expected_output(doc)
        if got != want:
            problems.append("output %d differs from the input:\n  want %s\n  got  %s"
                            % (i, json.dumps(want)[:400], json.dumps(got)[:400]))
    return problems


def cases(shared, work):
    """(name, path, parsed docs, must) for every case."""
    base = os.path.join(shared, "conformance", "otlp")
    out = []
    dec = os.path.join(base, "fluent-bit", "decoder-cases")
    for sig in ("logs", "metrics", "traces"):
        with open(os.path.join(dec, sig + ".json"), "rb") as f:
            table = json.loads(f.read().decode("utf-8"))
        for cname, case in table.items():
            name = "decoder/%s/%s" % (sig, cname)
            path = os.path.join(work, "%s-%s.json" % (sig, cname))
            with open(path, "w", encoding="utf-8") as f:
                f.write(json.dumps(case["input"]) + "\n")
            must = "reject" if "expected_error" in case else "accept"
            if name in DIVERGENCES:
                must = DIVERGENCES[name][0]
            out.append((name, path, [case["input"]], must))
    for d, suffix in (("opentelemetry-proto", ".json"), ("fluent-bit/integration", ".in.json")):
        folder = os.path.join(base, d)
        for fn in sorted(os.listdir(folder)):
            if fn.endswith(suffix):
                path = os.path.join(folder, fn)
                with open(path, "rb") as f:
                    doc = json.loads(f.read().decode("utf-8"))
                out.append(("sample/%s/%s" % (d, fn), path, [doc], "accept"))
    pol = os.path.join(shared, "conformance", "policy", "testcases")
    if os.path.isdir(pol):
        for case in sorted(os.listdir(pol)):
            d = os.path.join(pol, case)
            if not os.path.isdir(d):
                continue
            for fn in sorted(os.listdir(d)):
                if fn.startswith("input") and fn.endswith(".json"):
                    path = os.path.join(d, fn)
                    with open(path, "rb") as f:
                        doc = json.loads(f.read().decode("utf-8"))
                    out.append(("sample/policy/%s/%s" % (case, fn), path, [doc], "accept"))
    folder = os.path.join(base, "otel-spec-file-exporter")
    for fn in sorted(os.listdir(folder)):
        if not fn.endswith(".jsonl"):
            continue
        with open(os.path.join(folder, fn), "rb") as f:
            for n, line in enumerate(f.read().decode("utf-8").splitlines(), 1):
                if not line.strip():
                    continue
                path = os.path.join(work, "%s-%d.json" % (fn, n))
                with open(path, "w", encoding="utf-8") as g:
                    g.write(line + "\n")
                out.append(("sample/otel-spec-file-exporter/%s:%d" % (fn, n), path,
                            [json.loads(line)], "accept"))
    return out


def load_expected(path, names):
    if not path:
        return set()
    want = set()
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                want.add(line)
    unknown = sorted(want - set(names))
    if unknown:
        sys.exit("%s: not a case: %s" % (path, ", ".join(unknown)))
    return want


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sluice", required=True)
    ap.add_argument("--expect-fail", metavar="FILE")
    ap.add_argument("--case", action="append")
    ap.add_argument("--verbose", "-v", action="store_true")
    ap.add_argument("--timeout", type=float, default=30.0)
    ap.add_argument("shared")
    a = ap.parse_args()
    passed = failed = 0
    failures = []
    with tempfile.TemporaryDirectory() as work:
        policy = os.path.join(work, "empty-policies.json")
        with open(policy, "w") as f:
            f.write('{"policies": []}\n')
        all_cases = cases(a.shared, work)
        unknown = sorted(set(DIVERGENCES) - {c[0] for c in all_cases})
        if unknown:
            sys.exit("run-otlp.py: divergence for no case: %s" % ", ".join(unknown))
        expected = load_expected(a.expect_fail, [c[0] for c in all_cases])
        for name, path, docs, must in all_cases:
            if a.case and name not in a.case:
                continue
            try:
                problems = check(a.sluice, policy, path, docs, must, a.timeout)
            except Exception as e:  # crash, time-out
                problems = ["%s: %s" % (type(e).__name__, e)]
            if problems:
                failed += 1
                failures.append(name)
                print("  %s  %s" % ("XFAIL" if name in expected else "FAIL ", name))
                if a.verbose or name not in expected:
                    for p in problems:
                        print("    " + p.replace("\n", "\n    "))
            else:
                passed += 1
                note = " (by design: %s)" % DIVERGENCES[name][0] if name in DIVERGENCES else ""
                print("  PASS  %s%s" % (name, note))
    if a.case:
        expected &= set(a.case)
    unexpected = [n for n in failures if n not in expected]
    xpass = sorted(expected - set(failures))
    for n in xpass:
        print("  XPASS %s: it passes now, take it off %s" % (n, a.expect_fail))
    if expected:
        print("otlp: %d of %d failures expected (listed in %s), %d unexpected, %d listed cases now pass"
              % (len(failures) - len(unexpected), len(failures), a.expect_fail, len(unexpected), len(xpass)))
    print("otlp: %d passed, %d failed" % (passed, failed))
    return 1 if unexpected or xpass else 0


if __name__ == "__main__":
    sys.exit(main())
