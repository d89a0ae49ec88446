#!/bin/sh
# Demo: payload redaction at the storage boundary, and the run recorder.
set -eu
S=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "== sluice redact --default (whole words: author, max_tokens kept)"
"$S" redact --default examples/redact/agent-run.jsonl
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
