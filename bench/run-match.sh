#!/bin/sh
# bench/run-match.sh: pattern-set scan cost and regex replace
# (bench_patset), run by make bench with the optimised build dir as $1.
set -eu
echo "== match: sl_patset_scan, sl_regex_replace (CPU ns, best of 3) =="
"$1/bench/bench_patset"
