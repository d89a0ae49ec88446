#!/bin/sh
# Python benchmarks (make bench): sluice.trace's overhead
# (bench/python_trace.py: skip-heavy and value-heavy workloads against
# untraced and a no-op sys.settrace tracer; PY_BENCH_CALLGRIND=1 adds
# callgrind instruction counts), then sluice.forkline recording agent-run
# events against forkline's own RunRecorder at the version pinned in
# python/requirements-bench.txt (skipped when it cannot be installed).
# The package is built into a venv under BUILD_DIR/python.
# Usage: run-python.sh BUILD_DIR [EVENTS]
set -eu
BUILD=$1
N=${2:-${PY_BENCH_EVENTS:-5000}}
py=$(bash scripts/python-test --venv "$BUILD")
if [ "${PY_BENCH_CALLGRIND:-0}" = 1 ]; then
    "$py" bench/python_trace.py --callgrind
else
    "$py" bench/python_trace.py
fi
"$py" -m pip install -q --disable-pip-version-check \
    -r python/requirements-bench.txt >&2 ||
    echo "bench: forkline not installed: sluice.forkline alone" >&2
"$py" python/bench/bench_forkline.py examples "$N"
