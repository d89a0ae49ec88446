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
