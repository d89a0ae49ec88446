"""sluice.trace: the execution recorder, through `python -m sluice.trace`
and the API, checked on the files it writes (trace.json, trace_paths.json,
trace_metadata.json)."""
import collections
import json
import os
import subprocess
import sys
import textwrap

import pytest

import sluice.trace as st

ENV_KEYS = ("CODETRACER_TRACE_FILTER",)


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in ENV_KEYS}
    env.update(extra)
    return env


def write(path, text):
    path = str(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(textwrap.dedent(text))
    return path


def run_py(args, cwd, env=None, timeout=120):
    return subprocess.run([sys.executable] + args, cwd=str(cwd),
                          capture_output=True, text=True, env=env or clean_env(),
                          timeout=timeout)


def record(tmp_path, program, *opts, args=(), env=None, name="prog.py"):
    script = write(tmp_path / name, program)
    out = tmp_path / "trace-out"
    p = run_py(["-m", "sluice.trace", "--trace-dir", str(out)] + list(opts) +
               [script] + list(args), tmp_path, env)
    return p, Trace(out)


class Trace:
    def __init__(self, d):
        self.dir = str(d)

    @property
    def events(self):
        with open(os.path.join(self.dir, "trace.json")) as f:
            return json.load(f)

    @property
    def meta(self):
        with open(os.path.join(self.dir, "trace_metadata.json")) as f:
            return json.load(f)

    @property
    def paths(self):
        with open(os.path.join(self.dir, "trace_paths.json")) as f:
            return json.load(f)

    def kinds(self):
        return collections.Counter(next(iter(e)) for e in self.events)

    def functions(self):
        return [e["Function"]["name"] for e in self.events if "Function" in e]

    def calls_of(self, name):
        fid = self.functions().index(name)
        return [e["Call"] for e in self.events
                if "Call" in e and e["Call"]["function_id"] == fid]

    def variables(self):
        return [e["VariableName"] for e in self.events if "VariableName" in e]

    def values_of(self, name):
        """Every Value recorded under a variable name, in order."""
        names = self.variables()
        if name not in names:
            return []
        vid = names.index(name)
        return [e["Value"]["value"] for e in self.events
                if "Value" in e and e["Value"]["variable_id"] == vid]

    def returns(self):
        return [e["Return"]["return_value"] for e in self.events
                if "Return" in e]

    def stats(self):
        return self.meta["trace_filter"]["stats"]

    def assert_balanced(self):
        depth = 0
        for e in self.events:
            if "Call" in e:
                depth += 1
            elif "Return" in e:
                depth -= 1
                assert depth >= 0, "a Return without its Call"
        assert depth == 0, "%d Calls without a Return" % depth


def text_of(v):
    return v.get("text", v.get("r", v.get("msg")))


# ---- the command line ----

def test_cli_keeps_output_argv_and_exit_status(tmp_path):
    p, t = record(tmp_path, """
        import sys
        print("out", sys.argv)
        print("err", file=sys.stderr)
        sys.exit(3)
    """, args=["a", "--b"])
    assert p.returncode == 3
    assert p.stdout == "out ['%s', 'a', '--b']\n" % (tmp_path / "prog.py")
    assert p.stderr == "err\n"
    assert t.meta["process_exit_status"] == {"code": 3, "label": None}
    assert t.meta["args"] == ["a", "--b"]
    assert t.returns()[-1] == {"kind": "Int", "i": 3, "type_id": t.returns()[-1]["type_id"]}
    t.assert_balanced()


def test_cli_raising_script_matches_plain_python_and_balances(tmp_path):
    src = """
        def inner(x):
            raise ValueError("bad %d" % x)
        def outer():
            inner(7)
        outer()
    """
    script = write(tmp_path / "boom.py", src)
    plain = run_py([script], tmp_path)
    p, t = record(tmp_path, src, name="boom.py")
    assert p.returncode == plain.returncode == 1
    assert p.stdout == plain.stdout
    assert p.stderr == plain.stderr
    t.assert_balanced()
    unwinds = [r for r in t.returns() if r.get("r") == "bad 7"]
    assert len(unwinds) == 3  # inner, outer, <module>
    assert t.meta["process_exit_status"]["code"] == 1


def test_cli_module_form_runs_like_python_m(tmp_path):
    write(tmp_path / "pkg" / "__init__.py", "")
    write(tmp_path / "pkg" / "tool.py", """
        import sys
        def main():
            print("argv0", sys.argv[0].endswith("tool.py"), sys.argv[1:])
            return 5
        if __name__ == "__main__":
            sys.exit(main())
    """)
    out = tmp_path / "t"
    plain = run_py(["-m", "pkg.tool", "x"], tmp_path)
    p = run_py(["-m", "sluice.trace", "--trace-dir", str(out), "-m",
                "pkg.tool", "x"], tmp_path)
    assert (p.returncode, p.stdout) == (plain.returncode, plain.stdout) == \
        (5, "argv0 True ['x']\n")
    t = Trace(out)
    assert "main" in t.functions()
    t.assert_balanced()


def test_cli_bad_filter_reports_file_line_col_and_runs_nothing(tmp_path):
    bad = write(tmp_path / "bad.toml", """
        [meta]
        name = "bad"
        version = 1
        [scope]
        default_exec = "trace"
        default_value_action = "allow"
        [[scope.rules]]
        selector = "pkg:x"
        exec = "skipp"
    """)
    p, _ = record(tmp_path, "print('ran')\n", "--trace-filter", bad)
    assert p.returncode == 1
    assert p.stdout == ""
    assert "%s:10:" % bad in p.stderr
    assert "unsupported value 'skipp' for 'exec'" in p.stderr


def test_cli_missing_filter_is_an_error(tmp_path):
    p, _ = record(tmp_path, "print('ran')\n", "--trace-filter",
                  str(tmp_path / "nope.toml"))
    assert p.returncode == 1 and p.stdout == ""
    assert "does not exist" in p.stderr


# ---- the trace format ----

def test_trace_starts_like_codetracer_and_interns_paths(tmp_path):
    p, t = record(tmp_path, """
        def f(a):
            return a + 1
        f(1)
        f(2)
    """)
    assert p.returncode == 0
    ev = t.events
    prog = str(tmp_path / "prog.py")
    assert ev[:4] == [
        {"Path": prog},
        {"Function": {"path_id": 0, "line": 1, "name": "<toplevel>"}},
        {"Call": {"function_id": 0, "args": []}},
        {"Type": {"kind": 30, "lang_type": "None",
                  "specific_info": {"kind": "None"}}},
    ]
    assert t.paths == [prog]
    assert t.functions() == ["<toplevel>", "<__main__>", "f"]
    calls = t.calls_of("f")
    assert len(calls) == 2
    a = t.variables().index("a")
    assert [c["args"][0]["variable_id"] for c in calls] == [a, a]
    assert [c["args"][0]["value"]["i"] for c in calls] == [1, 2]
    assert [r.get("i") for r in t.returns()][-3:] == [3, None, 0]
    assert t.kinds()["Path"] == 1
    # every id refers to an earlier registering event
    seen = collections.Counter()
    for e in ev:
        k = next(iter(e))
        if k in ("Path", "Function", "Type", "VariableName"):
            seen[k] += 1
        elif k == "Step":
            assert e[k]["path_id"] < seen["Path"]
        elif k == "Call":
            assert e[k]["function_id"] < seen["Function"]
        elif k == "Value":
            assert e[k]["variable_id"] < seen["VariableName"]
            assert e[k]["value"].get("type_id", 0) < seen["Type"]


def test_values_are_encoded_as_the_format_says(tmp_path):
    p, t = record(tmp_path, """
        class Obj:
            def __str__(self):
                return "obj!"
        def f():
            n = None
            b = True
            i = -42
            big = 2 ** 80
            s = "h\\u00e9\\n"
            tup = (1, "x")
            lst = [1, [2]]
            d = {"k": 1}
            fl = 1.5
            o = Obj()
            return 0
        f()
    """)
    assert p.returncode == 0, p.stderr
    last = {n: t.values_of(n)[-1] for n in
            ("n", "b", "i", "big", "s", "tup", "lst", "d", "fl", "o")}
    types = [e["Type"]["lang_type"] for e in t.events if "Type" in e]
    assert last["n"]["kind"] == "None"
    assert last["b"]["kind"] == "Bool" and last["b"]["b"] is True
    assert last["i"]["kind"] == "Int" and last["i"]["i"] == -42
    assert last["big"]["kind"] == "Raw" and last["big"]["r"] == str(2 ** 80)
    assert last["s"] == {"kind": "String", "text": "h\u00e9\n",
                         "type_id": types.index("String")}
    assert last["tup"]["kind"] == "Tuple"
    assert [x.get("i", x.get("text")) for x in last["tup"]["elements"]] == [1, "x"]
    assert last["lst"]["kind"] == "Sequence"
    assert last["lst"]["is_slice"] is False
    assert types[last["lst"]["type_id"]] == "List"
    assert last["lst"]["elements"][1]["elements"][0]["i"] == 2
    assert types[last["d"]["type_id"]] == "Dict"
    pair = last["d"]["elements"][0]
    assert pair["kind"] == "Tuple" and pair["elements"][0]["text"] == "k"
    assert last["fl"]["kind"] == "Raw" and last["fl"]["r"] == "1.5"
    assert last["o"]["r"] == "obj!"
    assert types[last["o"]["type_id"]] == "Object"


def test_hostile_values_are_recorded_within_limits(tmp_path):
    p, t = record(tmp_path, """
        class Raises:
            def __repr__(self):
                raise RuntimeError("no repr")
        class Recurses:
            def __repr__(self):
                return repr(self)
        def f():
            r = Raises()
            rr = Recurses()
            cyc = []
            cyc.append(cyc)
            deep = [[[[[[["bottom"]]]]]]]
            wide = list(range(1000))
            long = "x" * 100000
            return "done"
        print(f())
    """, "--depth", "3", "--items", "10", "--text", "100")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "done\n"
    types = [e["Type"]["lang_type"] for e in t.events if "Type" in e]
    assert t.values_of("r")[-1]["msg"] == "<unrepr>"
    assert t.values_of("rr")[-1]["msg"] == "<unrepr>"
    cyc = t.values_of("cyc")[-1]
    assert cyc["elements"][0]["msg"] == "<recursion>"
    assert types[cyc["elements"][0]["type_id"]] == "Recursion"
    deep = t.values_of("deep")[-1]
    for _ in range(3):
        assert deep["kind"] == "Sequence"
        deep = deep["elements"][0]
    assert deep["msg"] == "<depth limit>"
    wide = t.values_of("wide")[-1]["elements"]
    assert [x["i"] for x in wide[:10]] == list(range(10))
    assert wide[10]["msg"] == "<990 more>" and len(wide) == 11
    long = t.values_of("long")[-1]["text"]
    assert long == "x" * 100 + "\u2026"


def test_str_runs_once_per_recorded_value(tmp_path):
    p, t = record(tmp_path, """
        calls = []
        class Counted:
            def __str__(self):
                calls.append(1)
                return "c"
        def f():
            c = Counted()
            x = 1
            y = 2
            return len(calls)
        n = f()
        print(n)
    """)
    assert p.returncode == 0, p.stderr
    # c is live on the lines of x = 1, y = 2 and return: three Values
    assert len(t.values_of("c")) == 3
    assert p.stdout == "3\n"


def test_program_behaviour_and_exception_state_are_unchanged(tmp_path):
    src = """
        import sys
        def g():
            try:
                raise KeyError("k")
            except KeyError:
                a = 1
                info = sys.exc_info()[0].__name__
                return info, a
        def h():
            try:
                return 1 / 0
            finally:
                z = 2
        print(g())
        try:
            h()
        except ZeroDivisionError as e:
            print("caught", type(e).__name__)
    """
    plain = run_py([write(tmp_path / "p.py", src)], tmp_path)
    p, t = record(tmp_path, src, name="p.py")
    assert (p.returncode, p.stdout, p.stderr) == \
        (plain.returncode, plain.stdout, plain.stderr)
    assert p.stdout == "('KeyError', 1)\ncaught ZeroDivisionError\n"
    t.assert_balanced()


# ---- generators, coroutines, threads ----

def test_generators_and_coroutines_balance(tmp_path):
    p, t = record(tmp_path, """
        import asyncio
        def gen(n):
            for i in range(n):
                yield i
        def thrower():
            try:
                yield 1
            except ValueError:
                yield 2
        async def leaf(x):
            await asyncio.sleep(0)
            return x * 2
        async def main():
            a = await leaf(1)
            b = await asyncio.gather(leaf(2), leaf(3))
            return a + sum(b)
        print(list(gen(3)))
        g = thrower()
        next(g)
        print(g.throw(ValueError("v")))
        print(asyncio.run(main()))
    """)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "[0, 1, 2]\n2\n12\n"
    t.assert_balanced()
    # gen: one start with its argument, then a resume per further next()
    calls = t.calls_of("gen")
    assert len(calls) == 4
    assert calls[0]["args"][0]["value"]["i"] == 3
    assert all(c["args"] == [] for c in calls[1:])
    assert len(t.calls_of("leaf")) >= 6
    assert len(t.calls_of("main")) >= 2


def test_threads_balance_and_are_recorded(tmp_path):
    p, t = record(tmp_path, """
        import threading
        def work(k):
            total = 0
            for i in range(k):
                total += i
            return total
        out = []
        ts = [threading.Thread(target=lambda k=k: out.append(work(k)))
              for k in range(5, 9)]
        for th in ts:
            th.start()
        for th in ts:
            th.join()
        print(sorted(out))
    """)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "[10, 15, 21, 28]\n"
    t.assert_balanced()
    assert sorted(c["args"][0]["value"]["i"] for c in t.calls_of("work")) == \
        [5, 6, 7, 8]


# ---- filters ----

DROP_REDACT = """
    [meta]
    name = "user"
    version = 1
    [scope]
    default_exec = "trace"
    default_value_action = "allow"
    [[scope.rules]]
    selector = "pkg:__main__"
    [[scope.rules.value_patterns]]
    selector = "local:hidden"
    action = "drop"
    [[scope.rules.value_patterns]]
    selector = "arg:glob:pin*"
    action = "redact"
    [[scope.rules.value_patterns]]
    selector = "local:glob:pin*"
    action = "redact"
    [[scope.rules.value_patterns]]
    selector = "ret:literal:__main__.check"
    action = "redact"
"""


def test_filters_redact_drop_and_count(tmp_path):
    flt = write(tmp_path / "f.toml", DROP_REDACT)
    p, t = record(tmp_path, """
        def check(pin, other):
            hidden = "h1dden"
            ok = pin == "1234"
            return ok
        check("1234", "x")
    """, "--trace-filter", flt)
    assert p.returncode == 0, p.stderr
    raw = open(os.path.join(t.dir, "trace.json")).read()
    assert "1234" not in raw and "h1dden" not in raw
    assert "hidden" not in t.variables()
    call = t.calls_of("check")[0]
    pin = t.variables().index("pin")
    assert [a["variable_id"] for a in call["args"]][0] == pin
    assert call["args"][0]["value"]["msg"] == "<redacted>"
    assert call["args"][1]["value"]["text"] == "x"
    assert all(v["msg"] == "<redacted>" for v in t.values_of("pin"))
    ret = t.returns()[0]
    assert ret["msg"] == "<redacted>"
    types = [e["Type"]["lang_type"] for e in t.events if "Type" in e]
    assert types[ret["type_id"]] == "Redacted"
    st_ = t.stats()
    assert st_["value_redactions"]["argument"] == 1
    assert st_["value_redactions"]["return"] == 1
    # the first Value of pin is the argument's, before its Call
    assert st_["value_redactions"]["local"] == len(t.values_of("pin")) - 1
    assert st_["value_drops"]["local"] == 2  # hidden, on two lines
    assert [f["name"] for f in t.meta["trace_filter"]["filters"]] == \
        ["builtin-default", "user"]


def test_drop_default_keeps_calls_and_returns_balanced(tmp_path):
    flt = write(tmp_path / "drop.toml", """
        [meta]
        name = "drop-all"
        version = 1
        [scope]
        default_exec = "trace"
        default_value_action = "drop"
    """)
    p, t = record(tmp_path, """
        def a(x):
            secret = "s"
            return b(x) + 1
        def b(y):
            return c(y) * 2
        def c(z):
            return z
        a(1)
    """, "--trace-filter", flt)
    assert p.returncode == 0, p.stderr
    t.assert_balanced()
    assert t.kinds()["Call"] >= 4
    assert t.variables() == []
    rets = t.returns()
    assert all(r["msg"] == "<dropped>" for r in rets[:-1])
    assert rets[-1]["i"] == 0  # the exit status


def test_skipped_scope_leaves_only_the_toplevel(tmp_path):
    flt = write(tmp_path / "skip.toml", """
        [meta]
        name = "skip-main"
        version = 1
        [scope]
        default_exec = "trace"
        default_value_action = "allow"
        [[scope.rules]]
        selector = "pkg:__main__"
        exec = "skip"
    """)
    p, t = record(tmp_path, """
        def side_effect():
            return 1
        for _ in range(100):
            side_effect()
    """, "--trace-filter", flt)
    assert p.returncode == 0, p.stderr
    assert t.functions() == ["<toplevel>"]
    assert t.kinds()["Call"] == t.kinds()["Return"] == 1
    assert t.stats()["scopes_skipped"] >= 2  # <module> and side_effect


def test_chain_order_discovery_env_then_cli(tmp_path):
    body = """
        [meta]
        name = "%s"
        version = 1
        [scope]
        default_exec = "trace"
        default_value_action = "allow"
    """
    proj = tmp_path / "proj"
    disc = write(proj / ".codetracer" / "trace-filter.toml", body % "discovered")
    env1 = write(tmp_path / "e1.toml", body % "env1")
    env2 = write(tmp_path / "e2.toml", body % "env2")
    cli = write(tmp_path / "c.toml", body % "cli")
    script = write(proj / "app" / "main.py", "x = 1\n")
    out = tmp_path / "out"
    p = run_py(["-m", "sluice.trace", "--trace-dir", str(out),
                "--trace-filter", cli + " :: " + env1, script], tmp_path,
               clean_env(CODETRACER_TRACE_FILTER=env1 + "::" + env2))
    assert p.returncode == 0, p.stderr
    got = [(f["name"], f["path"]) for f in Trace(out).meta["trace_filter"]["filters"]]
    assert got == [("builtin-default", "<inline:builtin-default>"),
                   ("discovered", disc), ("env1", env1), ("env2", env2),
                   ("cli", cli), ("env1", env1)]


def test_builtin_filter_skips_the_stdlib(tmp_path):
    p, t = record(tmp_path, """
        import json, textwrap
        for i in range(50):
            json.dumps({"i": i})
        textwrap.dedent("  x")
    """)
    assert p.returncode == 0, p.stderr
    assert t.paths == [str(tmp_path / "prog.py")]
    assert t.stats()["scopes_skipped"] > 0
    assert t.functions() == ["<toplevel>", "<__main__>"]


# ---- the API ----

def test_api_start_stop_context_manager_and_decorator(tmp_path):
    def work(n):
        acc = [i * i for i in range(n)]
        return sum(acc)

    d1 = tmp_path / "a"
    st.start(str(d1), discover=False, use_env=False)
    assert st.is_recording()
    assert work(3) == 5
    summary = st.stop()
    assert not st.is_recording()
    assert summary["events"] > 0
    t = Trace(d1)
    assert "test_api_start_stop_context_manager_and_decorator.<locals>.work" \
        in t.functions()
    assert t.returns()[-1]["text"] == "<exit>"
    assert t.meta["process_exit_status"] == {"code": None, "label": None}
    t.assert_balanced()

    d2 = tmp_path / "b"
    with st.recording(str(d2), discover=False) as s:
        work(2)
    assert s["events"] > 0
    Trace(d2).assert_balanced()

    d3 = tmp_path / "c"

    @st.traced(trace_dir=str(d3), discover=False)
    def decorated(x):
        return work(x) + 1

    assert decorated(4) == 15
    t3 = Trace(d3)
    assert [c["args"][0]["value"]["i"] for c in t3.calls_of(
        "test_api_start_stop_context_manager_and_decorator.<locals>.decorated")] == [4]
    t3.assert_balanced()


def test_api_errors(tmp_path):
    bad = write(tmp_path / "bad.toml", "[meta]\nname = 1\n")
    with pytest.raises(st.FilterError) as e:
        st.start(str(tmp_path / "x"), trace_filter=bad)
    assert e.value.file == bad and e.value.line >= 1 and e.value.col >= 1
    assert not st.is_recording()
    with pytest.raises(FileNotFoundError):
        st.start(str(tmp_path / "x"), trace_filter=str(tmp_path / "none.toml"))
    with pytest.raises(ValueError):
        st.start(str(tmp_path / "x"), trace_filter=" :: ")
    with pytest.raises(RuntimeError):
        st.stop()
    st.start(str(tmp_path / "y"), discover=False)
    try:
        with pytest.raises(RuntimeError):
            st.start(str(tmp_path / "z"))
    finally:
        st.stop()


def test_second_session_resolves_code_again(tmp_path):
    def probe(token_like):
        return token_like

    d1, d2 = tmp_path / "one", tmp_path / "two"
    with st.recording(str(d1), discover=False, use_env=False):
        probe("v1")
    flt = write(tmp_path / "skip.toml", """
        [meta]
        name = "skip-probe"
        version = 1
        [scope]
        default_exec = "trace"
        default_value_action = "allow"
        [[scope.rules]]
        selector = "obj:glob:*probe"
        exec = "skip"
    """)
    with st.recording(str(d2), trace_filter=flt, discover=False,
                      use_env=False):
        probe("v2")
    name = "test_second_session_resolves_code_again.<locals>.probe"
    assert name in Trace(d1).functions()
    assert name not in Trace(d2).functions()


def test_crash_leaves_flushed_events_readable(tmp_path):
    p, t = record(tmp_path, """
        import os
        def f(i):
            s = "v" * 200
            return i
        for i in range(3000):
            f(i)
        os._exit(7)
    """)
    assert p.returncode == 7
    raw = open(os.path.join(t.dir, "trace.json")).read()
    assert raw.startswith("[") and len(raw) >= 1 << 20
    events = json.loads(raw + "\n]")
    assert events[0] == {"Path": str(tmp_path / "prog.py")}


def test_callbacks_from_skipped_code_are_recorded_and_balance(tmp_path):
    p, t = record(tmp_path, """
        import functools, json
        def key(v):
            k = -v
            return k
        def default(o):
            return sorted(o, key=key)
        def boom(v):
            raise KeyError(v)
        print(sorted([3, 1, 2], key=key))
        print(json.dumps({"s": {1, 2}}, default=default))
        print(functools.reduce(lambda a, b: a + b, map(key, [1, 2, 3])))
        try:
            sorted([1, 2], key=boom)
        except KeyError:
            print("caught")
    """)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "[3, 2, 1]\n{\"s\": [2, 1]}\n-6\ncaught\n"
    t.assert_balanced()
    assert len(t.calls_of("key")) == 3 + 2 + 3
    assert len(t.calls_of("default")) == 1
    assert len(t.calls_of("boom")) == 1
    assert t.functions().count("json") == 0
    assert t.paths == [str(tmp_path / "prog.py")]


def test_threads_switching_inside_str_keep_every_event_whole(tmp_path):
    # str() of a value runs Python code, where the interpreter may switch
    # to another thread that records too: events must not interleave
    p, t = record(tmp_path, """
        import sys, threading
        sys.setswitchinterval(1e-6)
        class Slow:
            def __str__(self):
                return "-".join(str(i) for i in range(200))
        def work(k):
            a = Slow()
            b = [Slow(), Slow()]
            for i in range(30):
                c = (a, i)
            return k
        ts = [threading.Thread(target=work, args=(k,)) for k in range(6)]
        for th in ts:
            th.start()
        for th in ts:
            th.join()
        print("ok")
    """)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "ok\n"
    t.assert_balanced()  # trace.json parses: no event was torn
    assert len(t.calls_of("work")) == 6
    slow = "-".join(str(i) for i in range(200))
    assert all(v["r"] == slow for v in t.values_of("a"))


def test_settrace_users_are_told_and_get_their_tracer_back(tmp_path):
    import warnings

    def tracer(frame, event, arg):
        return None

    sys.settrace(tracer)
    try:
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            st.start(str(tmp_path / "t"), discover=False, use_env=False)
            st.stop()
        told = [x for x in w if issubclass(x.category, RuntimeWarning)]
        if sys.version_info >= (3, 12):
            assert told == []  # sys.monitoring runs beside sys.settrace
        else:
            assert len(told) == 1 and "sys.settrace" in str(told[0].message)
        assert sys.gettrace() is tracer
    finally:
        sys.settrace(None)


def test_skipped_code_runs_with_no_trace_or_profile_function(tmp_path):
    # 3.11 runs unspecialised bytecode while any trace or profile function
    # is set: skipped code must run with neither (3.12+: sys.monitoring,
    # neither is ever set); traced code it calls back is traced again
    write(tmp_path / "helper.py", """
        import sys
        def hooks(callback):
            seen = [(sys.gettrace(), sys.getprofile())]
            callback()
            seen.append((sys.gettrace(), sys.getprofile()))
            return seen
    """)
    flt = write(tmp_path / "skip.toml", """
        [meta]
        name = "skip-helper"
        version = 1
        [scope]
        default_exec = "trace"
        default_value_action = "allow"
        [[scope.rules]]
        selector = "pkg:helper"
        exec = "skip"
    """)
    p, t = record(tmp_path, """
        import helper
        def back():
            inside = 1
            return inside
        print(helper.hooks(back))
    """, "--trace-filter", flt)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "[(None, None), (None, None)]\n"
    assert len(t.calls_of("back")) == 1
    assert t.values_of("inside")[-1]["i"] == 1
    assert "hooks" not in t.functions()
    t.assert_balanced()
