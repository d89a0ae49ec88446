#!/bin/sh
# Demo: payload redaction at the storage boundary, and the run recorder.
set -eu
S=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "== sluice redact --default (whole words: author, max_tokens kept;"
echo "   value detectors: the AWS key in the free-text note is masked)"
"$S" redact --default --audit "$tmp/default-audit.jsonl" \
    examples/redact/agent-run.jsonl
echo "-- its audit counts detections per detector:"
cat "$tmp/default-audit.jsonl"
echo "== sluice redact --default --no-detect (key names only: the key stays)"
"$S" redact --default --no-detect examples/redact/agent-run.jsonl |
    grep -o '"note":"[^"]*"' 
echo "== sluice redact --policy examples/redact/policy.toml --audit FILE"
"$S" redact --policy examples/redact/policy.toml --audit "$tmp/audit.jsonl" \
    examples/redact/agent-run.jsonl
echo "-- audit (counts and paths, never values):"
cat "$tmp/audit.jsonl"
echo "== sluice record (events are redacted before SQLite sees them)"
run=$("$S" record --db "$tmp/runs.db" --entrypoint demo.py \
    --policy examples/redact/policy.toml examples/redact/agent-run.jsonl)
"$S" runs end --db "$tmp/runs.db" "$run" --status success
"$S" runs list --db "$tmp/runs.db"
"$S" runs show --db "$tmp/runs.db" "$run"
