#!/bin/sh
# make bench: run each bench/run-*.sh (one per front door) with the
# optimised build. Benchmarks live here, never in timed unit tests.
# Usage: run.sh BUILD_DIR
set -eu
BUILD=$(cd "$1" && pwd)
cd "$(dirname "$0")/.."
found=0
for b in bench/run-*.sh; do
    [ -f "$b" ] || continue
    found=1
    sh "$b" "$BUILD"
done
[ $found -eq 1 ] || echo "bench: no benchmarks yet"
