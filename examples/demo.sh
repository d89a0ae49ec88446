#!/bin/sh
# make demo: run each examples/demo-*.sh in name order with the sluice
# binary, showing what sluice does on the bundled example data.
set -eu
SLUICE=${1:-build/sluice}
cd "$(dirname "$0")/.."
SLUICE=$(cd "$(dirname "$SLUICE")" && pwd)/$(basename "$SLUICE")
export SLUICE
for d in examples/demo-*.sh; do
    [ -f "$d" ] || continue
    sh "$d" "$SLUICE"
done
