"""sluice.trace overhead (python bench/python_trace.py [--quick]
[--callgrind]), run with a python that has the sluice package
(`scripts/python-test --venv build` prints one; make bench runs it).

skip-heavy:  most time in the standard library (json, re, textwrap,
             collections: a few user lines per 40-record document), which
             builtin-default skips; ratio to untraced.
value-heavy: user code whose every line changes locals holding ints,
             strings, small lists, dicts and tuples, recorded in full (with
             the module's globals at every line, as the format wants), and
             with values="changed" (the same recording: only what changed
             is written, sluice.trace.expand rebuilds the rest; its events/s
             and MB/s are those of the full trace it stands for, then what
             it wrote); against untraced and
             against a no-op sys.settrace tracer written in Python, with
             events/s and MB/s of trace written.
The "slots by name" rows record the same with SLUICE_TRACE_NO_SLOTS=1:
locals read by name instead of from the frame's slots (the fallback the
recorder uses when its import-time self-test fails).
Each row is the best of N runs of the workload in a fresh process (wall
clock, noisy on a shared machine). --callgrind adds instructions per
iteration from valgrind --tool=callgrind (repeatable under load): two runs
of different sizes, their difference divided by the difference in
iterations, so start-up and the filter compile cancel out."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

WORKLOAD = r'''
import collections, json, re, sys, textwrap, time

class Data:  # attributes are not recorded, only the class itself
    WORDS = re.compile(r"\w+")
    DOC = {"rows": [{"id": k, "tags": ["a", "b", "c"], "body": "lorem ipsum " * 8}
                    for k in range(40)]}
    TEXT = json.dumps(DOC)

def skip_heavy(n):
    out = 0
    for i in range(n):
        out += len(json.loads(json.dumps(Data.DOC, sort_keys=True)))
        out += len(textwrap.fill(Data.TEXT, 60))
        out += len(collections.Counter(Data.WORDS.findall(Data.TEXT)))
    return out

def value_heavy(n):
    total = 0
    for i in range(n):
        name = "item%d" % i
        row = [i, i * 2, name]
        rec = {"id": i, "name": name, "ok": i % 3 == 0}
        pair = (name, i)
        total += row[1] + len(rec) + pair[1]
    return total

mode, n = sys.argv[1], int(sys.argv[2])
fn = skip_heavy if sys.argv[3] == "skip" else value_heavy
summary = {}
if mode == "settrace":
    def noop(frame, event, arg):
        return noop
    sys.settrace(noop)
if mode in ("sluice", "changed"):
    import sluice.trace as st
    st.start(sys.argv[4], discover=False, use_env=False,
             values="changed" if mode == "changed" else "full")
t0 = time.perf_counter()
fn(n)
dt = time.perf_counter() - t0
if mode in ("sluice", "changed"):
    t1 = time.perf_counter()
    summary = st.stop()
    dt += time.perf_counter() - t1
if mode == "settrace":
    sys.settrace(None)
print(json.dumps({"seconds": dt, "events": summary.get("events", 0),
                  "bytes": summary.get("bytes", 0)}))
'''


# modes run with locals read by name (SLUICE_TRACE_NO_SLOTS=1)
BY_NAME = {"sluice-byname": "sluice", "changed-byname": "changed"}


def env_of(mode):
    env = dict(os.environ)
    env.pop("SLUICE_TRACE_NO_SLOTS", None)
    if mode in BY_NAME:
        env["SLUICE_TRACE_NO_SLOTS"] = "1"
    return env


def run(mode, workload, n, reps):
    best = None
    with tempfile.TemporaryDirectory() as d:
        prog = os.path.join(d, "workload.py")
        with open(prog, "w") as f:
            f.write(WORKLOAD)
        for _ in range(reps):
            out = subprocess.run([sys.executable, prog,
                                  BY_NAME.get(mode, mode), str(n), workload,
                                  os.path.join(d, "trace")],
                                 capture_output=True, text=True, check=True,
                                 env=env_of(mode))
            r = json.loads(out.stdout.strip().splitlines()[-1])
            if best is None or r["seconds"] < best["seconds"]:
                best = r
    return best


def instructions(mode, workload, n1, n2):
    """Instructions per iteration of workload under mode (callgrind)."""
    counts = []
    with tempfile.TemporaryDirectory() as d:
        prog = os.path.join(d, "workload.py")
        with open(prog, "w") as f:
            f.write(WORKLOAD)
        for n in (n1, n2):
            out = subprocess.run(
                ["valgrind", "--tool=callgrind",
                 "--callgrind-out-file=" + os.path.join(d, "cg.out"),
                 sys.executable, prog, BY_NAME.get(mode, mode), str(n),
                 workload, os.path.join(d, "trace")],
                capture_output=True, text=True, check=True, env=env_of(mode))
            m = re.search(r"refs:\s+([\d,]+)", out.stderr)
            counts.append(int(m.group(1).replace(",", "")))
    return (counts[1] - counts[0]) / (n2 - n1)


def main():
    quick = "--quick" in sys.argv
    reps = 3 if quick else 5
    rows = []
    n = 100 if quick else 400
    base = run("plain", "skip", n, reps)
    tr = run("sluice", "skip", n, reps)
    rows.append(("skip-heavy", "untraced", base["seconds"], 1.0, "", ""))
    rows.append(("skip-heavy", "sluice.trace", tr["seconds"],
                 tr["seconds"] / base["seconds"], "", ""))
    n = 5000 if quick else 20000
    base = run("plain", "value", n, reps)
    noop = run("settrace", "value", n, reps)
    tr = run("sluice", "value", n, reps)
    ch = run("changed", "value", n, reps)
    tr_bn = run("sluice-byname", "value", n, reps)
    ch_bn = run("changed-byname", "value", n, reps)
    rows.append(("value-heavy", "untraced", base["seconds"], 1.0, "", ""))
    rows.append(("value-heavy", "no-op sys.settrace (Python)", noop["seconds"],
                 noop["seconds"] / base["seconds"], "", ""))
    rows.append(("value-heavy", "sluice.trace (all values)", tr["seconds"],
                 tr["seconds"] / base["seconds"],
                 "%.2fM" % (tr["events"] / tr["seconds"] / 1e6),
                 "%.1f" % (tr["bytes"] / tr["seconds"] / 1e6)))
    # changed values: the same recording (expand rebuilds the full
    # trace); events/s and MB/s count what the full trace would hold,
    # then (in brackets) what was written
    rows.append(("value-heavy", "sluice.trace (changed values)",
                 ch["seconds"], ch["seconds"] / base["seconds"],
                 "%.2fM" % (tr["events"] / ch["seconds"] / 1e6),
                 "%.1f" % (tr["bytes"] / ch["seconds"] / 1e6)))
    rows.append(("value-heavy", "  (written by changed values)", ch["seconds"],
                 ch["seconds"] / base["seconds"],
                 "%.2fM" % (ch["events"] / ch["seconds"] / 1e6),
                 "%.1f" % (ch["bytes"] / ch["seconds"] / 1e6)))
    rows.append(("value-heavy", "  all values, slots by name", tr_bn["seconds"],
                 tr_bn["seconds"] / base["seconds"], "", ""))
    rows.append(("value-heavy", "  changed values, slots by name",
                 ch_bn["seconds"], ch_bn["seconds"] / base["seconds"], "", ""))
    rows.append(("value-heavy", "changed values / no-op tracer", ch["seconds"],
                 ch["seconds"] / noop["seconds"], "", ""))
    rows.append(("value-heavy", "all values / no-op tracer", tr["seconds"],
                 tr["seconds"] / noop["seconds"], "", ""))
    from sluice import _tracer
    print("python %s, locals from frame slots: %s (%s)" %
          ((sys.version.split()[0],) + tuple(_tracer._slots())))
    print("%-12s %-30s %9s %7s %9s %6s" % ("workload", "run", "seconds",
                                           "ratio", "events/s", "MB/s"))
    for r in rows:
        print("%-12s %-30s %9.3f %6.2fx %9s %6s" % r)
    if "--callgrind" not in sys.argv:
        return
    if not shutil.which("valgrind"):
        print("callgrind: valgrind is not installed")
        return
    print("instructions per iteration (callgrind; iterations %s)" %
          ("20..60 skip-heavy, 1000..3000 value-heavy"))
    cases = [("skip-heavy", "skip", 20, 60, ["plain", "sluice"]),
             ("value-heavy", "value", 1000, 3000,
              ["plain", "settrace", "sluice", "changed", "sluice-byname",
               "changed-byname"])]
    names = {"plain": "untraced", "settrace": "no-op sys.settrace (Python)",
             "sluice": "sluice.trace", "changed": "sluice.trace (changed)",
             "sluice-byname": "  slots by name",
             "changed-byname": "  (changed) slots by name"}
    for label, workload, n1, n2, modes in cases:
        base = None
        got = {}
        for mode in modes:
            ir = got[mode] = instructions(mode, workload, n1, n2)
            base = base or ir
            print("%-12s %-30s %12.0f %6.2fx" % (label, names[mode], ir,
                                                  ir / base))
        if "settrace" in got:
            for mode in ("sluice", "changed"):
                print("%-12s %-30s %12s %6.2fx" % (
                    label, names[mode] + " / no-op", "",
                    got[mode] / got["settrace"]))


if __name__ == "__main__":
    main()
