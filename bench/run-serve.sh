#!/bin/sh
# make bench, gateway: `sluice serve` over loopback, driven by
# bench/serve_loadgen (epoll, HTTP/1.1 keep-alive, pre-encoded OTLP
# requests of 1,000 log records; closed loop for the peak, open loop with
# evenly spread arrivals at half the peak, latency from the scheduled send
# time): 0 / 100 / 1,000 policies, 1 and 2 worker threads; records/s,
# p50 / p99 latency and peak RSS. Rows for OTLP/protobuf and OTLP/JSON.
# Usage: run-serve.sh BUILD_DIR
set -eu
BUILD=$1
echo "== sluice serve over loopback (bench/serve_loadgen, 1,000 log records per request)"
python3 bench/serve_load.py "$BUILD/sluice" "$BUILD" "$BUILD/bench/serve_loadgen"
# The tail at half the peak, 2 threads, repeated on one server: each run's
# client p99 beside the server's own histogram and each thread's CPU (on
# a shared machine the spread between runs is the noise; see README).
echo "== sluice serve at half the peak, 2 threads, 3 runs each (bench/serve_tail.py)"
python3 bench/serve_tail.py "$BUILD/sluice" "$BUILD" "$BUILD/bench/serve_loadgen" 3
# The same request's work in process (no sockets): protobuf decode +
# index, then every record through the 100 policies, then the --output
# JSON line (bench/bench_serve_path; CPU ns per record). For instruction
# counts run it under valgrind --tool=callgrind with two repeat counts.
echo "== sluice serve's work per request in process (bench_serve_path, protobuf, 100 policies)"
for phase in decode eval all; do
    "$BUILD/bench/bench_serve_path" "$BUILD/bench-serve-1000.pb" \
        "$BUILD/bench-serve-policies-100.json" 200 $phase
done
echo "== the same with the OTLP/JSON request (loaded lazily, as serve loads JSON)"
for phase in decode eval all; do
    "$BUILD/bench/bench_serve_path" "$BUILD/bench-serve-1000.json" \
        "$BUILD/bench-serve-policies-100.json" 200 $phase
done
