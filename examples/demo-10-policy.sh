#!/bin/sh
# Demo: telemetry policies on a small web service's logs, metrics and spans
# (examples/policy/*.jsonl, generated once by examples/policy/generate.py).
# Shows the policies being checked, what `sluice apply` kept, dropped,
# sampled, rate-limited and redacted, and a record before and after.
set -eu
SLUICE=$1
P=examples/policy
OUT=${TMPDIR:-/tmp}/sluice-demo-policy.$$
mkdir -p "$OUT"
trap 'rm -rf "$OUT"' EXIT

echo "== sluice check $P/policies.json $P/policies.yaml $P/policies.toml"
"$SLUICE" check "$P/policies.json" "$P/policies.yaml" "$P/policies.toml"
echo

for sig in logs metrics spans; do
    echo "== sluice apply --policies $P/policies.json $P/$sig.jsonl"
    "$SLUICE" apply --policies "$P/policies.json" "$P/$sig.jsonl" \
        > "$OUT/$sig.jsonl" 2> "$OUT/$sig.summary"
    cat "$OUT/$sig.summary"
    echo
done

count() { grep -o "$1" "$2" | wc -l | tr -d ' '; }
echo "== what changed in the logs"
printf '%-34s %8s %8s\n' "" before after
printf '%-34s %8s %8s\n' "DEBUG records" \
    "$(count '"severityText":"DEBUG"' $P/logs.jsonl)" \
    "$(count '"severityText":"DEBUG"' "$OUT/logs.jsonl")"
printf '%-34s %8s %8s\n' "health-check records" \
    "$(count 'GET /healthz' $P/logs.jsonl)" \
    "$(count 'GET /healthz' "$OUT/logs.jsonl")"
printf '%-34s %8s %8s\n' "payment 'connection refused'" \
    "$(count 'connection refused' $P/logs.jsonl)" \
    "$(count 'connection refused' "$OUT/logs.jsonl")"
printf '%-34s %8s %8s\n' "bearer tokens in clear" \
    "$(count 'Bearer [0-9a-f]\{24\}' $P/logs.jsonl)" \
    "$(count 'Bearer [0-9a-f]\{24\}' "$OUT/logs.jsonl")"
printf '%-34s %8s %8s\n' "e-mail addresses in clear" \
    "$(count '[a-z][a-z.+]*@example\.[a-z]*' $P/logs.jsonl)" \
    "$(count '[a-z][a-z.+]*@example\.[a-z]*' "$OUT/logs.jsonl")"
printf '%-34s %8s %8s\n' "session tokens" \
    "$(count 'session.token' $P/logs.jsonl)" \
    "$(count 'session.token' "$OUT/logs.jsonl")"
echo
echo "== one login record, after"
grep -o '"body":{"stringValue":"login ok[^}]*}' "$OUT/logs.jsonl" | head -n 1
echo
echo "== the YAML policies give the same log decisions"
"$SLUICE" apply --quiet --policies "$P/policies.yaml" "$P/logs.jsonl" \
    > "$OUT/logs-yaml.jsonl"
echo "records kept: json $(count '"severityText"' "$OUT/logs.jsonl")," \
    "yaml $(count '"severityText"' "$OUT/logs-yaml.jsonl")"
echo
echo "== the TOML policies give the same metric and span output"
for sig in metrics spans; do
    "$SLUICE" apply --quiet --policies "$P/policies.toml" "$P/$sig.jsonl" \
        > "$OUT/$sig-toml.jsonl"
    if cmp -s "$OUT/$sig.jsonl" "$OUT/$sig-toml.jsonl"; then
        echo "$sig: identical"
    else
        echo "$sig: DIFFERENT"
        exit 1
    fi
done
