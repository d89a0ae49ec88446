"""sluice.trace: record a Python program's execution as a codetracer JSON
trace (trace.json, trace_metadata.json, trace_paths.json), skipping and
redacting what the trace filters say.

    python -m sluice.trace [--trace-filter FILE]... [--trace-dir DIR] script.py [args]

    import sluice.trace
    sluice.trace.start("trace-out", trace_filter="filters.toml")
    ...
    sluice.trace.stop()

    with sluice.trace.recording("trace-out"):
        ...

    @sluice.trace.traced(trace_dir="trace-out")
    def main(): ...

The filter chain is builtin-default, then the framework builtins asked for
(`frameworks=("pytest",)`), then the first `.codetracer/trace-filter.toml`
found walking up from the program's directory, then the files of
CODETRACER_TRACE_FILTER, then `trace_filter` (a path, a "::"-joined list,
or a sequence of them). The hooks and the event writer are C
(sluice._tracer): sys.monitoring on Python 3.12+, the C trace hook on 3.11.
"""
import functools
import json
import os
import sys
import threading
import warnings

from .. import _tracer
from .expand import expand, ExpandError

__all__ = ["start", "stop", "recording", "traced", "is_recording",
           "expand", "FilterError", "DEFAULT_LIMITS", "VALUES"]

FilterError = _tracer.FilterError
DEFAULT_LIMITS = {"depth": 4, "items": 64, "text": 4096}
VALUES = ("full", "changed")
VERSION = "0.1.0"

_lock = threading.Lock()
_state = None  # (session, info) while recording
_PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def _specs(trace_filter):
    if trace_filter is None:
        return []
    if isinstance(trace_filter, (str, bytes, os.PathLike)):
        trace_filter = [trace_filter]
    out = []
    for item in trace_filter:
        item = os.fsdecode(os.fspath(item))
        if not any(seg.strip() for seg in item.split("::")):
            raise ValueError("trace_filter must resolve to at least one path")
        out.append(item)
    if not out:
        raise ValueError("trace_filter must resolve to at least one path")
    return out


def chain_steps(trace_filter=None, program=None, frameworks=(),
                discover=True, use_env=True):
    """The filter chain, in the order the C engine loads it."""
    steps = [("builtin", "builtin-default")]
    for fw in frameworks:
        steps.append(("builtin", "builtin-" + fw))
    if discover:
        steps.append(("discover", program))
    if use_env:
        steps.append(("env", None))
    for spec in _specs(trace_filter):
        steps.append(("paths", spec))
    return steps


def is_recording():
    return _state is not None


def start(trace_dir="trace-out", trace_filter=None, *, program=None,
          args=None, frameworks=(), discover=True, use_env=True,
          values="full", **limits):
    """Start recording into trace_dir (created if missing). Raises
    FilterError (with .file, .line, .col) for a bad filter file and
    FileNotFoundError for a missing one, before anything is recorded.

    values="full" (the default) writes codetracer's full scope snapshot at
    every line; values="changed" writes, at each line, only the values
    that changed since the same frame's last line (a fresh frame gets them
    all), and marks the trace so in trace_metadata.json ("values":
    "changed"); sluice.trace.expand rebuilds the full trace from it, byte
    for byte."""
    global _state
    if values not in VALUES:
        raise ValueError("values must be one of %s, not %r"
                         % (", ".join(VALUES), values))
    unknown = set(limits) - set(DEFAULT_LIMITS)
    if unknown:
        raise TypeError("unknown limits: %s" % ", ".join(sorted(unknown)))
    lim = dict(DEFAULT_LIMITS, **limits)
    if program is None:
        argv0 = sys.argv[0] if sys.argv and sys.argv[0] else ""
        program = os.path.abspath(argv0) if argv0 and argv0 != "-c" else "<unknown>"
    if args is None:
        args = list(sys.argv[1:])
    with _lock:
        if _state is not None:
            raise RuntimeError("sluice.trace is already recording")
        steps = chain_steps(trace_filter, program, frameworks, discover,
                            use_env)
        trace_dir = os.path.abspath(os.fspath(trace_dir))
        os.makedirs(trace_dir, exist_ok=True)
        session = _tracer.Session(trace_dir, program, steps, (_PKG_DIR,),
                                  values=values, **lim)
        info = {"trace_dir": trace_dir, "program": program, "values": values,
                "args": list(args), "workdir": os.getcwd(),
                "thread_hook": None}
        if not _tracer.MONITORING:
            info["prev_trace"] = sys.gettrace()
            if info["prev_trace"] is not None:
                warnings.warn("sluice.trace takes over this thread's "
                              "sys.settrace hook on Python 3.11; the "
                              "previous tracer pauses until recording ends",
                              RuntimeWarning, stacklevel=2)
            info["thread_hook"] = (threading.gettrace(),)
            threading.settrace(_tracer._thread_hook)
        session.start()
        _state = (session, info)


def stop(exit_code=None):
    """Stop recording and write the trace files. exit_code, when known,
    is the toplevel Return value and process_exit_status.code; None
    records "<exit>". Returns a summary dict."""
    global _state
    with _lock:
        if _state is None:
            raise RuntimeError("sluice.trace is not recording")
        session, info = _state
        _state = None
        result = session.stop(exit_code)
        if info["thread_hook"] is not None:
            threading.settrace(info["thread_hook"][0])
        if info.get("prev_trace") is not None:
            sys.settrace(info["prev_trace"])
    d = info["trace_dir"]
    with open(os.path.join(d, "trace_paths.json"), "w") as f:
        json.dump(result["paths"], f)
    meta = {
        "args": info["args"],
        "process_exit_status": {"code": exit_code, "label": None},
        "program": info["program"],
        "trace_filter": json.loads(result["trace_filter"]),
        "workdir": info["workdir"],
    }
    meta["recorder"] = {"name": "sluice", "target_script": info["program"],
                        "version": VERSION}
    if info["values"] != "full":
        meta["values"] = info["values"]  # the last key: expand drops it
    with open(os.path.join(d, "trace_metadata.json"), "w") as f:
        json.dump(meta, f)
    if result["io_error"]:
        raise OSError(result["io_error"], os.strerror(result["io_error"]),
                      os.path.join(d, "trace.json"))
    if result["out_of_memory"]:
        raise MemoryError("sluice.trace: events were lost (out of memory)")
    return {"trace_dir": d, "values": info["values"],
            "events": result["events"],
            "bytes": result["bytes"], "trace_filter": meta["trace_filter"]}


class recording:
    """Context manager: record the body. `as` gives a dict filled with
    stop()'s summary on exit."""

    def __init__(self, trace_dir="trace-out", trace_filter=None, **kw):
        self._args = (trace_dir, trace_filter)
        self._kw = kw
        self.summary = {}

    def __enter__(self):
        start(*self._args, **self._kw)
        return self.summary

    def __exit__(self, *exc):
        self.summary.update(stop())
        return False


def traced(func=None, **kw):
    """Decorator: record each call of the function (unless a recording is
    already running, which then includes it). @traced or @traced(...)."""
    if func is None:
        return lambda f: traced(f, **kw)

    @functools.wraps(func)
    def wrapper(*a, **k):
        if is_recording():
            return func(*a, **k)
        with recording(**kw):
            return func(*a, **k)

    return wrapper
