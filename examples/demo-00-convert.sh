#!/bin/sh
# Demo: one document tree for every syntax: YAML in, JSON out.
set -eu
echo "== sluice convert examples/hello.yaml (YAML -> JSON)"
"$1" convert examples/hello.yaml
