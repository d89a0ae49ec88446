#!/usr/bin/env python3
"""Trace-filter conformance driver: ../shared/conformance/trace-filter.

usage: run-trace-filter.py --sluice PATH [--python PY] [--expect-fail LIST]
                          SHARED_DIR

Everything goes through the public command: `sluice filter check`, `show`
and `explain` (no hidden test command). Cases:

  selector_cases[i]     cases/selector_cases.json: the selector parses (show
                        prints kind:match:pattern) or fails with the message;
                        each `matches` / `non_matches` candidate is checked
                        through explain (pkg via --module, file via a path
                        under the filter's project root, obj via a qualname
                        with no derivable module, value kinds via --value)
  scope:<test>          cases/expectations.json scope_cases, via explain
  composition[i]        composition_cases, via show (and explain for the
                        composed defaults)
  error:<file>          error_cases: check fails with the message after the
                        `file:line:col: ` prefix (or loads, for `ok`)
  file:<dir/name>       every upstream filter file loads (check exits 0), or
                        fails as error_cases records
  runtime[i]            runtime_cases, checked through decisions only
                        (CLARIFICATIONS: the recorder comes later): the
                        program is read with Python's ast; each harness
                        snapshot() is a LINE event deciding every local of
                        the function and every module global, each
                        emit_return() a return decided under the function's
                        object name; counters are summed from those
                        decisions and compared with the recorded stats.
                        Then the case runs through the real recorder
                        (sluice.trace in PY): the program is imported
                        as its module (the harness helpers are no-op C
                        builtins) and the trace is checked for what a
                        trace shows (names, first values, the first
                        Return, Call/Return balance); a case without a
                        program records a small program of nested calls,
                        and a chain with <builtin-pytest> records a real
                        pytest run (--pytest -m pytest).
  scope cases with a `trace_json` expectation run their query's program
  through the recorder too (the module skipped: only <toplevel>).

PY is a python with the sluice package; by default the venv that
`scripts/python-test --venv` makes in the build directory of --sluice.

perf_cases are the benchmark workload (bench/), not a pass/fail suite.
Prints `trace-filter: N passed, N failed` last; exits 1 on an unexpected
failure, on a listed case that passes, or on any sanitizer report.
"""
import argparse
import ast
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__))))
SANITIZER = None


class Fail(Exception):
    pass


def run(sluice, args, env=None, cwd=None):
    e = dict(os.environ)
    e.pop("CODETRACER_TRACE_FILTER", None)
    if env:
        e.update(env)
    p = subprocess.run([sluice] + args, capture_output=True, env=e, cwd=cwd,
                       timeout=60)
    prob = SANITIZER(p.stderr)
    if prob:
        raise Fail(prob)
    return p


def filter_args(filters):
    """--filter PATH, or --inline LABEL=PATH for entries "inline:LABEL=PATH"
    (an inline source: path <inline:LABEL>, project root "")."""
    args = []
    for f in filters:
        if f.startswith("inline:"):
            args += ["--inline", f[len("inline:"):]]
        else:
            args += ["--filter", f]
    return args


def explain(sluice, filters, file, qualname=None, module=None, values=(),
            builtin=False, program=None, framework=None, env=None):
    args = ["filter", "explain"]
    if not builtin:
        args.append("--no-builtin")
    args += filter_args(filters)
    if program:
        args += ["--program", program]
    if framework:
        args += ["--framework", framework]
    args += ["--file", file]
    if qualname:
        args += ["--qualname", qualname]
    if module:
        args += ["--module", module]
    for k, n in values:
        args += ["--value", "%s:%s" % (k, n)]
    p = run(sluice, args, env=env)
    if p.returncode != 0:
        raise Fail("explain exit %d: %s" % (p.returncode,
                                           p.stderr.decode(errors="replace")[:300]))
    return json.loads(p.stdout)


def show(sluice, filters, builtin=True, program=None, framework=None,
         env=None):
    args = ["filter", "show"] + ([] if builtin else ["--no-builtin"])
    args += filter_args(filters)
    if program:
        args += ["--program", program]
    if framework:
        args += ["--framework", framework]
    p = run(sluice, args, env=env)
    if p.returncode != 0:
        raise Fail("show exit %d: %s" % (p.returncode,
                                        p.stderr.decode(errors="replace")[:300]))
    return json.loads(p.stdout)


def check(sluice, files, builtin=True):
    args = ["filter", "check"] + ([] if builtin else ["--no-builtin"]) + files
    p = run(sluice, args)
    return p.returncode, p.stderr.decode(errors="replace")


def first_message(stderr):
    """The message of the first problem line, after `file:line:col: `."""
    line = stderr.strip().splitlines()[0] if stderr.strip() else ""
    parts = line.split(": ", 1)
    return parts[1] if len(parts) == 2 and parts[0].count(":") >= 2 else line


def expect_eq(what, got, want):
    if got != want:
        raise Fail("%s: got %r, want %r" % (what, got, want))


class Project:
    """A temporary project directory: <root>/.codetracer/<file> for filters
    marked in_dot_codetracer, else <root>/filters/<file>."""

    def __init__(self):
        self.root = os.path.realpath(tempfile.mkdtemp(prefix="sl_tf_"))

    def put(self, rel, text):
        p = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text)
        return p

    def close(self):
        shutil.rmtree(self.root, ignore_errors=True)


def read(path):
    with open(path) as f:
        return f.read()


def chain_files(proj, fdir, chain, dot):
    """Place the chain's files; returns (builtin?, [paths])."""
    builtin = False
    paths = []
    for entry in chain:
        if entry == "<builtin-default>":
            builtin = True
            continue
        name = entry.split(" ", 1)[0]
        text = read(os.path.join(fdir, name))
        text = text.replace("@PROJECT_ROOT@", proj.root)
        base = os.path.basename(name)
        rel = (".codetracer/" if dot else "filters/") + base
        path = proj.put(rel, text)
        if "(inline, label '" in entry:
            label = entry.split("(inline, label '", 1)[1].split("'", 1)[0]
            path = "inline:%s=%s" % (label, path)
        paths.append(path)
    return builtin, paths


# ---- selector cases ----

SCOPE_KINDS = ("pkg", "file", "obj")


def selector_case(sluice, case):
    raw = case["raw"]
    proj = Project()
    try:
        kind = raw.split(":", 1)[0]
        value = kind not in SCOPE_KINDS and kind in (
            "local", "global", "arg", "ret", "attr")
        if case.get("permitted_kinds"):
            value = True
        q = "'" + raw + "'" if "'" not in raw else json.dumps(raw)
        if value:
            body = ('[[scope.rules]]\nselector = "pkg:glob:*"\n'
                    '[[scope.rules.value_patterns]]\nselector = %s\n'
                    'action = "drop"\n' % q)
        else:
            body = '[[scope.rules]]\nselector = %s\nexec = "skip"\n' % q
        path = proj.put(".codetracer/f.toml",
                        '[meta]\nname = "sel"\nversion = 1\n[scope]\n'
                        'default_exec = "trace"\n'
                        'default_value_action = "allow"\n' + body)
        want_err = case.get("error") or case.get("error_prefix")
        if want_err:
            rc, err = check(sluice, [path], builtin=False)
            expect_eq("check exit", rc, 1)
            msg = first_message(err)
            where = ("invalid value selector in %s scope.rules[0] "
                     "value_patterns[0]: " if value else
                     "invalid scope selector in %s scope.rules[0]: ") % path
            if case.get("error"):
                expect_eq("message", msg, where + case["error"])
            elif not msg.startswith(where + case["error_prefix"]):
                raise Fail("message %r does not start with %r"
                           % (msg, where + case["error_prefix"]))
            return
        rc, err = check(sluice, [path], builtin=False)
        if rc != 0:
            raise Fail("check failed: " + err[:300])
        chain = show(sluice, [path], builtin=False)
        rule = chain["filters"][0]["rules"][0]
        sel = rule["value_patterns"][0]["selector"] if value else rule["selector"]
        if "kind" in case:
            expect_eq("selector", sel, "%s:%s:%s" % (
                case["kind"], case["match"], case["pattern"]))
        for cand, want in [(c, True) for c in case.get("matches", [])] + \
                          [(c, False) for c in case.get("non_matches", [])]:
            if value:
                r = explain(sluice, [path], "/nowhere/m.py", "f", "m",
                            [(kind, cand)])
                got = r["values"][0]["action"] == "drop"
            elif kind == "pkg":
                r = explain(sluice, [path], "/nowhere/x-y.py", "f", cand)
                got = r["exec"] == "skip"
            elif kind == "file":
                r = explain(sluice, [path], os.path.join(proj.root, cand), "f")
                got = r["exec"] == "skip"
            else:
                r = explain(sluice, [path], "/no-where/x-y.py", cand)
                got = r["exec"] == "skip"
            expect_eq("match %r" % cand, got, want)
    finally:
        proj.close()


# ---- expectations.json ----

# ---- the recorder (sluice.trace) ----

RECORDER = {"python": None, "error": None}

RUNNER = r"""
import builtins, importlib, runpy, sys
import sluice.trace as st
builtins.snapshot = dict      # harness helpers: C builtins, no frames
builtins.emit_return = id
out, program, module, filters, frameworks = sys.argv[1:6]
sys.path.insert(0, sys.argv[6])
st.start(out, trace_filter=[f for f in filters.split("\n") if f] or None,
         program=program, frameworks=[f for f in frameworks.split(",") if f],
         discover=False, use_env=False)
try:
    if module == "__main__":
        runpy.run_path(program, run_name="__main__")
    else:
        importlib.import_module(module)
finally:
    st.stop()
"""


def recorder_python():
    if RECORDER["python"] or RECORDER["error"]:
        if RECORDER["error"]:
            raise Fail(RECORDER["error"])
        return RECORDER["python"]
    raise Fail("no recorder python")


def find_recorder(sluice, python):
    if python:
        RECORDER["python"] = python
        return
    root = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    build = os.path.dirname(os.path.realpath(sluice))
    p = subprocess.run(["bash", os.path.join(root, "scripts", "python-test"),
                        "--venv", build],
                       capture_output=True, text=True, timeout=1800)
    if p.returncode != 0:
        RECORDER["error"] = ("the recorder could not be built: " +
                             p.stderr.strip()[-300:])
    else:
        RECORDER["python"] = p.stdout.strip().splitlines()[-1]


def recorder_env():
    e = dict(os.environ)
    e.pop("CODETRACER_TRACE_FILTER", None)
    for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LD_PRELOAD"):
        e.pop(k, None)
    return e


def record(proj, filters, program, module, frameworks=()):
    """Run program (imported as module, or as __main__) under the
    recorder API; returns the trace dir's parsed files."""
    py = recorder_python()
    runner = proj.put("_runner/run.py", RUNNER)
    out = os.path.join(proj.root, "_trace")
    p = subprocess.run([py, runner, out, program, module, "\n".join(filters),
                        ",".join(frameworks), proj.root],
                       capture_output=True, cwd=proj.root, env=recorder_env(),
                       timeout=300)
    if p.returncode != 0:
        raise Fail("recorder exit %d: %s" % (
            p.returncode, p.stderr.decode(errors="replace")[-300:]))
    return load_trace(out)


def record_cli(proj, args):
    py = recorder_python()
    out = os.path.join(proj.root, "_trace")
    p = subprocess.run([py, "-m", "sluice.trace", "--trace-dir", out] + args,
                       capture_output=True, cwd=proj.root, env=recorder_env(),
                       timeout=600)
    t = load_trace(out)
    t["returncode"] = p.returncode
    t["stderr"] = p.stderr.decode(errors="replace")
    return t


def load_trace(out):
    t = {}
    for name in ("trace", "trace_metadata", "trace_paths"):
        with open(os.path.join(out, name + ".json")) as f:
            t[name] = json.load(f)
    return t


def kinds(trace, kind):
    return [e[kind] for e in trace["trace"] if kind in e]


def balanced(trace):
    depth = 0
    for e in trace["trace"]:
        depth += ("Call" in e) - ("Return" in e)
        if depth < 0:
            return False
    return depth == 0


def balance_case(proj, paths, query, what):
    """The scope query's file as a script whose module is skipped: only
    the <toplevel> Call/Return pair remains."""
    qual = query.get("qualname") or "f"
    prog = proj.put(query["file"].split(" ", 1)[0],
                    "def %s():\n    return 1\n\nfor _ in range(3):\n"
                    "    %s()\n" % (qual, qual))
    module = query.get("module_hint") or "__main__"
    t = record(proj, paths, prog, module)
    names = [f["name"] for f in kinds(t, "Function")]
    expect_eq("functions", names, ["<toplevel>"])
    expect_eq("calls", len(kinds(t, "Call")), 1)
    rets = kinds(t, "Return")
    expect_eq("returns", [r["return_value"].get("text") for r in rets],
              ["<exit>"])
    if qual in names:
        raise Fail("Function %r recorded" % qual)


def scope_case(sluice, fdir, case):
    proj = Project()
    try:
        q = case["query"]
        dot = case.get("in_dot_codetracer", False)
        builtin, paths = chain_files(proj, fdir, case["chain"], dot)
        code_root = proj.root
        file = q["file"].split(" ", 1)[0]
        if file.startswith("<tmp>/"):
            # an inline filter's project root is "": the code lives in a
            # directory of its own whose name starts with ".tmp", with
            # app/__init__.py beside it
            code_root = os.path.realpath(tempfile.mkdtemp(prefix=".tmp",
                                                          dir=proj.root))
            file = file[len("<tmp>/"):]
            os.makedirs(os.path.join(code_root, "app"), exist_ok=True)
            open(os.path.join(code_root, "app", "__init__.py"), "w").close()
        abs_file = os.path.join(code_root, file)
        exp = case["expect"]
        values = [(k, n) for k, n, _ in exp.get("decide", [])]
        r = explain(sluice, paths, abs_file, q.get("qualname"),
                    q.get("module_hint"), values, builtin=builtin)
        if "exec" in exp:
            expect_eq("exec", r["exec"], exp["exec"])
        if "ctf_resolution_exec" in exp:
            expect_eq("exec", r["exec"],
                      ["trace", "skip"][exp["ctf_resolution_exec"]])
        if "matched_rule_index" in exp:
            expect_eq("rule index", (r["rule"] or {}).get("index"),
                      exp["matched_rule_index"])
        for key, field in (("module_name", "module"),
                           ("relative_path", "relative_path"),
                           ("value_default", "value_default")):
            if key in exp:
                expect_eq(key, r[field], exp[key])
        if "absolute_path" in exp:
            if r["module"] is None:
                raise Fail("no module")
        for (k, n, want), got in zip(exp.get("decide", []), r["values"]):
            expect_eq("%s:%s" % (k, n), got["action"], want)
        if "trace_json" in exp:
            balance_case(proj, paths, q, exp["trace_json"])
    finally:
        proj.close()


def parse_selector(s):
    parts = s.split(":", 2)
    if len(parts) == 2:
        return (parts[0], "glob", parts[1])
    return tuple(parts)


def composition_case(sluice, fdir, case):
    proj = Project()
    try:
        exp = case["expect"]
        chain = case.get("chain")
        if chain is None:
            for fw, want in exp.items():
                name = {"unknown_framework": "nose"}.get(fw, fw)
                c = show(sluice, [], framework=name)
                expect_eq(fw, [f["path"] for f in c["filters"]], want)
            return
        dot = case.get("in_dot_codetracer", False)
        builtin = chain[0] == "<builtin-default>"
        paths, program, env = [], None, {}
        for entry in chain[1:] if builtin else chain:
            name = entry.split(" ", 1)[0]
            text = read(os.path.join(fdir, name)).replace("@PROJECT_ROOT@",
                                                          proj.root)
            how = entry[len(name):]
            if "auto-discovered" in how or "as <root>/.codetracer" in how or \
                    "as <tmp>/.codetracer" in how:
                proj.put(".codetracer/trace-filter.toml", text)
                program = proj.put("main.py", "")
            elif "CODETRACER_TRACE_FILTER" in how:
                env["CODETRACER_TRACE_FILTER"] = proj.put("env-filter.toml",
                                                          text)
            elif "explicit" in how or "--trace-filter" in how:
                paths.append(proj.put("override-filter.toml", text))
            else:
                rel = (".codetracer/" if dot else "") + os.path.basename(name)
                path = proj.put(rel, text)
                if "(inline, label '" in how:
                    label = how.split("(inline, label '", 1)[1].split("'")[0]
                    path = "inline:%s=%s" % (label, path)
                paths.append(path)
        c = show(sluice, paths, builtin=builtin, program=program, env=env)
        got_paths = [f["path"] for f in c["filters"]]
        for key in ("summary_paths_contain",
                    "trace_metadata.trace_filter.filters[].path"):
            if key in exp:
                want = [w.split(" (")[0].replace("<root>", proj.root)
                        .replace("<tmp>", proj.root) for w in exp[key]]
                expect_eq("paths", got_paths, want)
        if "summary_names" in exp:
            expect_eq("names", [f["name"] for f in c["filters"]],
                      exp["summary_names"])
        if "summary" in exp:
            expect_eq("summary", [{"name": f["name"], "path": f["path"]}
                                  for f in c["filters"]], exp["summary"])
        rules = [r for f in c["filters"][1 if builtin else 0:]
                 for r in f["rules"]]
        if "rules_len" in exp:
            expect_eq("rules_len", len(rules), exp["rules_len"])
        for key, want in exp.items():
            if key.startswith("rules["):
                idx = int(key[6:key.index("]")])
                field = key[key.index("]") + 2:]
                r = rules[idx]
                if field == "value_patterns":
                    got = [parse_selector(p["selector"])
                           for p in r["value_patterns"]]
                    want = [parse_selector(w) for w in want]
                elif field == "selector.pattern":
                    got = parse_selector(r["selector"])[2]
                else:
                    got = r[field]
                expect_eq(key, got, want)
        if "default_exec" in exp:
            r = explain(sluice, paths, "/no-where/x-y.py", builtin=builtin,
                        values=[("local", "zz")])
            expect_eq("default_exec", r["exec"], exp["default_exec"])
            expect_eq("default_value_action", r["values"][0]["action"],
                      exp["default_value_action"])
        if "io" in exp:
            pass  # the composed [io] is unit-tested (sl_filter_io)
    finally:
        proj.close()


def error_case(sluice, fdir, case):
    proj = Project()
    try:
        if "file" not in case:
            path = os.path.join(proj.root, "filters", "absent.toml")
            rc, err = check(sluice, [path])
            expect_eq("exit", rc, 1)
            expect_eq("message", first_message(err),
                      case["message"].replace("<path>", path))
            return
        path = os.path.join(fdir, case["file"])
        rc, err = check(sluice, [path], builtin=False)
        if "ok" in case:
            expect_eq("exit", rc, 0)
            r = explain(sluice, [path], "/no-where/x-y.py",
                        values=[("local", "zz")])
            expect_eq("default_exec", r["exec"], case["ok"]["default_exec"])
            expect_eq("default_value_action", r["values"][0]["action"],
                      case["ok"]["default_value_action"])
            return
        expect_eq("exit", rc, 1)
        msg = first_message(err)
        if "message" in case:
            expect_eq("message", msg, case["message"].replace("<path>", path))
        else:
            want = case["message_prefix"].replace("<path>", path)
            if not msg.startswith(want):
                raise Fail("message %r does not start with %r" % (msg, want))
    finally:
        proj.close()


def file_case(sluice, fdir, rel, errors):
    path = os.path.join(fdir, rel)
    builtin = not rel.startswith("builtin/") and rel not in errors
    rc, err = check(sluice, [path], builtin=builtin)
    if rel in errors:
        expect_eq("exit", rc, 1)
    elif rc != 0:
        raise Fail("check failed: " + err[:300])


class Model(ast.NodeVisitor):
    """What the upstream harness records for a program: LINE snapshots at
    each snapshot() call and returns at each emit_return() call inside the
    called function."""

    def __init__(self, text):
        self.tree = ast.parse(text)
        self.globals = []
        self.funcs = {}
        for node in self.tree.body:
            if isinstance(node, ast.FunctionDef):
                self.funcs[node.name] = node
                self.globals.append(node.name)
            elif isinstance(node, ast.Assign):
                for t in node.targets:
                    if isinstance(t, ast.Name):
                        self.globals.append(t.id)

    def events(self):
        out = []
        for name, fn in self.funcs.items():
            local = [a.arg for a in fn.args.args]
            for stmt in fn.body:
                if isinstance(stmt, ast.Assign):
                    for t in stmt.targets:
                        if isinstance(t, ast.Name) and t.id not in local:
                            local.append(t.id)
                call = stmt.value if isinstance(stmt, ast.Expr) else None
                if isinstance(call, ast.Call) and isinstance(call.func,
                                                             ast.Name):
                    if call.func.id == "snapshot":
                        vals = [("local", n) for n in local]
                        vals += [("global", g) for g in self.globals
                                 if g not in local]
                        out.append((name, vals))
                    elif call.func.id == "emit_return":
                        out.append((name, [("ret", None)]))
        return out


LABEL = {"arg": "argument", "local": "local", "global": "global",
         "ret": "return", "attr": "attribute"}


def runtime_case(sluice, fdir, case):
    if "program" in case:
        proj = Project()
        try:
            decision_model(sluice, fdir, case, proj)
        finally:
            proj.close()
    recorded(fdir, case)


def decision_model(sluice, fdir, case, proj):
    exp = case["expect"]
    dot = case.get("in_dot_codetracer", False)
    builtin, paths = chain_files(proj, fdir, case["chain"], dot)
    abs_file = proj.put(case["program_file"], case["program"])
    model = Model(case["program"])
    red = {v: 0 for v in LABEL.values()}
    drop = {v: 0 for v in LABEL.values()}
    decided = {}
    ret_action = None
    for fn, vals in model.events():
        base = explain(sluice, paths, abs_file, fn, builtin=builtin)
        vals = [(k, base["object"] if k == "ret" else n) for k, n in vals]
        r = explain(sluice, paths, abs_file, fn, values=vals,
                    builtin=builtin)
        for v in r["values"]:
            if v["action"] == "redact":
                red[LABEL[v["kind"]]] += 1
            elif v["action"] == "drop":
                drop[LABEL[v["kind"]]] += 1
            if v["kind"] == "ret":
                ret_action = ret_action or v["action"]
            else:
                decided.setdefault(v["name"], v["action"])
    for key, want in exp.items():
        if key.startswith("no VariableName "):
            name = key.split("'")[1]
            expect_eq(key, decided.get(name), "drop")
        elif key == "VariableName events":
            kept = [n for n, a in decided.items() if a != "drop"]
            expect_eq(key, kept, want)
        elif key == "snapshot vars":
            for name, w in want.items():
                expect_eq(name, decided.get(name),
                          "redact" if w == "<redacted>" else "allow")
        elif key.startswith("first Value of "):
            name = key.split("'")[1]
            expect_eq(key, decided.get(name),
                      {"<redacted>": "redact"}.get(want.get("msg"),
                                                   "allow"))
        elif key in ("first Return.return_value", "Return.return_value"):
            expect_eq(key, ret_action, {"<redacted>": "redact",
                                        "<dropped>": "drop"}[want["msg"]])
        elif key == "Return events":
            expect_eq(key, sum(1 for _, v in model.events()
                               if v == [("ret", None)]), want)
        elif key == "trace_metadata.trace_filter":
            c = show(sluice, paths, builtin=builtin)
            expect_eq("names", [f["name"] for f in c["filters"]],
                      [f["name"] for f in want["filters"]])
            st = want["stats"]
            expect_eq("value_redactions", red, st["value_redactions"])
            expect_eq("value_drops", drop, st["value_drops"])
            expect_eq("scopes_skipped", sum(
                1 for fn, _ in model.events()
                if explain(sluice, paths, abs_file, fn,
                           builtin=builtin)["exec"] == "skip"),
                st["scopes_skipped"])


NESTED = "def a(x):\n    return b(x) + 1\n\ndef b(y):\n    return c(y) * 2\n\n" \
    "def c(z):\n    return z\n\nprint(a(1))\n"

PYTEST_FILE = "def helper(v):\n    return v * 2\n\n" \
    "def test_double():\n    assert helper(2) == 4\n"


def recorded(fdir, case):
    """The case through the real recorder."""
    exp = case["expect"]
    proj = Project()
    try:
        chain = [c for c in case["chain"] if c != "<builtin-default>"]
        frameworks = [c[len("<builtin-"):-1] for c in chain
                      if c.startswith("<builtin-")]
        files = [c for c in chain if not c.startswith("<")]
        _, paths = chain_files(proj, fdir, files,
                               case.get("in_dot_codetracer", False))
        if frameworks:
            proj.put("test_sample.py", PYTEST_FILE)
            args = []
            for f in paths:
                args += ["--trace-filter", f]
            args += ["--" + f for f in frameworks]
            t = record_cli(proj, args + ["-m", "pytest", "-q", "-p",
                                         "no:cacheprovider", "test_sample.py"])
            expect_eq("pytest exit", t["returncode"], 0)
        elif "program" in case:
            prog = proj.put(case["program_file"], case["program"])
            module = case["program_file"][:-3].replace("/", ".")
            t = record(proj, paths, prog, module)
        else:
            prog = proj.put("nested.py", NESTED)
            t = record(proj, paths, prog, "__main__")
        varnames = [v for v in kinds(t, "VariableName")]
        values = {}
        for v in kinds(t, "Value"):
            values.setdefault(varnames[v["variable_id"]], []).append(
                v["value"])
        rets = [r["return_value"] for r in kinds(t, "Return")]
        calls = kinds(t, "Call")
        for key, want in exp.items():
            if key.startswith("no VariableName "):
                name = key.split("'")[1]
                if name in varnames:
                    raise Fail("%s: recorded" % key)
            elif key == "VariableName events":
                expect_eq(key, varnames, want)
            elif key.startswith("first Value of "):
                got = values.get(key.split("'")[1], [None])[0] or {}
                expect_eq(key, {k: got.get(k) for k in want}, want)
            elif key == "snapshot vars":
                for name, w in want.items():
                    for got in values.get(name, [None]):
                        if w == "<redacted>":
                            expect_eq(name, (got or {}).get("msg"), w)
                        else:
                            expect_eq(name, {k: (got or {}).get(k) for k in w},
                                      w)
            elif key in ("first Return.return_value", "Return.return_value"):
                got = rets[0] if rets else {}
                expect_eq(key, {k: got.get(k) for k in want}, want)
            elif key == "count(Call) >= 4":
                if len(calls) < 4:
                    raise Fail("%d Calls" % len(calls))
            elif key == "count(Call) == count(Return)":
                expect_eq(key, len(calls), len(rets))
                if not balanced(t):
                    raise Fail("a Return comes before its Call")
            elif key == "trace_metadata.trace_filter.stats.scopes_skipped > 0":
                n = t["trace_metadata"]["trace_filter"]["stats"][
                    "scopes_skipped"]
                if n <= 0:
                    raise Fail("scopes_skipped %d" % n)
        names = [f["name"] for f in t["trace_metadata"]["trace_filter"][
            "filters"]]
        if names[0] != "builtin-default" or not balanced(t):
            raise Fail("chain %r, balanced %s" % (names, balanced(t)))
    finally:
        proj.close()


def main():
    global SANITIZER
    ap = argparse.ArgumentParser()
    ap.add_argument("--sluice", required=True)
    ap.add_argument("--expect-fail")
    ap.add_argument("--python")
    ap.add_argument("shared")
    a = ap.parse_args()
    find_recorder(a.sluice, a.python)
    sys.path.insert(0, os.path.join(a.shared, "tools"))
    import conformance_common as cc
    SANITIZER = cc.sanitizer_problem
    base = os.path.join(os.path.realpath(a.shared), "conformance",
                        "trace-filter")
    fdir = os.path.join(base, "filters")
    sel = json.load(open(os.path.join(base, "cases", "selector_cases.json")))
    exp = json.load(open(os.path.join(base, "cases", "expectations.json")))
    cases = []
    for i, c in enumerate(sel["cases"]):
        cases.append(("selector_cases[%d]" % i,
                      lambda c=c: selector_case(a.sluice, c)))
    for c in exp["scope_cases"]:
        name = "scope:" + c["origin"].split("::")[-1]
        cases.append((name, lambda c=c: scope_case(a.sluice, fdir, c)))
    for i, c in enumerate(exp["composition_cases"]):
        cases.append(("composition[%d]" % i,
                      lambda c=c: composition_case(a.sluice, fdir, c)))
    errors = set()
    for c in exp["error_cases"]:
        name = "error:" + c.get("file", "absent")
        if "file" in c and "ok" not in c:
            errors.add(c["file"])
        cases.append((name, lambda c=c: error_case(a.sluice, fdir, c)))
    for d in sorted(os.listdir(fdir)):
        for f in sorted(os.listdir(os.path.join(fdir, d))):
            if f.endswith(".toml"):
                rel = d + "/" + f
                cases.append(("file:" + rel, lambda rel=rel: file_case(
                    a.sluice, fdir, rel, errors)))
    for i, c in enumerate(exp["runtime_cases"]):
        cases.append(("runtime[%d]" % i,
                      lambda c=c: runtime_case(a.sluice, fdir, c)))
    names = [n for n, _ in cases]
    expected = cc.load_expected(a.expect_fail, names)
    failures = []
    for name, fn in cases:
        try:
            fn()
        except Fail as e:
            failures.append(name)
            tag = "xfail" if name in expected else "FAIL"
            print("  %s %s: %s" % (tag, name, e))
        except Exception as e:  # a driver or output problem is a failure
            failures.append(name)
            tag = "xfail" if name in expected else "FAIL"
            print("  %s %s: %s: %s" % (tag, name, type(e).__name__, e))
    status = cc.verdict("trace-filter", failures, expected, a.expect_fail)
    print("trace-filter: %d passed, %d failed" % (len(cases) - len(failures),
                                                  len(failures)))
    return status


if __name__ == "__main__":
    sys.exit(main())
