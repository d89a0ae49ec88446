#!/usr/bin/python3
"""OTLP protobuf codec against an independent implementation: Python's
protobuf package (Debian python3-protobuf) with code that protoc generates,
at test time, from the shared OTLP .proto files into the build directory.

Usage: run-otlp-proto.py --sluice PATH [--work DIR] [--examples DIR]
                         [--expect-fail FILE] [--seed N] [--random N] SHARED

Registered by tests/CMakeLists.txt like every run-*.py driver. Needs
Debian's python3-protobuf: when the running python has no google.protobuf
(the pyenv python3 on PATH), it re-runs itself with /usr/bin/python3.
--work (default ./otlp-proto, in ctest's build directory) receives the
generated code; --examples defaults to the repository's examples/policy.
--expect-fail is accepted for the drivers' common interface; nothing is
expected to fail. Checks, both ways:

 (a) sluice -> Python. Every OTLP/JSON request of the samples
     (SHARED/conformance/otlp: opentelemetry-proto/*.json, the
     otel-spec-file-exporter JSON lines, fluent-bit integration inputs and
     the accepted fluent-bit decoder-case inputs; the inputs of the policy
     conformance cases; EXAMPLES/*.jsonl) goes through
     `sluice convert --from otlp-json --to otlp-proto --delimited`. Python
     parses each message, and (1) it equals what Python's json_format makes
     of sluice's own JSON for the same request (`--to otlp-json`), and (2)
     sluice's protobuf -> JSON conversion equals Python's MessageToDict of
     the message (proto3 JSON: camelCase, int64 as strings, bytes base64,
     enums as numbers as OTLP/JSON requires; ids are compared as hex, the
     OTLP/JSON form, where MessageToDict would give base64).
 (b) Python -> sluice. Python serialises the same requests (json_format.
     Parse of the sample) and N random messages per signal carrying
     unknown fields at every level; sluice decodes them and re-encodes:
     an untouched request must come back byte for byte (unknown fields
     included), and sluice's JSON of it must equal MessageToDict of the
     message without its unknown fields.

Normalisations, documented in the README: scopes without records and
resources without scopes are left out by sluice's writers (as the reference
runner does), so expected values drop them too and the byte-for-byte check
applies to requests without such empties; protobuf has no way to say
"an empty resource list", so {"resourceLogs": []} and {} are the same.

The last line is 'otlp-proto: N passed, N failed'.
"""
import argparse, base64, glob, json, os, random, re, struct, subprocess, sys

_SANITIZER = re.compile(rb"ERROR: (Address|Leak|Memory|Thread)Sanitizer|: runtime error: |SUMMARY: \w+Sanitizer")

SIGNALS = {"resourceLogs": "logs", "resource_logs": "logs",
           "resourceMetrics": "metrics", "resource_metrics": "metrics",
           "resourceSpans": "traces", "resource_spans": "traces"}
ID_FIELDS = {"trace_id": 16, "span_id": 8, "parent_span_id": 8}
SKIP_FIELDS = {"string_value_strindex", "key_strindex"}  # profiles only: unknown to sluice


def generate(work, proto_root):
    gen = os.path.join(work, "gen")
    os.makedirs(gen, exist_ok=True)
    files = sorted(glob.glob(os.path.join(proto_root, "opentelemetry/proto/**/*.proto"), recursive=True))
    subprocess.run(["protoc", "-I", proto_root, "--python_out=" + gen] + files, check=True)
    sys.path.insert(0, gen)


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def read_delimited(data):
    msgs, i = [], 0
    while i < len(data):
        n, shift = 0, 0
        while True:
            b = data[i]
            i += 1
            n |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        msgs.append(data[i:i + n])
        i += n
    return msgs


class Runner:
    def __init__(self, sluice):
        self.sluice = sluice
        self.passed = 0
        self.failed = 0

    def run(self, args, data):
        p = subprocess.run([self.sluice, "convert"] + args + ["-", "-"], input=data,
                           capture_output=True, timeout=120)
        if _SANITIZER.search(p.stderr):
            raise AssertionError("sanitizer report: " + p.stderr.decode(errors="replace")[:2000])
        return p

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print("FAIL %s %s" % (name, detail[:3000]))


def strip_empty(d, sig):
    """The sluice writers leave out scopes without records and resources without scopes."""
    res_key = {"logs": "resourceLogs", "metrics": "resourceMetrics", "traces": "resourceSpans"}[sig]
    scope_key = {"logs": "scopeLogs", "metrics": "scopeMetrics", "traces": "scopeSpans"}[sig]
    rec_key = {"logs": "logRecords", "metrics": "metrics", "traces": "spans"}[sig]
    out = []
    for r in d.get(res_key, []):
        scopes = [s for s in r.get(scope_key, []) if s.get(rec_key)]
        if scopes:
            r = dict(r)
            r[scope_key] = scopes
            out.append(r)
    d = dict(d)
    if out:
        d[res_key] = out
    else:
        d.pop(res_key, None)
    return d


def hex_ids(x, key=None):
    """MessageToDict writes bytes as base64; OTLP/JSON ids are hex."""
    if isinstance(x, dict):
        return {k: hex_ids(v, k) for k, v in x.items()}
    if isinstance(x, list):
        return [hex_ids(v) for v in x]
    if key in ("traceId", "spanId", "parentSpanId") and isinstance(x, str):
        return base64.b64decode(x).hex()
    return x


def ids_to_b64(x, key=None):
    if isinstance(x, dict):
        return {k: ids_to_b64(v, k) for k, v in x.items()}
    if isinstance(x, list):
        return [ids_to_b64(v) for v in x]
    if key in ("traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id") \
            and isinstance(x, str):
        return base64.b64encode(bytes.fromhex(x)).decode()
    return x


def drop_empty_resource_list(d):
    return {k: v for k, v in d.items() if v != []}


def samples(shared, examples):
    """(name, signal, json text) of every OTLP/JSON request in the samples."""
    out = []
    def add_text(name, text):
        try:
            doc = json.loads(text)
        except ValueError:
            return
        if not isinstance(doc, dict):
            return
        sig = next((SIGNALS[k] for k in doc if k in SIGNALS), None)
        if sig:
            out.append((name, sig, json.dumps(doc)))
    otlp = os.path.join(shared, "conformance/otlp")
    for f in sorted(glob.glob(os.path.join(otlp, "opentelemetry-proto/*.json")) +
                    glob.glob(os.path.join(otlp, "fluent-bit/integration/*.in.json")) +
                    glob.glob(os.path.join(shared, "conformance/policy/testcases/*/input*.json"))):
        add_text(os.path.relpath(f, shared), open(f, encoding="utf-8").read())
    for f in sorted(glob.glob(os.path.join(otlp, "otel-spec-file-exporter/*.jsonl")) +
                    glob.glob(os.path.join(examples, "*.jsonl"))):
        for i, line in enumerate(open(f, encoding="utf-8")):
            if line.strip():
                add_text("%s:%d" % (os.path.basename(f), i + 1), line)
    for f in sorted(glob.glob(os.path.join(otlp, "fluent-bit/decoder-cases/*.json"))):
        for case, body in json.load(open(f, encoding="utf-8")).items():
            if isinstance(body, dict) and "input" in body and "expected_error" not in body:
                add_text("decoder/%s/%s" % (os.path.basename(f), case), json.dumps(body["input"]))
    return out


# ---- random messages with unknown fields ----

def random_unknown(rng):
    num = rng.randint(50, 2000)
    wt = rng.choice([0, 1, 2, 5])
    tag = varint(num << 3 | wt)
    if wt == 0:
        return tag + varint(rng.getrandbits(rng.choice([7, 32, 64])))
    if wt == 1:
        return tag + rng.randbytes(8)
    if wt == 5:
        return tag + rng.randbytes(4)
    body = rng.randbytes(rng.randint(0, 12))
    return tag + varint(len(body)) + body


def random_string(rng):
    alphabet = "abc xyz_.-/\"\\\n\t\u00e9\u4e2d\U0001f600"
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 10)))


def fill(msg, rng, depth, FD):
    """Fill msg with random values; lists of records never empty (see docstring)."""
    desc = msg.DESCRIPTOR
    oneofs_done = set()
    for f in desc.fields:
        if f.name in SKIP_FIELDS:
            continue
        if f.containing_oneof is not None:
            if f.containing_oneof.name in oneofs_done or rng.random() < 0.5:
                continue
            oneofs_done.add(f.containing_oneof.name)
        elif rng.random() < 0.35:
            continue
        repeated = f.label == FD.LABEL_REPEATED
        count = rng.randint(1, 3) if repeated else 1
        if f.type == FD.TYPE_MESSAGE:
            if depth > 6:
                continue
            for _ in range(count):
                sub = getattr(msg, f.name).add() if repeated else getattr(msg, f.name)
                fill(sub, rng, depth + 1, FD)
                if not repeated:
                    sub.SetInParent()
            continue
        vals = [random_scalar(f, rng, FD) for _ in range(count)]
        if repeated:
            getattr(msg, f.name).extend(vals)
        else:
            setattr(msg, f.name, vals[0])
    if rng.random() < 0.3:
        msg.MergeFromString(random_unknown(rng))


def random_scalar(f, rng, FD):
    t = f.type
    if f.name in ID_FIELDS:
        return rng.randbytes(ID_FIELDS[f.name])
    if t == FD.TYPE_STRING:
        return random_string(rng)
    if t == FD.TYPE_BYTES:
        return rng.randbytes(rng.randint(0, 9))
    if t == FD.TYPE_BOOL:
        return rng.random() < 0.5
    if t == FD.TYPE_DOUBLE:
        return rng.choice([0.0, -0.0, 1.5, -2.25e-300, 1e300, 3.141592653589793, float("inf"),
                           float("-inf"), rng.uniform(-1e6, 1e6)])
    if t == FD.TYPE_ENUM:
        return rng.choice([v.number for v in f.enum_type.values])
    if t in (FD.TYPE_FIXED64, FD.TYPE_UINT64):
        return rng.choice([0, 1, 2**63, 2**64 - 1, rng.getrandbits(64)])
    if t in (FD.TYPE_SFIXED64, FD.TYPE_INT64):
        return rng.choice([0, -1, -2**63, 2**63 - 1, rng.getrandbits(63) - 2**62])
    if t in (FD.TYPE_UINT32, FD.TYPE_FIXED32):
        return rng.choice([0, 1, 2**32 - 1, rng.getrandbits(32)])
    if t in (FD.TYPE_SINT32, FD.TYPE_INT32):
        return rng.choice([0, -1, -2**31, 2**31 - 1, rng.getrandbits(31) - 2**30])
    raise AssertionError("type %d" % t)


def ensure_records(req, sig):
    """Give every resource a scope and every scope a record (no empties)."""
    res_f, scope_f, rec_f = {"logs": ("resource_logs", "scope_logs", "log_records"),
                             "metrics": ("resource_metrics", "scope_metrics", "metrics"),
                             "traces": ("resource_spans", "scope_spans", "spans")}[sig]
    for r in getattr(req, res_f):
        if not len(getattr(r, scope_f)):
            getattr(r, scope_f).add()
        for s in getattr(r, scope_f):
            if not len(getattr(s, rec_f)):
                getattr(s, rec_f).add()


def has_empties(d, sig):
    return strip_empty(d, sig) != drop_empty_resource_list(d)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--sluice", required=True)
    ap.add_argument("--work", default=os.path.join(os.getcwd(), "otlp-proto"))
    ap.add_argument("--examples", default=os.path.join(here, "..", "..", "examples", "policy"))
    ap.add_argument("--expect-fail")
    ap.add_argument("--seed", type=int, default=12)
    ap.add_argument("--random", type=int, default=60)
    ap.add_argument("shared")
    a = ap.parse_args()
    generate(a.work, os.path.join(a.shared, "conformance/otlp/opentelemetry-proto/proto"))
    from google.protobuf import json_format
    from google.protobuf.descriptor import FieldDescriptor as FD
    from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
    from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
    REQ = {"logs": logs_service_pb2.ExportLogsServiceRequest,
           "metrics": metrics_service_pb2.ExportMetricsServiceRequest,
           "traces": trace_service_pb2.ExportTraceServiceRequest}
    r = Runner(a.sluice)

    def to_dict(m):
        return hex_ids(json_format.MessageToDict(m, use_integers_for_enums=True))

    def parse_otlp_json(text, sig):
        """json_format.Parse of OTLP/JSON: ids are hex there, base64 in proto3 JSON."""
        return json_format.Parse(json.dumps(ids_to_b64(json.loads(text))), REQ[sig](),
                                 ignore_unknown_fields=True)

    # (a) sluice -> Python: one stream per signal, requests sluice's JSON
    # loader rejects left out (run-otlp.py's business)
    py_inputs = {"logs": [], "metrics": [], "traces": []}
    by_sig = {"logs": [], "metrics": [], "traces": []}
    for name, sig, text in samples(a.shared, a.examples):
        by_sig[sig].append((name, text))
    for sig, items in by_sig.items():
        while True:
            data = "".join(t + "\n" for _, t in items).encode()
            pj = r.run(["--from", "otlp-json", "--to", "otlp-json"], data)
            if pj.returncode == 0:
                break
            m = re.match(rb"-:(\d+):", pj.stderr)
            r.check("%s stream: located error" % sig, m is not None, pj.stderr.decode(errors="replace"))
            if not m:
                break
            del items[int(m.group(1)) - 1]
        pp = r.run(["--from", "otlp-json", "--to", "otlp-proto", "--delimited"], data)
        r.check(sig + " json->proto", pp.returncode == 0, pp.stderr.decode(errors="replace"))
        if pp.returncode != 0:
            continue
        msgs = read_delimited(pp.stdout)
        jlines = pj.stdout.decode().splitlines()
        back = r.run(["--from", "otlp-proto", "--to", "otlp-json", "--signal", sig, "--delimited"],
                     pp.stdout)
        blines = back.stdout.decode().splitlines()
        r.check(sig + " counts", len(msgs) == len(items) == len(jlines) == len(blines),
                "%d %d %d %d %s" % (len(msgs), len(items), len(jlines), len(blines), back.stderr))
        for (name, text), raw, jl, bl in zip(items, msgs, jlines, blines):
            m = REQ[sig]()
            try:
                m.ParseFromString(raw)
            except Exception as e:  # noqa: BLE001 - any parse failure is the finding
                r.check(name + " python parses sluice protobuf", False, repr(e))
                continue
            r.check(name + " python parses sluice protobuf", True)
            mj = parse_otlp_json(jl, sig)
            r.check(name + " sluice protobuf == sluice json", m == mj,
                    "\nproto %s\njson  %s" % (to_dict(m), to_dict(mj)))
            r.check(name + " sluice proto->json == MessageToDict",
                    drop_empty_resource_list(json.loads(bl)) == drop_empty_resource_list(to_dict(m)),
                    "\nsluice %s\npython %s" % (bl[:1500], to_dict(m)))
            # the sample as Python serialises it, for (b)
            try:
                py_inputs[sig].append((name, parse_otlp_json(text, sig)))
            except json_format.ParseError:
                pass

    # (b) Python -> sluice: samples plus random messages with unknown fields
    rng = random.Random(a.seed)
    for sig in ("logs", "metrics", "traces"):
        for k in range(a.random):
            m = REQ[sig]()
            fill(m, rng, 0, FD)
            ensure_records(m, sig)
            py_inputs[sig].append(("random/%s/%d" % (sig, k), m))
        items = py_inputs[sig]
        stream = b"".join(varint(len(b)) + b for b in (m.SerializeToString() for _, m in items))
        same = r.run(["--from", "otlp-proto", "--to", "otlp-proto", "--signal", sig, "--delimited"], stream)
        js = r.run(["--from", "otlp-proto", "--to", "otlp-json", "--signal", sig, "--delimited"], stream)
        r.check("python %s stream decodes" % sig, same.returncode == 0 and js.returncode == 0,
                same.stderr.decode(errors="replace") + js.stderr.decode(errors="replace"))
        if same.returncode or js.returncode:
            continue
        outs = read_delimited(same.stdout)
        lines = js.stdout.decode().splitlines()
        r.check("python %s counts" % sig, len(outs) == len(items) == len(lines),
                "%d %d %d" % (len(outs), len(items), len(lines)))
        for (name, m), out, line in zip(items, outs, lines):
            d = to_dict(m)
            if not has_empties(d, sig):
                r.check(name + " untouched protobuf comes back byte for byte",
                        out == m.SerializeToString())
            known = REQ[sig]()
            known.CopyFrom(m)
            known.DiscardUnknownFields()
            want = drop_empty_resource_list(strip_empty(to_dict(known), sig))
            got = drop_empty_resource_list(json.loads(line))
            r.check(name + " sluice json == MessageToDict", got == want,
                    "\nsluice %s\npython %s" % (json.dumps(got)[:1500], json.dumps(want)[:1500]))
    print("otlp-proto: %d passed, %d failed" % (r.passed, r.failed))
    return 1 if r.failed else 0


def debian_python():
    """Re-run under Debian's python when this one lacks google.protobuf."""
    try:
        import google.protobuf  # noqa: F401
    except ImportError:
        deb = "/usr/bin/python3"
        if os.path.realpath(sys.executable) != os.path.realpath(deb) and os.path.exists(deb):
            os.execv(deb, [deb] + sys.argv)
        raise


if __name__ == "__main__":
    debian_python()
    sys.exit(main())
