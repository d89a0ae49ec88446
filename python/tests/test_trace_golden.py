"""sluice.trace writes the same bytes as before its per-line caches: the
trace of golden/values.py (every value kind, limits, redact and drop,
globals that change and stay, cells, a class body, a generator, an
unwinding frame) is compared byte for byte with the trace the recorder
wrote before them (golden/values-<python>.json, normalised: the program's
folder is <DIR>, object addresses are 0x?; the filter stats in
golden/values-<python>.stats.json), and with the same run made
with the caches turned off (SLUICE_TRACE_NO_REUSE=1)."""
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden")
VERSION = "%d.%d" % sys.version_info[:2]
OPTS = ["--depth", "4", "--items", "20", "--text", "200"]


def record(tmp_path, name, **env):
    d = tmp_path / name
    d.mkdir()
    shutil.copy(os.path.join(HERE, "values.py"), d / "values.py")
    e = {k: v for k, v in os.environ.items()
         if k not in ("CODETRACER_TRACE_FILTER", "SLUICE_TRACE_NO_REUSE")}
    e.update(env)
    p = subprocess.run(
        [sys.executable, "-m", "sluice.trace", "--trace-dir", "out",
         "--trace-filter", os.path.join(HERE, "filter.toml")] + OPTS +
        ["values.py"], cwd=str(d), env=e, capture_output=True, text=True,
        timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "[0, 1, 2, 'boom [1, 2]'] 205 3\n"
    with open(d / "out" / "trace.json") as f:
        trace = f.read()
    with open(d / "out" / "trace_metadata.json") as f:
        stats = json.load(f)["trace_filter"]["stats"]
    return normalise(trace, str(d)), stats


def normalise(text, folder):
    text = text.replace(folder, "<DIR>")
    return re.sub(r"0x[0-9a-f]+", "0x?", text)


def golden_path(ext="trace.json"):
    return os.path.join(HERE, "values-%s.%s" % (VERSION, ext))


def test_trace_matches_the_golden_trace_byte_for_byte(tmp_path):
    if not os.path.exists(golden_path()):
        pytest.skip("no golden trace for Python %s" % VERSION)
    trace, stats = record(tmp_path, "run")
    with open(golden_path()) as f:
        golden = f.read()
    with open(golden_path("stats.json")) as f:
        golden_stats = json.load(f)
    if trace != golden:
        got, want = trace.splitlines(), golden.splitlines()
        for k, (a, b) in enumerate(zip(got, want)):
            assert a == b, "first difference at event line %d" % k
        assert len(got) == len(want)
    assert stats == golden_stats


def test_caches_off_writes_the_same_trace(tmp_path):
    fast, fast_stats = record(tmp_path, "fast")
    slow, slow_stats = record(tmp_path, "slow", SLUICE_TRACE_NO_REUSE="1")
    assert fast.splitlines() == slow.splitlines()
    assert fast_stats == slow_stats


if __name__ == "__main__":  # regenerate: python test_trace_golden.py DIR
    import pathlib
    t, s = record(pathlib.Path(sys.argv[1]), "gen")
    with open(golden_path(), "w") as f:
        f.write(t)
    with open(golden_path("stats.json"), "w") as f:
        json.dump(s, f, indent=1, sort_keys=True)
        f.write("\n")


CHANGES = '''
class Shouts:
    def __str__(self):
        global G
        G -= 100
        return "shout"
SH = Shouts()
class Plain:
    pass
class Other:
    pass
o = Plain()
G = 1
def bump():
    global G
    G += 1
def f():
    a = 1
    Plain.__qualname__ = "Renamed"
    b = 2
    o.__class__ = Other
    c = 3
    Other.__str__ = lambda self: "custom"
    d = 4
    bump()
    e = 5
    return 0
f()
'''


def test_cached_values_follow_changes_to_globals_and_types(tmp_path):
    """Unchanged globals are replayed and default str() texts reused: a
    rebound global, a class renamed, an object's class swapped or given a
    __str__, and a global changed by str() of another global during the
    snapshot are all seen, and the trace equals the one made without caches."""
    traces = []
    for name, env in (("fast", {}), ("slow", {"SLUICE_TRACE_NO_REUSE": "1"})):
        d = tmp_path / name
        d.mkdir()
        (d / "prog.py").write_text(CHANGES)
        e = {k: v for k, v in os.environ.items()
             if k not in ("CODETRACER_TRACE_FILTER", "SLUICE_TRACE_NO_REUSE")}
        e.update(env)
        p = subprocess.run([sys.executable, "-m", "sluice.trace", "--trace-dir",
                            "out", "prog.py"], cwd=str(d), env=e,
                           capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stderr
        with open(d / "out" / "trace.json") as f:
            traces.append(normalise(f.read(), str(d)))
    assert traces[0].splitlines() == traces[1].splitlines()
    events = json.loads(traces[0])
    names = [e["VariableName"] for e in events if "VariableName" in e]

    def values(name):
        vid = names.index(name)
        return [e["Value"]["value"] for e in events
                if "Value" in e and e["Value"]["variable_id"] == vid]
    texts = [v["r"] for v in values("o")]
    assert "<__main__.Plain object at 0x?>" in texts
    assert "<__main__.Renamed object at 0x?>" in texts
    assert "<__main__.Other object at 0x?>" in texts
    assert texts[-1] == "custom"
    gs = [v["i"] for v in values("G")]
    assert gs[0] == 1 - 100  # str(SH) ran first, in the same snapshot
    assert gs == sorted(gs, reverse=True) and len(set(gs)) == len(gs)
