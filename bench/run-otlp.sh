#!/bin/sh
# bench/run-otlp.sh: the OTLP/JSON model alone (bench_otlp): load +
# validate + index, write, and both with a quarter of the records dropped,
# on a generated ~100 MB file of log requests kept in /tmp; field access
# cost per read. CPU time, best of three. Usage: run-otlp.sh BUILD_DIR
set -eu
echo "== otlp: load / index / write throughput, field access =="
"$1/bench/bench_otlp" 100
