#!/bin/sh
# Demo: sluice for Python. sluice.trace records a small program
# (examples/python/main.py) with a trace filter: the helper package is
# skipped, the password and the session are redacted; then a forkline-style
# run stores agent events redacted in C, read back by `sluice runs list`.
# Builds the package into a venv under build/ (scripts/python-test --venv).
set -eu
SLUICE=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
build=$(dirname "$SLUICE")
echo "== building the Python package (pip install ./python into a venv under $build)"
py=$(bash scripts/python-test --venv "$build" 2>"$tmp/build.log") || {
    cat "$tmp/build.log" >&2
    exit 1
}
echo "== python -m sluice.trace --trace-filter examples/python/trace-filter.toml examples/python/main.py"
(cd examples/python && "$py" -m sluice.trace --trace-filter trace-filter.toml \
    --trace-dir "$tmp/trace" main.py)
"$py" - "$tmp/trace" <<'PY'
import json, os, sys
d = sys.argv[1]
meta = json.load(open(os.path.join(d, "trace_metadata.json")))
tf = meta["trace_filter"]
print("filters:", " -> ".join(f["name"] for f in tf["filters"]))
print("stats:", json.dumps(tf["stats"], sort_keys=True))
raw = b"".join(open(os.path.join(d, f), "rb").read() for f in os.listdir(d))
events = json.load(open(os.path.join(d, "trace.json")))
print("trace.json: %d events, %d bytes in the trace folder" % (len(events), len(raw)))
for secret in (b"correct-horse-battery-staple", b"tok-"):
    print("  %-30s %s" % (secret.decode(), "FOUND (bug)" if secret in raw else "not in any byte of the trace"))
PY
echo "== a forkline-style run (from sluice.forkline import RunRecorder)"
"$py" examples/python/forkline_run.py "$tmp/runs.db"
echo "== sluice runs list --db (the same database, read by the CLI)"
"$SLUICE" runs list --db "$tmp/runs.db"
