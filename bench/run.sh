#!/bin/sh
# make bench: benchmarks (never timed unit tests). Usage: run.sh BUILD_DIR
set -eu
echo "bench: no benchmarks yet"
