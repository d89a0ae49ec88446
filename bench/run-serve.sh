#!/bin/sh
# make bench, gateway: `sluice serve` over loopback, driven by h2load
# (Debian nghttp2-client) with HTTP/1.1 keep-alive: pre-encoded OTLP
# requests of 1,000 log records, 0 / 100 / 1,000 policies, 1 and 2 worker
# threads; reports records/s, p50 / p99 request latency and peak RSS.
# Rows for OTLP/protobuf and OTLP/JSON bodies.
# Usage: run-serve.sh BUILD_DIR
set -eu
BUILD=$1
if ! command -v h2load >/dev/null 2>&1; then
    echo "== serve: skipped (h2load from nghttp2-client is not installed)"
    exit 0
fi
echo "== sluice serve over loopback (h2load --h1, 1,000 log records per request)"
python3 bench/serve_load.py "$BUILD/sluice" "$BUILD"
