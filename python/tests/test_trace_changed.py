"""sluice.trace's values="changed" mode records everything: expanding its
trace (sluice.trace.expand) gives, byte for byte, the trace values="full"
writes for the same run (object addresses aside: they are normalised to
0x?, as two processes place objects apart), with the same filter stats.
Checked on the golden program, the value-heavy bench program, generators,
coroutines, exceptions, threads taking turns, and random programs that
mutate containers in place, alias them, unbind locals and change
globals. Also: the changed trace is marked in its metadata, the expander
refuses a full trace, redacted values never appear, and on 3.12+ the dict
watcher is given back at stop."""
import json
import os
import random
import re
import shutil
import subprocess
import sys
import textwrap

import pytest

import sluice.trace
from sluice import _tracer

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(HERE, "golden")


def run(folder, prog, values, opts=(), filters=(), expect_rc=0):
    out = os.path.join(folder, "out-" + values)
    env = {k: v for k, v in os.environ.items()
           if k not in ("CODETRACER_TRACE_FILTER", "SLUICE_TRACE_NO_REUSE")}
    env["PYTHONHASHSEED"] = "0"
    cmd = [sys.executable, "-m", "sluice.trace", "--trace-dir", out,
           "--values", values]
    for f in filters:
        cmd += ["--trace-filter", f]
    p = subprocess.run(cmd + list(opts) + [prog], cwd=folder, env=env,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == expect_rc, p.stderr
    return out, p.stdout


def read(path):
    with open(path, encoding="utf-8", newline="") as f:
        return f.read()


def normalise(text):
    """Addresses and thread idents differ between two processes."""
    text = re.sub(r"0x[0-9a-f]+", "0x?", text)
    return re.sub(r"(started|stopped|daemon) \d+", r"\1 ?", text)


def same_recording(tmp_path, source, opts=(), filters=(), name="prog.py",
                   expect_rc=0):
    """Record source in both modes; expand the changed one; the traces and
    metadata must be the same. Returns (full dir, changed dir)."""
    folder = str(tmp_path)
    prog = os.path.join(folder, name)
    with open(prog, "w") as f:
        f.write(source)
    full, out_full = run(folder, prog, "full", opts, filters, expect_rc)
    changed, out_changed = run(folder, prog, "changed", opts, filters,
                               expect_rc)
    assert out_full == out_changed  # the program behaves the same
    expanded = os.path.join(folder, "expanded")
    sluice.trace.expand(changed, expanded)
    want = normalise(read(os.path.join(full, "trace.json")))
    got = normalise(read(os.path.join(expanded, "trace.json")))
    if got != want:
        a, b = got.splitlines(), want.splitlines()
        for k, (x, y) in enumerate(zip(a, b)):
            assert x == y, "first difference at event line %d" % k
        assert len(a) == len(b)
    meta_full = json.loads(read(os.path.join(full, "trace_metadata.json")))
    meta_exp = json.loads(read(os.path.join(expanded,
                                            "trace_metadata.json")))
    assert meta_exp == meta_full
    assert read(os.path.join(expanded, "trace_paths.json")) == \
        read(os.path.join(full, "trace_paths.json"))
    return full, changed


def test_golden_program_expands_to_the_full_trace(tmp_path):
    shutil.copy(os.path.join(GOLDEN, "values.py"), tmp_path / "values.py")
    full, changed = same_recording(
        tmp_path, read(os.path.join(GOLDEN, "values.py")), name="values.py",
        opts=["--depth", "4", "--items", "20", "--text", "200"],
        filters=[os.path.join(GOLDEN, "filter.toml")])
    # the point of the mode: much less written
    assert os.path.getsize(os.path.join(changed, "trace.json")) * 3 < \
        os.path.getsize(os.path.join(full, "trace.json"))


def test_changed_trace_is_marked_and_full_trace_is_refused(tmp_path):
    full, changed = same_recording(tmp_path, "x = [1]\nx.append(2)\n")
    meta = json.loads(read(os.path.join(changed, "trace_metadata.json")))
    assert meta["values"] == "changed"
    assert "values" not in json.loads(
        read(os.path.join(full, "trace_metadata.json")))
    assert '{"Delta":' in read(os.path.join(changed, "trace.json"))
    with pytest.raises(sluice.trace.ExpandError, match="not a changed"):
        sluice.trace.expand(full)
    p = subprocess.run([sys.executable, "-m", "sluice.trace", "expand", full],
                       capture_output=True, text=True)
    assert p.returncode == 1 and "not a changed-values trace" in p.stderr
    # in place, from the command line
    p = subprocess.run([sys.executable, "-m", "sluice.trace", "expand",
                        changed], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert normalise(read(os.path.join(changed, "trace.json"))) == \
        normalise(read(os.path.join(full, "trace.json")))


VALUE_HEAVY = '''
import sys
def value_heavy(n):
    total = 0
    for i in range(n):
        name = "item%d" % i
        row = [i, i * 2, name]
        rec = {"id": i, "name": name, "ok": i % 3 == 0}
        pair = (name, i)
        total += row[1] + len(rec) + pair[1]
    return total
print(value_heavy(300))
'''


def test_value_heavy_program_expands_to_the_full_trace(tmp_path):
    full, changed = same_recording(tmp_path, VALUE_HEAVY)
    assert os.path.getsize(os.path.join(changed, "trace.json")) * 4 < \
        os.path.getsize(os.path.join(full, "trace.json"))


FLOWS = '''
import asyncio
import sys

STATE = {"log": []}

def gen(limit):
    seen = []
    for x in range(limit):
        seen.append(x)
        try:
            got = yield x
        except KeyError as e:
            seen.append(str(e))
            got = None
        if got:
            limit += got
    return seen

def nested(n):
    box = [n]
    if n == 0:
        raise ValueError("bottom %r" % box)
    try:
        return nested(n - 1)
    finally:
        box.append("unwound")
        STATE["log"].append(len(box))

async def worker(name, n):
    acc = []
    for i in range(n):
        acc.append((name, i))
        await asyncio.sleep(0)
    STATE[name] = acc
    return acc

async def main_async():
    r = await asyncio.gather(worker("a", 3), worker("b", 2))
    return [len(x) for x in r]

def main():
    g = gen(3)
    out = [next(g), g.send(1), g.throw(KeyError("k"))]
    out.extend(g)
    g2 = gen(5)
    next(g2)
    g2.close()
    try:
        nested(3)
    except ValueError as e:
        out.append(str(e))
    out.append(asyncio.run(main_async()))
    squares = [v * v for v in range(4)]
    table = {k: [k] for k in "ab"}
    table["a"].append(squares)
    return out, STATE

print(main())
'''


def test_generators_coroutines_and_exceptions_expand_to_the_full_trace(
        tmp_path):
    same_recording(tmp_path, FLOWS)


HANDOFF = '''
import threading
_cv = threading.Condition()
_turn = [None]

def turn(me, other):
    with _cv:
        _turn[0] = other
        _cv.notify_all()
        _cv.wait_for(lambda: _turn[0] == me)

def wait_first(me):
    with _cv:
        _cv.wait_for(lambda: _turn[0] == me)

def done(me, other):
    with _cv:
        _turn[0] = other
        _cv.notify_all()

def runner(me, other, fn):
    wait_first(me)
    fn()
    done(me, other)

def begin(first, threads):
    with _cv:
        _turn[0] = first
        _cv.notify_all()
    for t in threads:
        t.join()
'''

THREADS = '''
import threading
import handoff

SHARED = []

def work(me, other, n):
    mine = {"who": me, "items": []}
    for i in range(n):
        mine["items"].append(i)
        SHARED.append((me, i))
        handoff.turn(me, other)
    mine["done"] = True
    return mine

def main():
    ts = [threading.Thread(target=handoff.runner,
                           args=("A", "B", lambda: work("A", "B", 4))),
          threading.Thread(target=handoff.runner,
                           args=("B", "A", lambda: work("B", "A", 4)))]
    for t in ts:
        t.start()
    handoff.begin("A", ts)
    return len(SHARED)

print(main())
'''


def test_threads_taking_turns_expand_to_the_full_trace(tmp_path):
    # the hand-over runs in a skipped module, so the threads' traced lines
    # alternate the same way in both runs, each frame's Steps between the
    # other thread's
    (tmp_path / "handoff.py").write_text(HANDOFF)
    (tmp_path / "skip.toml").write_text(textwrap.dedent('''
        [meta]
        name = "handoff"
        version = 1
        [scope]
        default_exec = "trace"
        default_value_action = "allow"
        [[scope.rules]]
        selector = "pkg:literal:handoff"
        exec = "skip"
        '''))
    full, changed = same_recording(tmp_path, THREADS,
                                   filters=[str(tmp_path / "skip.toml")])
    text = read(os.path.join(changed, "trace.json"))
    frames = {int(m) for m in re.findall(r'"Delta":\{"frame":(\d+)', text)}
    assert len(frames) >= 3  # main and each thread's work() at once


OPS = [
    "a.append(len(a))",
    "a.pop() if len(a) > 1 else None",
    "if a:\n    a[0] = len(b)",
    "b['k'].append(len(b))",
    "b[len(b) % 4] = [len(a)]",
    "b.pop(len(b) % 4, None)",
    "a = list(a)",
    "d = a",
    "d.append('d')",
    "c = (a, len(a))",
    "c[0].append(0)",
    "G_LIST.append(len(a))",
    "G_DICT[len(a) % 3] = a[:2]",
    "G_N += 1",
    "box.items.append(len(a))",
    "p.attr = len(a)",
    "p = Plain()",
    "s = 'v%d' % len(a)",
    "if 's' in locals():\n    del s",
    "n = [a, b]\nn.append(n)",
    "b['self'] = b",
    "deep = [[[[[len(a)]]]]]",
    "if 'deep' in locals():\n    deep[0][0][0][0].append(1)",
    "wide = list(range(8))",
    "if 'wide' in locals():\n    wide[7] = len(a)",
    "if 'wide' in locals():\n    wide[1] = len(a)",
    "t = (1, 'x', None)",
    "G_NEW%d = len(a)",
    "if len(a) > 3:\n    del G_LIST[0]",
    "fs = {len(a), 3}",
    "x = a.copy()\nx[0:0] = [x]",
]


def random_program(seed, nfuncs=5, nops=30):
    r = random.Random(seed)
    out = ["G_LIST = [1, 2]", "G_DICT = {'a': 1}", "G_N = 0", "",
           "class Box:",
           "    def __init__(self):",
           "        self.items = []",
           "    def __str__(self):",
           "        return 'Box%r' % (self.items,)",
           "", "class Plain:", "    pass", ""]
    for f in range(nfuncs):
        out.append("def f%d(arg):" % f)
        out.append("    global G_N, G_NEW0, G_NEW1, G_NEW2, G_NEW3")
        out.append("    a = [arg]; b = {'k': [1]}; c = (a, 2); d = a")
        out.append("    box = Box(); p = Plain(); s = 'x'")
        for _ in range(nops):
            o = r.choice(OPS)
            if o.startswith("G_NEW"):
                o = o % r.randrange(4)  # a global that comes and stays
            out.append(textwrap.indent(o, "    "))
        out.append("    return len(a)")
        out.append("")
    out.append("total = 0")
    out.append("for i in range(3):")
    for f in range(nfuncs):
        out.append("    total += f%d(i)" % f)
        if r.random() < 0.5:
            out.append("    G_LIST.append(total)")
    out.append("print(total, G_N, len(G_LIST))")
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("seed", range(6))
def test_random_programs_mutating_in_place_expand_to_the_full_trace(
        tmp_path, seed):
    src = random_program(seed)
    compile(src, "prog.py", "exec")
    # small limits, so changes beyond them (not recorded) are met too
    same_recording(tmp_path, src, opts=["--depth", "3", "--items", "5",
                                        "--text", "40"])


def test_values_too_large_to_keep_are_written_whole_and_still_expand(
        tmp_path):
    # 100 x 100 elements: past the fingerprint a frame keeps per value, so
    # the grid is encoded and written at every line, as in the full trace
    src = textwrap.dedent('''
        def grid_work():
            grid = [[c for c in range(100)] for r in range(100)]
            small = [1]
            for k in range(5):
                grid[k][99] = -k
                grid[99][k] = k
                small.append(k)
            return grid[0][99]
        print(grid_work())
        ''')
    full, changed = same_recording(tmp_path, src, opts=["--items", "200",
                                                        "--depth", "3"])
    text = read(os.path.join(changed, "trace.json"))
    # grid[4][99] = -4 is in the grid written at each of the 4 lines after
    # it (kept values would be written at 2 of them: where grid changed)
    assert text.count('"i":-4') == 4


def test_redacted_values_never_appear_in_a_changed_trace(tmp_path):
    src = textwrap.dedent('''
        def handle(password):
            token = "tok-" + password
            for i in range(3):
                token = token + "!"
                note = [i]
            return len(token)
        handle("hunter2-secret")
        ''')
    full, changed = same_recording(tmp_path, src)
    for name in os.listdir(changed):
        data = open(os.path.join(changed, name), "rb").read()
        assert b"hunter2" not in data, name
    assert "<redacted>" in read(os.path.join(changed, "trace.json"))


def test_api_forms_take_values(tmp_path):
    with pytest.raises(ValueError, match="values must be"):
        sluice.trace.start(str(tmp_path / "x"), values="some")
    assert not sluice.trace.is_recording()
    with sluice.trace.recording(str(tmp_path / "cm"), values="changed",
                                discover=False, use_env=False) as summary:
        xs = [1]
        for i in range(3):
            xs.append(i)
    assert summary["values"] == "changed"
    meta = json.loads(read(str(tmp_path / "cm" / "trace_metadata.json")))
    assert meta["values"] == "changed"
    sluice.trace.expand(str(tmp_path / "cm"))  # a complete, valid delta

    @sluice.trace.traced(trace_dir=str(tmp_path / "dec"), values="changed",
                         discover=False, use_env=False)
    def f(n):
        acc = []
        for i in range(n):
            acc.append(i)
        return acc

    assert f(3) == [0, 1, 2]
    meta = json.loads(read(str(tmp_path / "dec" / "trace_metadata.json")))
    assert meta["values"] == "changed"


@pytest.mark.skipif(not _tracer.MONITORING,
                    reason="dict watchers are Python 3.12+")
@pytest.mark.parametrize("values", ["full", "changed"])
def test_dict_watcher_is_freed_and_dicts_unwatched_at_stop(tmp_path, values):
    sluice.trace.start(str(tmp_path / values), values=values, discover=False,
                       use_env=False)
    y = 1
    for i in range(3):  # lines of this module: its globals are watched
        y += i
    watcher, watched, _ = _tracer._dict_watching()
    sluice.trace.stop()
    assert watcher >= 0 and watched >= 1
    after, left, unwatched = _tracer._dict_watching()
    assert after == -1  # the watcher id is given back
    assert left == 0
    assert unwatched >= watched - 1  # (a dict freed meanwhile is gone)
    assert unwatched >= 1
