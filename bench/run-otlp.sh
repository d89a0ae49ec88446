#!/bin/sh
# bench/run-otlp.sh: the OTLP/JSON model alone (bench_otlp): load +
# validate + index, write, and both with a quarter of the records dropped,
# on a generated ~100 MB file of log requests kept in /tmp; field access
# cost per read. CPU time, best of three. Usage: run-otlp.sh BUILD_DIR
set -eu
echo "== otlp: load / index / write throughput, field access =="
"$1/bench/bench_otlp" 100
# JSON against protobuf load on the apply bench's record shape (one record
# per request, bench/gen_otlp_logs.py, 100,000 requests, fixed seed): CPU
# ns per record; for instruction counts run it under callgrind with
# --toggle-collect=load_json / load_proto (see bench/bench_otlp_load.c).
LOADS=$1/bench-otlp-load-100000.jsonl
if [ ! -f "$LOADS" ]; then
    python3 bench/gen_otlp_logs.py --records 100000 "$LOADS"
fi
echo "== otlp: JSON vs protobuf load, apply bench records =="
"$1/bench/bench_otlp_load" "$LOADS"
