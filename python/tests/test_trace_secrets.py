"""Property test: a secret held under a name a redact rule covers never
appears in any byte of the trace directory. Random programs (seeded,
bounded) put random secrets into variables, arguments, globals, module
variables, containers and return values whose names match the builtin
secret patterns or a generated filter file's redact rules; every file the
recorder wrote is then searched for every secret (and for its JSON-escaped
form). A public value recorded beside them proves the recording ran."""
import os
import random
import string

from test_trace import Trace, run_py, write

SEEDS = range(24)

BUILTIN_NAMES = ["password", "api_key", "auth_token", "session_id", "secret",
                 "user_pwd", "credit_card", "jwt", "private_key", "cookie"]
PLAIN_WORDS = ["alpha", "beta", "gamma", "delta", "omega", "kappa", "sigma"]


def rand_secret(rng):
    body = "".join(rng.choice(string.ascii_letters + string.digits + "\"\\\n\u00e9")
                   for _ in range(rng.randint(8, 24)))
    return "Zq" + body + "Xq"


def filter_file(rng, names):
    """A user filter redacting the generated names, in a random one of the
    selector kinds that cover each use."""
    rules = []
    for n in names:
        kind = rng.choice(["literal:", "glob:", "regex:^"])
        pat = n if kind != "glob:" else n[:-1] + "*"
        pat = pat + "$" if kind == "regex:^" else pat
        for sel in ("local", "arg", "global"):
            rules.append('[[scope.rules.value_patterns]]\nselector = "%s:%s%s"\n'
                         'action = "redact"\n' % (sel, kind, pat))
    return ('[meta]\nname = "gen"\nversion = 1\n[scope]\n'
            'default_exec = "trace"\ndefault_value_action = "allow"\n'
            '[[scope.rules]]\nselector = "pkg:glob:*"\n'
            'value_default = "allow"\n' + "".join(rules) +
            '[[scope.rules.value_patterns]]\nselector = "ret:glob:*.get_*"\n'
            'action = "redact"\n')


def wrap(rng, expr, depth=0):
    """expr inside a random container shape."""
    if depth >= 2 or rng.random() < 0.4:
        return expr
    shape = rng.choice(["[%s, 1]", "(0, %s)", "{'k': %s}", "[[%s]]",
                        "{'a': [%s, None]}"])
    return wrap(rng, shape % expr, depth + 1)


def program(rng, secrets, names):
    lines = ["import threading", "public_marker = 'PUBLIC-%d'" % rng.randint(0, 10**6)]
    for i, (sec, name) in enumerate(zip(secrets, names)):
        form = rng.choice(["module", "local", "arg", "global", "ret", "gen",
                           "thread"])
        lit = repr(sec)
        if form == "module":
            lines.append("%s = %s" % (name, wrap(rng, lit)))
        elif form == "local":
            lines += ["def f%d():" % i,
                      "    %s = %s" % (name, wrap(rng, lit)),
                      "    n = len(str(%s))" % name,
                      "    return n",
                      "f%d()" % i]
        elif form == "arg":
            lines += ["def g%d(%s, other):" % (i, name),
                      "    x = other + 1",
                      "    return x",
                      "g%d(%s, %d)" % (i, wrap(rng, lit), i)]
        elif form == "global":
            lines += ["%s = None" % name,
                      "def h%d():" % i,
                      "    global %s" % name,
                      "    %s = %s" % (name, wrap(rng, lit)),
                      "    y = 1",
                      "    return y",
                      "h%d()" % i]
        elif form == "ret":
            fn = "get_%s_%d" % (rng.choice(PLAIN_WORDS), i)
            lines += ["def %s():" % fn,
                      "    z = 2",
                      "    return %s" % wrap(rng, lit),
                      "_r%d = len(str(%s()))" % (i, fn)]
        elif form == "gen":
            lines += ["def k%d(%s):" % (i, name),
                      "    for j in range(2):",
                      "        yield j",
                      "list(k%d(%s))" % (i, wrap(rng, lit))]
        else:
            lines += ["def t%d(%s):" % (i, name),
                      "    w = 3",
                      "    return w",
                      "th = threading.Thread(target=t%d, args=(%s,))" % (i, lit),
                      "th.start()",
                      "th.join()"]
    lines.append("print(public_marker)")
    return "\n".join(lines) + "\n"


def test_no_secret_reaches_any_byte_of_the_trace_dir(tmp_path):
    for seed in SEEDS:
        rng = random.Random(seed)
        n = rng.randint(3, 8)
        secrets = [rand_secret(rng) for _ in range(n)]
        custom = ["%s_%d" % (rng.choice(PLAIN_WORDS), k) for k in range(3)]
        names = [rng.choice(BUILTIN_NAMES + custom) + "_%d" % k
                 if rng.random() < 0.3 else rng.choice(BUILTIN_NAMES + custom)
                 for k in range(n)]
        covered = [nm for nm in names if nm.split("_")[0] in PLAIN_WORDS]
        d = tmp_path / ("s%d" % seed)
        flt = write(d / "filter.toml", filter_file(rng, sorted(set(covered))))
        src = program(rng, secrets, names)
        script = write(d / "prog.py", src)
        out = d / "trace-out"
        p = run_py(["-m", "sluice.trace", "--trace-dir", str(out),
                    "--trace-filter", flt, script], d)
        assert p.returncode == 0, (seed, p.stderr, src)
        marker = p.stdout.strip()
        assert marker.startswith("PUBLIC-")
        blobs = {}
        for name in os.listdir(out):
            with open(os.path.join(out, name), "rb") as f:
                blobs[name] = f.read()
        assert set(blobs) == {"trace.json", "trace_metadata.json",
                              "trace_paths.json"}
        assert marker.encode() in blobs["trace.json"], seed
        t = Trace(out)
        red = t.stats()["value_redactions"]
        assert sum(red.values()) >= n, (seed, red)
        for sec in secrets:
            forms = {sec.encode(), sec.encode("unicode_escape"),
                     sec.replace("\\", "\\\\").replace('"', '\\"')
                     .replace("\n", "\\n").encode(),
                     sec[2:-2].encode()}
            for name, blob in blobs.items():
                for form in forms:
                    assert form not in blob, (seed, name, sec, src)
