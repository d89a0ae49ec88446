#!/bin/sh
# Trace-filter benchmarks (issue 4): upstream's workload with the bench
# filters of ../shared/conformance/trace-filter/filters/bench, 50 and 500
# names per scope, plus first decision / first resolution / memory.
# Usage: run-filter.sh BUILD_DIR (an optimised build: make release)
set -eu
BUILD=$1
B=../shared/conformance/trace-filter/filters/bench
if [ ! -d "$B" ]; then
    echo "bench filter: $B not found, skipped"
    exit 0
fi
for f in baseline glob regex; do
    "$BUILD/bench/bench_filter" "$B/bench-$f.toml"
    "$BUILD/bench/bench_filter" "$B/bench-$f.toml" --names 500
done
