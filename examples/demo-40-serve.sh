#!/bin/sh
# Demo: sluice serve as an OTLP gateway: a small sender posts the example
# logs, metrics and spans over OTLP/HTTP (JSON), serve applies the example
# policies and writes what is kept; the policy counters come from /metrics.
set -eu
SLUICE=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "== sluice serve --policies examples/policy/policies.json (ports picked by the system)"
"$SLUICE" serve --policies examples/policy/policies.json --http 127.0.0.1:0 \
    --grpc 127.0.0.1:0 --admin 127.0.0.1:0 --threads 2 \
    --output "$tmp/kept.jsonl" 2> "$tmp/serve.log" &
pid=$!
python3 - "$tmp/serve.log" "$tmp/kept.jsonl" <<'PY'
import http.client, json, re, sys, time
log, kept = sys.argv[1], sys.argv[2]
deadline = time.time() + 20
while True:
    m = re.search(r"ready http=(\S+):(\d+) grpc=\S+ admin=(\S+):(\d+)", open(log).read())
    if m or time.time() > deadline:
        break
    time.sleep(0.05)
print(m.group(0))
c = http.client.HTTPConnection(m.group(1), int(m.group(2)))
sent = {}
for path, name in (("/v1/logs", "logs"), ("/v1/metrics", "metrics"), ("/v1/traces", "spans")):
    for line in open("examples/policy/%s.jsonl" % name, "rb").read().splitlines():
        c.request("POST", path, body=line, headers={"Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        sent[path] = sent.get(path, 0) + (r.status == 200)
print("sender: requests answered 200:", sent)
a = http.client.HTTPConnection(m.group(3), int(m.group(4)))
a.request("GET", "/metrics")
text = a.getresponse().read().decode()
for line in text.splitlines():
    if line.startswith(("sluice_records_in_total", "sluice_records_out_total",
                        "sluice_policy_hits_total")):
        print("  " + line)
PY
kill -TERM $pid
wait $pid
echo "serve drained and exited; kept data: $(wc -l < "$tmp/kept.jsonl") lines in kept.jsonl"
