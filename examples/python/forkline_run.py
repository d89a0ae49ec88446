"""A forkline-style run: the same code forkline users write, with
`from sluice.forkline import ...` instead of `from forkline import ...`.
Payloads are redacted in C (default SAFE policy, with its credential
detectors) before SQLite stores a byte."""
import sys

from sluice.forkline import RunRecorder

db = sys.argv[1]
rec = RunRecorder(db_path=db)
run_id = rec.start_run(entrypoint="examples/python/forkline_run.py")
rec.log_event(run_id, "input", {"prompt": "summarise the deploy log", "api_key": "sk-live-1234"})
rec.log_event(run_id, "tool_call", {"name": "http.get", "headers": {"Authorization": "Bearer abcdefghijklmnopqrstuvwx0123"},
                                    "note": "retry with key AKIAIOSFODNN7EXAMPLE if throttled"})
rec.log_event(run_id, "output", {"text": "deploy finished in 42 s", "tokens": 17})
rec.end_run(run_id, status="success")
for ev in rec.get_events(run_id):
    print("%-9s %s" % (ev["type"], ev["payload"]))
print("run", run_id)
