#!/bin/sh
# make demo: run sluice on the bundled examples and show what happened.
set -eu
SLUICE=${1:-build/sluice}
cd "$(dirname "$0")/.."
echo "== sluice convert examples/hello.yaml (YAML -> JSON)"
"$SLUICE" convert examples/hello.yaml
