#!/usr/bin/env python3
"""Recall and false positives of the default policy's value detectors.

Usage: detectors.py recall --sluice PATH
       detectors.py benign --sluice PATH [--shared DIR] [--mb N]

recall: plants credentials of every detector (realistic shapes, random
bodies from a fixed seed) in varied text -- the whole string, its start,
middle and end, next to punctuation, after a literal "\\n" escape, inside
JSON-escaped JSON (and with escaped "\\/" for URL-shaped ones), under a
safe key, inside nested objects and arrays -- runs `sluice redact
--default --audit`, and requires every planted secret to be gone, the text
around it kept, and the audit to count the right detector. Prints
`recall: found/planted` per detector and in total; any miss fails.

benign: runs the same policy over a large corpus with no credential in
free text: generated agent-run payloads (prose, ids, UUIDs, hex sha1 and
sha256, base64 and base64url payloads, paths, URLs), the redaction
example run (whose one planted AWS key must be the only detection), the
OTLP examples of the shared conformance data, Debian's word lists
(/usr/share/dict, package wamerican), copyright files and man pages of
/usr/share and the Python standard library's source. Large sources are
sampled deterministically (sorted file lists, every k-th file) to bound
the corpus at --mb MB. Prints the corpus size per source; any detection
fails, naming the source, the detector and the masked text's context.
"""
import argparse
import base64
import glob
import gzip
import json
import os
import random
import string
import subprocess
import sys
import tempfile
import uuid
import hashlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

U, L, D = string.ascii_uppercase, string.ascii_lowercase, string.digits
AN = U + L + D
HEX = "0123456789abcdef"


def b64u(b):
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


def samples(rnd):
    """(detector, text, secret): text as it would be written, secret the
    part that must not survive."""

    def rs(alpha, n):
        return "".join(rnd.choice(alpha) for _ in range(n))

    def mixed(n, alpha=AN):
        while True:
            s = rs(alpha, n)
            if (any(c in U for c in s) and any(c in L for c in s)
                    and any(c in D for c in s) and s[0] in AN):
                return s

    out = []

    def add(d, text, secret=None):
        out.append((d, text, secret if secret is not None else text))

    b32 = U + "234567"
    add("aws_access_key", "AKIA" + rs(b32, 16))
    add("aws_access_key", "ASIA" + rs(b32, 16))
    add("aws_access_key", "AKIAIOSFODNN7EXAMPLE")
    h = b64u(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    p = b64u(json.dumps({"sub": "1234567890", "iat": 1516239022}).encode())
    add("jwt", h + "." + p + "." + b64u(rnd.randbytes(32)))
    h = b64u(json.dumps({"alg": "RS256", "kid": "k1"}).encode())
    p = b64u(json.dumps({"iss": "https://auth.example.com", "exp": 19e8}).encode())
    add("jwt", h + "." + p + "." + b64u(rnd.randbytes(256)))
    t = mixed(32, AN + "-._~")
    add("bearer", "Bearer " + t, t)
    t = mixed(40)
    add("bearer", "authorization: bearer " + t, t)
    body = base64.b64encode(rnd.randbytes(600)).decode()
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    for kind in ["RSA ", "", "OPENSSH ", "EC ", "DSA ", "ENCRYPTED "]:
        add("private_key", "-----BEGIN %sPRIVATE KEY-----\n%s\n-----END %sPRIVATE KEY-----"
            % (kind, "\n".join(lines[:7]), kind))
    add("private_key", "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n%s\n"
        "-----END PGP PRIVATE KEY BLOCK-----" % "\n".join(lines[:5]))
    add("private_key", "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\n"
        "Comment: ed25519-key\nPublic-Lines: 2\n%s\n%s\nPrivate-Lines: 1\n%s\n"
        "Private-MAC: %s" % (lines[0], lines[1][:20], lines[2][:44], rs(HEX, 64)))
    for pre in ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"]:
        add("github_token", pre + mixed(36))
    add("github_token", "github_pat_" + mixed(22) + "_" + mixed(59))
    add("slack_token", "xoxb-%s-%s-%s" % (rs(D, 12), rs(D, 13), mixed(24)))
    add("slack_token", "xoxp-%s-%s-%s-%s" % (rs(D, 12), rs(D, 12), rs(D, 13), rs(HEX, 32)))
    add("slack_token", "xapp-1-A%s-%s-%s" % (rs(U + D, 10), rs(D, 13), rs(HEX, 64)))
    add("openai_key", "sk-" + mixed(20) + "T3BlbkFJ" + mixed(20))
    add("openai_key", "sk-proj-" + mixed(156, AN + "_-"))
    add("openai_key", "sk-svcacct-" + mixed(100, AN + "_-"))
    u = base64.b64encode(b"deploy:Tr0ub4dor&3").decode()
    add("basic_auth", "Authorization: Basic " + u, u)
    u = base64.b64encode(b"admin:" + mixed(16).encode()).decode()
    add("basic_auth", "authorization=basic " + u, u)
    add("gitlab_token", "glpat-" + mixed(20, AN + "_-"))
    add("gitlab_token", "gldt-" + mixed(20, AN + "_-"))
    path = "T%s/B%s/%s" % (rs(U + D, 8), rs(U + D, 10), mixed(24))
    add("slack_webhook", "https://hooks.slack.com/services/" + path,
        "hooks.slack.com/services/" + path)
    add("stripe_key", "sk_live_" + mixed(24))
    add("stripe_key", "rk_live_" + mixed(99))
    add("stripe_key", "sk_test_" + mixed(24))
    add("stripe_key", "whsec_" + mixed(32))
    add("anthropic_key", "sk-ant-api03-" + mixed(93, AN + "_-") + "AA")
    add("anthropic_key", "sk-ant-admin01-" + mixed(93, AN + "_-") + "AA")
    add("google_api_key", "AIza" + mixed(35, AN + "_-"))
    pw = mixed(14, AN + "!^&()")
    add("connection_string", "postgres://app_user:%s@db.internal:5432/prod" % pw, pw)
    pw = mixed(12)
    add("connection_string", "mongodb+srv://svc:%s@cluster0.ab1cd.mongodb.net/t" % pw, pw)
    pw = mixed(20)
    add("connection_string", "redis://:%s@cache:6379/0" % pw, pw)
    pw = mixed(10)
    add("connection_string", "https://bot:%s@git.example.com/org/repo.git" % pw, pw)
    add("npm_token", "npm_" + mixed(36))
    add("pypi_token", "pypi-AgEIcHlwaS5vcmc" + mixed(70, AN + "_-"))
    add("twilio_key", "SK" + rs(HEX, 32))
    add("sendgrid_key", "SG.%s.%s" % (mixed(22, AN + "_-"), mixed(43, AN + "_-")))
    add("shopify_token", "shpat_" + rs(HEX, 32))
    add("digitalocean_token", "dop_v1_" + rs(HEX, 64))
    add("age_secret_key", "AGE-SECRET-KEY-1" + rs("QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L", 58))
    k = base64.b64encode(rnd.randbytes(64)).decode()
    add("azure_storage_key", "DefaultEndpointsProtocol=https;AccountName=a1;"
        "AccountKey=%s;EndpointSuffix=core.windows.net" % k, k)
    return out


# Where a credential is planted: (name, wrap(text) -> payload, escape)
# where escape(s) is how the secret appears in the string the detectors
# see (JSON-escaped forms change it).
def inner_json(s, slashes=False):
    t = json.dumps(s)[1:-1]
    return t.replace("/", "\\/") if slashes else t


CONTEXTS = [
    ("whole", lambda t: {"note": t}, None),
    ("start", lambda t: {"note": t + " was used for the upload"}, None),
    ("middle", lambda t: {"note": "retry with key " + t + " if throttled"}, None),
    ("end", lambda t: {"note": "the credential is " + t}, None),
    ("parens", lambda t: {"note": "(" + t + ")"}, None),
    ("quotes", lambda t: {"note": "export X='" + t + "'; echo \"" + t + "\""}, None),
    ("assign", lambda t: {"note": "env=" + t + ";next=1"}, None),
    ("comma", lambda t: {"note": "a," + t + ",b"}, None),
    ("angle", lambda t: {"note": "<" + t + ">"}, None),
    ("brackets", lambda t: {"note": "[" + t + "]"}, None),
    ("colon", lambda t: {"note": "value:" + t}, None),
    ("newlines", lambda t: {"note": "first line\n" + t + "\nlast line"}, None),
    ("tab", lambda t: {"note": "col1\t" + t + "\tcol3"}, None),
    ("escaped_newline", lambda t: {"log": "first\\n" + t + "\\nsecond"}, None),
    ("json_escaped", lambda t: {"tool_result": json.dumps({"out": "got " + t + " ok"})},
     inner_json),
    ("json_escaped_twice", lambda t: {"r": json.dumps({"x": json.dumps({"y": t})})},
     lambda s: inner_json(inner_json(s))),
    ("safe_key", lambda t: {"status": "failed: " + t}, None),
    ("nested", lambda t: {"a": {"b": [{"c": ["x", "see " + t + " now"]}, 1]}}, None),
    ("array", lambda t: ["zero", ["one", t], {"k": [t]}], None),
]
URL_CONTEXTS = [
    ("json_escaped_slashes",
     lambda t: {"r": "{\"out\":\"" + inner_json(t, True) + "\"}"},
     lambda s: inner_json(s, True)),
]


def run_sluice(sluice, lines, tmp):
    src = os.path.join(tmp, "in.jsonl")
    aud = os.path.join(tmp, "audit.jsonl")
    with open(src, "w") as f:
        for v in lines:
            f.write(json.dumps(v) + "\n")
    p = subprocess.run([sluice, "redact", "--default", "--audit", aud, src],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    err = p.stderr.decode(errors="replace")
    if p.returncode != 0 or "Sanitizer" in err or "runtime error" in err:
        sys.exit("sluice redact failed (%d): %s" % (p.returncode, err[-2000:]))
    out = p.stdout.decode().splitlines()
    with open(aud) as f:
        audits = [json.loads(x) for x in f]
    if len(out) != len(lines) or len(audits) != len(lines):
        sys.exit("sluice redact: %d values in, %d out" % (len(lines), len(out)))
    return out, audits


def strings(v):
    """Every string value of a JSON value, decoded (as detectors see it)."""
    if isinstance(v, str):
        yield v
    elif isinstance(v, list):
        for x in v:
            yield from strings(x)
    elif isinstance(v, dict):
        for x in v.values():
            yield from strings(x)


def recall(a):
    rnd = random.Random(14)
    cases = []
    for det, text, secret in samples(rnd):
        url = "://" in text
        for name, wrap, esc in CONTEXTS + (URL_CONTEXTS if url else []):
            seen = esc(secret) if esc else secret
            cases.append((det, name, wrap(text), seen))
    with tempfile.TemporaryDirectory() as tmp:
        out, audits = run_sluice(a.sluice, [c[2] for c in cases], tmp)
    found, planted, misses = {}, {}, []
    for (det, name, payload, seen), got, audit in zip(cases, out, audits):
        planted[det] = planted.get(det, 0) + 1
        why = None
        if any(seen in s for s in strings(json.loads(got))):
            why = "secret still there"
        elif "[REDACTED]" not in got:
            why = "nothing masked"
        elif det not in audit.get("detectors", {}):
            why = "audit counts %s" % audit.get("detectors")
        else:
            # the text around the credential survives
            for word in ("throttled", "upload", "last line", "col3", "second",
                         "now", "next=1", "zero"):
                if word in json.dumps(payload) and word not in got:
                    why = "context %r lost" % word
        if why:
            misses.append("%s in %s: %s\n  out: %s" % (det, name, why, got[:300]))
        else:
            found[det] = found.get(det, 0) + 1
    for det in sorted(planted):
        print("recall %-20s %d/%d" % (det, found.get(det, 0), planted[det]))
    total_found = sum(found.values())
    total = sum(planted.values())
    print("recall: %d/%d planted credentials masked (%d detectors, %d contexts)"
          % (total_found, total, len(planted), len(CONTEXTS)))
    for m in misses[:40]:
        print("MISS " + m)
    return 0 if not misses else 1


# ---- benign corpus ----

WORDS = ("the agent calls search results for query model returns summary of "
         "documents with context user asks about weather in paris and tokyo "
         "plan next step tool output json stream value retry failed timeout "
         "because key was rotated see docs for details Bearer of bad news "
         "basic authorization flow token budget secret sauce password reset "
         "skip task-runner sk-learn disk-usage risk-score AKIA ASIA eyJ").split()


def agent_runs(rnd, n):
    """Agent-run events full of ids, hashes, encodings: no credential."""
    for i in range(n):
        words = " ".join(rnd.choice(WORDS) for _ in range(rnd.randrange(10, 60)))
        blob = rnd.randbytes(rnd.randrange(16, 600))
        yield {
            "run_id": uuid.UUID(int=rnd.getrandbits(128)).hex,
            "step": i,
            "type": rnd.choice(["llm_call", "tool_call", "tool_result"]),
            "messages": [{"role": "user", "content": words},
                         {"role": "assistant", "content": words.upper()}],
            "ids": [str(uuid.UUID(int=rnd.getrandbits(128), version=4)),
                    hashlib.sha1(blob).hexdigest(),
                    hashlib.sha256(blob).hexdigest(),
                    hashlib.sha256(blob).hexdigest().upper(),
                    hashlib.md5(blob).hexdigest()],
            "result": {"data_b64": base64.b64encode(blob).decode(),
                       "data_b64url": base64.urlsafe_b64encode(blob).decode(),
                       "hex": blob.hex()},
            "path": "/home/user/project/src/%s/%s.py" % (
                rnd.choice(WORDS), hashlib.md5(blob).hexdigest()[:8]),
            "url": "https://api.example.com/v1/%s?id=%s&page=%d" % (
                rnd.choice(WORDS), uuid.UUID(int=rnd.getrandbits(128)), i),
            "git": "commit %s Author: Jane <jane@example.com>" % hashlib.sha1(
                blob[:8]).hexdigest(),
            "error": "Traceback: File \"x.py\", line %d, in <module>: "
                     "KeyError: '%s'" % (i, rnd.choice(WORDS)),
        }


def text_chunks(text, size=2000):
    """Printable ASCII chunks of text (other bytes become spaces)."""
    clean = "".join(c if (" " <= c <= "~" or c in "\n\t") else " " for c in text)
    for i in range(0, len(clean), size):
        yield clean[i:i + size]


def sample_files(paths, budget, rnd_key):
    """Every k-th file of the sorted list, up to budget bytes of text."""
    paths = sorted(paths)
    if not paths:
        return []
    total = 0
    picked = []
    step = max(1, len(paths) // 4000)
    for p in paths[rnd_key % step::step]:
        try:
            if p.endswith(".gz"):
                with gzip.open(p, "rb") as f:
                    data = f.read(200000)
            else:
                with open(p, "rb") as f:
                    data = f.read(200000)
        except OSError:
            continue
        text = data.decode("utf-8", errors="replace")
        picked.append((p, text))
        total += len(text)
        if total >= budget:
            break
    return picked


def benign(a):
    rnd = random.Random(41)
    mb = 1 << 20
    sources = []  # (name, [(label, payload)])
    sources.append(("agent runs (generated)",
                    [("gen", v) for v in agent_runs(rnd, 3000)]))
    ex = []
    with open(os.path.join(ROOT, "examples", "redact", "agent-run.jsonl")) as f:
        for line in f:
            ex.append(("examples/redact/agent-run.jsonl", json.loads(line)))
    sources.append(("example agent run", ex))
    if a.shared:
        otlp = []
        for p in sorted(glob.glob(os.path.join(a.shared, "conformance", "otlp", "**", "*.json"),
                                  recursive=True)):
            try:
                with open(p) as f:
                    otlp.append((p, json.load(f)))
            except (OSError, ValueError):
                continue
        sources.append(("otlp examples", otlp))
    words = []
    for p in sorted(glob.glob("/usr/share/dict/*")):
        if os.path.isfile(p) and not p.endswith((".gz", ".hash")):
            with open(p, "rb") as f:
                text = f.read().decode("utf-8", errors="replace")
            toks = text.split()
            for i in range(0, len(toks), 200):
                words.append((p, {"text": " ".join(toks[i:i + 200])}))
                words.append((p, {"ids": toks[i:i + 200]}))
    sources.append(("word lists", words))
    budget = a.mb * mb
    docs = [
        ("copyright files", glob.glob("/usr/share/doc/*/copyright"), budget // 4),
        ("man pages", glob.glob("/usr/share/man/man[1-8]/*.gz"), budget // 4),
        ("python stdlib", glob.glob("/usr/lib/python3*/**/*.py", recursive=True),
         budget // 4),
    ]
    for name, paths, b in docs:
        vals = []
        for p, text in sample_files(paths, b, 7):
            for chunk in text_chunks(text):
                vals.append((p, {"text": chunk}))
        sources.append((name, vals))
    allowed = {"examples/redact/agent-run.jsonl": {"aws_access_key": 1}}
    fails = 0
    total_bytes = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, vals in sources:
            if not vals:
                print("benign %-24s (absent on this machine)" % name)
                continue
            out, audits = run_sluice(a.sluice, [v for _, v in vals], tmp)
            size = sum(len(json.dumps(v)) for _, v in vals)
            total_bytes += size
            hits = 0
            per_label = {}
            for (label, _), got, audit in zip(vals, out, audits):
                for det, n in audit.get("detectors", {}).items():
                    per_label.setdefault(label, {}).setdefault(det, 0)
                    per_label[label][det] += n
                    if label in allowed:
                        continue
                    hits += n
                    if fails < 30:
                        i = got.find("[REDACTED]")
                        print("FALSE POSITIVE %s in %s: ...%s..." % (
                            det, label, got[max(0, i - 120):i + 60]))
                    fails += n
            for label, want in allowed.items():
                if label in per_label or any(l == label for l, _ in vals):
                    if per_label.get(label, {}) != want:
                        print("%s: detections %s, want %s" % (label, per_label.get(label), want))
                        fails += 1
            print("benign %-24s %6d values %8.2f MB  %d false positives"
                  % (name, len(vals), size / mb, hits))
    print("benign: %d false positives in %.1f MB" % (fails, total_bytes / mb))
    return 0 if fails == 0 else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mode", choices=["recall", "benign"])
    ap.add_argument("--sluice", required=True)
    ap.add_argument("--shared", default=None)
    ap.add_argument("--mb", type=int, default=6)
    a = ap.parse_args()
    return recall(a) if a.mode == "recall" else benign(a)


if __name__ == "__main__":
    sys.exit(main())
