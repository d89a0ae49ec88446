"""python -m sluice.trace [options] (script.py | -m module) [args...]
python -m sluice.trace expand DIR [--out DIR2]

Runs the program as plain `python` would (same sys.argv, sys.path[0],
__main__, exit status, output and traceback) while recording it.

options:
  --trace-filter FILE   a filter file or a "::"-joined list; repeatable,
                        loaded after builtin-default, the discovered
                        .codetracer/trace-filter.toml and
                        CODETRACER_TRACE_FILTER
  --trace-dir DIR       where the trace goes (default: trace-out)
  --pytest, --unittest  add the framework's builtin filter
  --depth N, --items N, --text N   value limits (nesting, elements per
                        container, bytes per text)
  --values full|changed full (default): every line's full scope snapshot;
                        changed: only the values changed since the frame's
                        last line ("values": "changed" in the metadata)

expand DIR [--out DIR2] rebuilds the full trace of a changed-values trace
                        (in place, or into DIR2)
"""
import importlib.util
import os
import runpy
import sys

from . import DEFAULT_LIMITS, VALUES, FilterError, start, stop
from .expand import ExpandError, expand

USAGE = ("usage: python -m sluice.trace [--trace-filter FILE]... "
         "[--trace-dir DIR] [--pytest|--unittest] [--values full|changed] "
         "(script.py | -m module) [args...]\n"
         "       python -m sluice.trace expand DIR [--out DIR2]")


def parse(argv):
    opts = {"filters": [], "dir": "trace-out", "frameworks": [],
            "limits": {}, "module": None, "script": None, "args": [],
            "values": "full"}
    i = 0
    while i < len(argv):
        a = argv[i]
        name, eq, val = a.partition("=")
        takes = name in ("--trace-filter", "--trace-dir", "--depth",
                         "--items", "--text", "--values", "-m")
        if takes and not eq:
            if i + 1 >= len(argv):
                raise SystemExit("%s\nerror: %s needs a value" % (USAGE, a))
            val = argv[i + 1]
            i += 1
        i += 1
        if name == "--trace-filter":
            opts["filters"].append(val)
        elif name == "--trace-dir":
            opts["dir"] = val
        elif name == "--values":
            if val not in VALUES:
                raise SystemExit("%s\nerror: --values is one of %s" %
                                 (USAGE, ", ".join(VALUES)))
            opts["values"] = val
        elif name in ("--pytest", "--unittest") and not eq:
            opts["frameworks"].append(name[2:])
        elif name[2:] in DEFAULT_LIMITS and name.startswith("--"):
            try:
                opts["limits"][name[2:]] = int(val)
            except ValueError:
                raise SystemExit("%s\nerror: %s needs a number" % (USAGE, name))
        elif name == "-m":
            opts["module"] = val
            opts["args"] = argv[i:]
            return opts
        elif a in ("-h", "--help"):
            print(__doc__)
            raise SystemExit(0)
        elif a == "--":
            break
        elif a.startswith("-") and a != "-":
            raise SystemExit("%s\nerror: unknown option %s" % (USAGE, a))
        else:
            i -= 1
            break
    if i >= len(argv):
        raise SystemExit("%s\nerror: no script or -m module" % USAGE)
    opts["script"] = argv[i]
    opts["args"] = argv[i + 1:]
    return opts


def module_file(mod):
    spec = importlib.util.find_spec(mod)
    if spec is None:
        raise SystemExit("%s: No module named %s" % (sys.executable, mod))
    if spec.submodule_search_locations is not None:
        spec = importlib.util.find_spec(mod + ".__main__") or spec
    return spec.origin or mod


def exit_code(e):
    if e.code is None:
        return 0
    if isinstance(e.code, int):
        return e.code
    return 1


def expand_main(argv):
    out, src, i = None, None, 0
    while i < len(argv):
        a = argv[i]
        if a == "--out" and i + 1 < len(argv):
            out = argv[i + 1]
            i += 2
            continue
        if a.startswith("--out="):
            out = a[len("--out="):]
        elif a in ("-h", "--help"):
            print(__doc__)
            return 0
        elif src is None and not a.startswith("-"):
            src = a
        else:
            raise SystemExit("%s\nerror: unexpected %s" % (USAGE, a))
        i += 1
    if src is None:
        raise SystemExit("%s\nerror: expand needs the trace folder" % USAGE)
    try:
        expand(src, out)
    except (ExpandError, OSError) as e:
        sys.stderr.write("sluice.trace expand: %s\n" % e)
        return 1
    return 0


def main(argv):
    if argv[:1] == ["expand"]:
        return expand_main(argv[1:])
    o = parse(argv)
    if o["module"]:
        program = os.path.abspath(module_file(o["module"]))
        sys.argv = [program] + o["args"]
        sys.path[0] = os.getcwd()
    else:
        program = os.path.abspath(o["script"])
        if not os.path.exists(program):
            sys.stderr.write("%s: can't open file %r: [Errno 2] No such file "
                             "or directory\n" % (sys.executable, o["script"]))
            return 2
        sys.argv = [o["script"]] + o["args"]
        sys.path[0] = os.path.dirname(program)
    try:
        start(o["dir"], o["filters"] or None, program=program,
              args=o["args"], frameworks=o["frameworks"],
              values=o["values"], **o["limits"])
    except (FilterError, OSError, ValueError) as e:
        sys.stderr.write("sluice.trace: %s\n" % e)
        return 1
    code, exc = 0, None
    try:
        if o["module"]:
            runpy.run_module(o["module"], run_name="__main__", alter_sys=True)
        else:
            runpy.run_path(program, run_name="__main__")
    except SystemExit as e:
        code, exc = exit_code(e), e
    except BaseException as e:  # reported below, as python would
        code, exc = (130 if isinstance(e, KeyboardInterrupt) else 1), e
    finally:
        stop(code)
    if isinstance(exc, SystemExit):
        raise exc
    if exc is not None:
        here = os.path.dirname(os.path.abspath(__file__))
        runner = (runpy.__file__, "<frozen runpy>")
        tb = exc.__traceback__
        while tb is not None and (
                tb.tb_frame.f_code.co_filename.startswith(here) or
                tb.tb_frame.f_code.co_filename in runner):
            tb = tb.tb_next
        if isinstance(exc, KeyboardInterrupt):
            raise exc
        sys.excepthook(type(exc), exc.with_traceback(tb), tb)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
