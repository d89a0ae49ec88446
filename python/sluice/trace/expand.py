"""sluice.trace.expand: rebuild codetracer's full-snapshot trace.json from
a trace recorded with values="changed".

    python -m sluice.trace expand DIR [--out DIR2]
    sluice.trace.expand("trace-out", out_dir="trace-full")

A changed-values trace writes, after each Step of a frame it knows, only
the edit operations that turn the frame's last snapshot into this one,
closed by a Delta event (python/src/tracer/delta.c):

    {"Value":...}  the next entry (replaces the next old one; inserted
                   before it after {"Add":1}; appended when none is left)
    {"Keep":N}     the next N old entries, unchanged
    {"Skip":N}     the next N old entries are gone
    {"Add":N}      the next N Values are inserted before the next old entry
    {"Delta":{"frame":F,"keep":N[,"fresh":true]}}  the end: N more old
                   entries; fresh: frame F starts from nothing

Type and VariableName events stay where the full trace has them. Every
other event (and a Step of a frame the recorder had no snapshot for,
written whole, without Delta) is copied as it is. The result is the trace
values="full" writes for the same run, byte for byte; the metadata loses
its "values" key. A trace without "values": "changed" in its metadata is
refused (ExpandError): it is full already.
"""
import json
import os

# (re, shutil and tempfile are imported when used: importing sluice.trace
# must not import modules a recording would otherwise see being imported)

__all__ = ["expand", "expand_events", "ExpandError"]

_OPS = ('{"Value":', '{"Keep":', '{"Skip":', '{"Add":', '{"Type":',
        '{"VariableName":')
_NUM = None


def _num():
    global _NUM
    if _NUM is None:
        import re
        _NUM = re.compile(r'\{"(Keep|Skip|Add)":(\d+)\}\Z')
    return _NUM


class ExpandError(ValueError):
    """The trace is not a changed-values trace, or it is damaged."""


def _events(text):
    if text == "[\n]\n":
        return []
    if not (text.startswith("[\n") and text.endswith("\n]\n")):
        raise ExpandError("trace.json is not a trace event array")
    return text[2:-3].split(",\n")


def _apply(ops, delta, states, out):
    try:
        d = json.loads(delta)["Delta"]
        frame, tail, fresh = d["frame"], d["keep"], d.get("fresh", False)
    except (ValueError, KeyError, TypeError):
        raise ExpandError("bad Delta event: %s" % delta[:200])
    if fresh:
        prev = []
    elif frame in states:
        prev = states[frame]
    else:
        raise ExpandError("Delta of frame %r before its fresh snapshot"
                          % (frame,))
    new = []
    j = add = 0
    for e in ops:
        if e.startswith('{"Value":'):
            if add:
                add -= 1
            elif j < len(prev):
                j += 1
            new.append(e)
            out.append(e)
            continue
        m = _num().match(e)
        if m is None:
            out.append(e)  # Type, VariableName
            continue
        kind, n = m.group(1), int(m.group(2))
        if kind == "Add":
            add += n
            continue
        if j + n > len(prev):
            raise ExpandError("%s past the end of frame %r's snapshot"
                              % (kind, frame))
        if kind == "Keep":
            new.extend(prev[j:j + n])
            out.extend(prev[j:j + n])
        j += n
    if add or j + tail > len(prev):
        raise ExpandError("frame %r's snapshot ends inconsistently" % (frame,))
    new.extend(prev[j:j + tail])
    out.extend(prev[j:j + tail])
    states[frame] = new


def expand_events(events):
    """The full trace's events (strings, one JSON object each) for the
    events of a changed-values trace."""
    out = []
    states = {}
    i, n = 0, len(events)
    while i < n:
        e = events[i]
        i += 1
        if e.startswith('{"Delta":') or _num().match(e):
            raise ExpandError("%s outside a snapshot" % e[:40])
        out.append(e)
        if not e.startswith('{"Step":'):
            continue
        k = i
        while k < n and events[k].startswith(_OPS):
            k += 1
        if k < n and events[k].startswith('{"Delta":'):
            _apply(events[i:k], events[k], states, out)
            i = k + 1
    return out


def _write(path, text):
    import tempfile
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".expand-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def expand(trace_dir, out_dir=None):
    """Rebuild the full trace of the changed-values trace in trace_dir into
    out_dir (default: trace_dir itself, rewritten). Returns out_dir."""
    trace_dir = os.fspath(trace_dir)
    out_dir = trace_dir if out_dir is None else os.fspath(out_dir)
    meta_path = os.path.join(trace_dir, "trace_metadata.json")
    try:
        with open(meta_path, encoding="utf-8") as f:
            meta = json.load(f)
    except FileNotFoundError:
        raise ExpandError("%s: no trace_metadata.json" % trace_dir)
    if not isinstance(meta, dict) or meta.get("values") != "changed":
        raise ExpandError("%s is not a changed-values trace (its metadata has "
                          "no \"values\": \"changed\"): it is full already"
                          % trace_dir)
    with open(os.path.join(trace_dir, "trace.json"), encoding="utf-8",
              newline="") as f:
        events = _events(f.read())
    full = expand_events(events)
    os.makedirs(out_dir, exist_ok=True)
    import shutil
    if os.path.abspath(out_dir) != os.path.abspath(trace_dir):
        for name in os.listdir(trace_dir):
            if name not in ("trace.json", "trace_metadata.json"):
                src = os.path.join(trace_dir, name)
                if os.path.isfile(src):
                    shutil.copyfile(src, os.path.join(out_dir, name))
    body = "".join("\n" + e if k == 0 else ",\n" + e
                   for k, e in enumerate(full))
    _write(os.path.join(out_dir, "trace.json"), "[" + body + "\n]\n")
    del meta["values"]
    _write(os.path.join(out_dir, "trace_metadata.json"), json.dumps(meta))
    return out_dir
