"""The recorder's fast paths record what the plain paths record:
- locals read straight from the frame's slots (checked at import by a
  self-test) give the same trace as locals read by name
  (SLUICE_TRACE_NO_SLOTS=1 forces the fallback), in both modes;
- lists, tuples and dicts checked in place (tr_fp_quick: a list's item
  pointers, a dict's pairs) and reused Value events of unchanged
  containers (full mode) still see every in-place mutation: the values
  recorded at each Step are the ones a Python sys.settrace tracer sees at
  the same line, in full mode, in full mode with no reuse
  (SLUICE_TRACE_NO_REUSE=1) and in changed-values mode once expanded;
- a class body whose namespace is not a dict (a metaclass __prepare__) is
  recorded, the same in both modes;
- ints, floats, strs, bools and None are written as Python prints them."""
import json
import math
import os
import re
import subprocess
import sys
import textwrap

import pytest

import sluice.trace
from sluice import _tracer

ENV_DROP = ("CODETRACER_TRACE_FILTER", "SLUICE_TRACE_NO_REUSE",
            "SLUICE_TRACE_NO_SLOTS")


def record(folder, source, values="full", name="prog.py", **env_extra):
    """Run source under python -m sluice.trace; the trace dir (changed
    traces expanded to the full one)."""
    prog = os.path.join(folder, name)
    with open(prog, "w") as f:
        f.write(textwrap.dedent(source))
    tag = "-".join([values] + ["%s=%s" % kv for kv in sorted(env_extra.items())])
    out = os.path.join(folder, "out-" + tag)
    env = {k: v for k, v in os.environ.items() if k not in ENV_DROP}
    env["PYTHONHASHSEED"] = "0"
    env.update(env_extra)
    p = subprocess.run([sys.executable, "-m", "sluice.trace", "--trace-dir",
                        out, "--values", values, prog], cwd=folder, env=env,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    if values == "changed":
        expanded = out + "-expanded"
        sluice.trace.expand(out, expanded)
        out = expanded
    return out


def trace_text(out):
    with open(os.path.join(out, "trace.json"), encoding="utf-8") as f:
        text = f.read()
    return re.sub(r"0x[0-9a-f]+", "0x?", text)


def decode(v):
    """A ValueRecord as a Python value (dicts as lists of pairs)."""
    kind = v["kind"]
    if kind == "None":
        return None
    if kind == "Bool":
        return v["b"]
    if kind == "Int":
        return v["i"]
    if kind == "String":
        return v["text"]
    if kind == "Tuple":
        return tuple(decode(x) for x in v["elements"])
    if kind == "Sequence":
        return [decode(x) for x in v["elements"]]
    if kind == "Raw":
        return ("raw", re.sub(r"0x[0-9a-f]+", "0x?", v["r"]))
    return ("error", v.get("msg"))


def steps_of(out, first, last, names):
    """(line, {name: value}) for every Step at a line in [first, last]."""
    with open(os.path.join(out, "trace.json"), encoding="utf-8") as f:
        events = json.load(f)
    varnames = [e["VariableName"] for e in events if "VariableName" in e]
    steps, cur = [], None
    for e in events:
        if "Step" in e:
            line = e["Step"]["line"]
            cur = {} if first <= line <= last else None
            if cur is not None:
                steps.append((line, cur))
        elif "Call" in e or "Return" in e:
            cur = None
        elif "Value" in e and cur is not None:
            name = varnames[e["Value"]["variable_id"]]
            if name in names:
                cur[name] = decode(e["Value"]["value"])
    return steps


def as_recorded(v):
    """What the recorder writes for v, decoded (dicts as pair lists)."""
    if isinstance(v, dict):
        return [(as_recorded(k), as_recorded(x)) for k, x in v.items()]
    if isinstance(v, list):
        return [as_recorded(x) for x in v]
    if isinstance(v, tuple):
        return tuple(as_recorded(x) for x in v)
    if isinstance(v, (int, str, bool, type(None))):
        return v
    return ("raw", re.sub(r"0x[0-9a-f]+", "0x?", str(v)))


MUTATIONS = """\
class Plain:
    pass

def main():
    xs = [1, 2, 3]
    xs[1] = 20
    xs.append(4)
    xs.pop()
    d = {"a": 1, "b": 2}
    d["a"] = 10
    del d["b"]
    d["c"] = 3
    d["c"] = 3
    t = (xs, 1)
    xs[0] = 100
    nested = [[1], [2]]
    nested[0].append(5)
    nested[1] = [2]
    e = {}
    e["k"] = "v"
    e["k"] = xs
    xs.append(7)
    o = Plain()
    Plain.__qualname__ = "Renamed"
    empty = []
    empty.append(None)
    return 0

if __name__ == "__main__":
    main()
"""
NAMES = ("xs", "d", "t", "nested", "e", "o", "empty")


def oracle():
    """(line, {name: value}) at every line event of main under a Python
    sys.settrace tracer: what the recorder must have written."""
    g = {"__name__": "__main__"}  # as the recorded run names it
    exec(compile(MUTATIONS.split("if __name__")[0], "oracle.py", "exec"), g)
    seen = []

    def tracer(frame, event, arg):
        if frame.f_code.co_name != "main":
            return None
        if event == "line":
            seen.append((frame.f_lineno,
                         {k: as_recorded(v) for k, v in frame.f_locals.items()
                          if k in NAMES}))
        return tracer

    sys.settrace(tracer)
    try:
        g["main"]()
    finally:
        sys.settrace(None)
    return seen


@pytest.mark.parametrize("values,env", [
    ("full", {}),
    ("full", {"SLUICE_TRACE_NO_REUSE": "1"}),
    ("changed", {}),
    ("full", {"SLUICE_TRACE_NO_SLOTS": "1"}),
])
def test_in_place_mutations_of_lists_tuples_dicts_and_objects_are_recorded(
        tmp_path, values, env):
    out = record(str(tmp_path), MUTATIONS, values, **env)
    first = MUTATIONS.splitlines().index("def main():") + 2
    last = MUTATIONS.splitlines().index("    return 0") + 1
    got = steps_of(out, first, last, NAMES)
    want = oracle()
    assert [line for line, _ in got] == [line for line, _ in want]
    for (line, g), (_, w) in zip(got, want):
        assert g == w, "line %d" % line
    # the mutations were seen: xs went through five values, e through three
    xs = [s.get("xs") for _, s in got if "xs" in s]
    assert [1, 20, 3, 4] in xs and [100, 20, 3] in xs and \
        [100, 20, 3, 7] in xs
    assert [("k", [100, 20, 3, 7])] in [s.get("e") for _, s in got]


CLOSURES = """\
def outer(a, b=2, *args, **kw):
    c = [a]
    def inner(x):
        y = (c, a, x)
        c.append(x)
        return y
    d = None
    del d
    inner(1)
    return inner(2)

def gen(n):
    k = 0
    while k < n:
        yield k
        k += 1

class Box:
    size = 3
    def grow(self, by):
        self.size += by
        return self.size

outer(1, 2, 3, k=4)
print(sum(gen(4)), Box().grow(2))
"""


def test_slots_are_read_directly_on_the_supported_interpreters():
    direct, why = _tracer._slots()
    if sys.version_info[:2] in ((3, 11), (3, 13)):
        assert direct and why == "direct"
    assert isinstance(direct, bool) and why


def test_forced_fallback_is_reported():
    env = {k: v for k, v in os.environ.items() if k not in ENV_DROP}
    env["SLUICE_TRACE_NO_SLOTS"] = "1"
    p = subprocess.run([sys.executable, "-c",
                        "from sluice import _tracer; print(_tracer._slots())"],
                       env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "(False, 'SLUICE_TRACE_NO_SLOTS is set')"


@pytest.mark.parametrize("values", ["full", "changed"])
def test_traces_are_the_same_with_and_without_direct_slot_reads(tmp_path,
                                                                values):
    folder = str(tmp_path)
    direct = record(folder, CLOSURES, values)
    by_name = record(folder, CLOSURES, values, SLUICE_TRACE_NO_SLOTS="1")
    a, b = trace_text(direct), trace_text(by_name)
    assert a == b
    # cells and free variables were recorded, dereferenced
    assert '"VariableName":"c"' in a and '"VariableName":"y"' in a
    for name in ("trace_metadata.json", "trace_paths.json"):
        with open(os.path.join(direct, name)) as f, \
                open(os.path.join(by_name, name)) as g:
            assert json.load(f) == json.load(g)


PREPARED = """\
import collections.abc

class Space(collections.abc.MutableMapping):
    def __init__(self):
        self.d = {}
    def __getitem__(self, k):
        return self.d[k]
    def __setitem__(self, k, v):
        self.d[k] = v
    def __delitem__(self, k):
        del self.d[k]
    def __iter__(self):
        return iter(self.d)
    def __len__(self):
        return len(self.d)

class Meta(type):
    @classmethod
    def __prepare__(mcs, name, bases):
        return Space()
    def __new__(mcs, name, bases, ns):
        return super().__new__(mcs, name, bases, dict(ns))

class K(metaclass=Meta):
    first = 1
    second = [first, 2]
    second.append(3)
    third = "x"

print(K.second)
"""


def test_class_body_namespace_that_is_not_a_dict_is_recorded_in_both_modes(
        tmp_path):
    folder = str(tmp_path)
    full = record(folder, PREPARED, "full")
    changed = record(folder, PREPARED, "changed")
    assert trace_text(full) == trace_text(changed)
    first = PREPARED.splitlines().index("class K(metaclass=Meta):") + 2
    steps = steps_of(full, first, first + 3, ("first", "second", "third"))
    assert steps[-1][1] == {"first": 1, "second": [1, 2, 3]}
    assert {"first": 1, "second": [1, 2]} in [s for _, s in steps]


SCALARS = """\
def main():
    values = [0, -1, 7, 2**62, -2**63, 2**63, -2**64 - 1, 10**30,
              0.0, -0.0, 0.1, 1.5, -2.25, 1e16, 1.0e-7, 123456789.125,
              float("inf"), float("-inf"), float("nan"), 1e300 * 10,
              True, False, None, "", "a", "caf\\u00e9", "tab\\there",
              "quote\\"back\\\\slash", "\\u2603", "\\x00\\x1f"]
    for v in values:
        x = v
    return 0

main()
"""


def test_scalars_are_recorded_as_python_prints_them(tmp_path):
    out = record(str(tmp_path), SCALARS)
    with open(os.path.join(out, "trace.json"), encoding="utf-8") as f:
        events = json.load(f)
    varnames = [e["VariableName"] for e in events if "VariableName" in e]
    vid = varnames.index("x")
    xs = []
    for e in events:
        if "Value" in e and e["Value"]["variable_id"] == vid:
            v = e["Value"]["value"]
            if not xs or xs[-1] != v:
                xs.append(v)
    want = eval(SCALARS.split("values = ")[1].split("\n    for")[0], {})
    assert len(xs) == len(want)
    for rec, v in zip(xs, want):
        if isinstance(v, bool):
            assert rec["kind"] == "Bool" and rec["b"] is v
        elif v is None:
            assert rec["kind"] == "None"
        elif isinstance(v, int) and -2**63 <= v < 2**63:
            assert rec["kind"] == "Int" and rec["i"] == v
        elif isinstance(v, str):
            assert rec["kind"] == "String" and rec["text"] == v
        else:  # big ints and floats: their str()
            assert rec["kind"] == "Raw" and rec["r"] == str(v), v
            if isinstance(v, float) and not math.isnan(v):
                assert float(rec["r"]) == v
