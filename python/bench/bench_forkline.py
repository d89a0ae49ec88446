"""make bench: sluice.forkline recording agent-run events against
forkline's own RunRecorder (when installed), in events/s.

Events have the shape of examples/redact/agent-run.jsonl (LLM calls, tool
calls with credential headers, tool results), each given a step number.
Each recorder writes N events into a fresh database in a temporary folder,
one run; best of three. Prints one JSON line per recorder and the ratio.
Usage: bench_forkline.py EXAMPLES_DIR [N]"""
import json
import os
import sys
import tempfile
import time


def events(examples, n):
    base = [json.loads(l) for l in
            open(os.path.join(examples, "redact", "agent-run.jsonl"))]
    for i in range(n):
        ev = base[i % len(base)]
        payload = dict(ev["payload"], step=i)
        yield ev["type"], payload


def run(make, evs):
    best = None
    for _ in range(3):
        with tempfile.TemporaryDirectory() as d:
            rec = make(os.path.join(d, "runs.db"))
            rid = rec.start_run(entrypoint="bench_agent.py")
            t0, c0 = time.perf_counter(), time.process_time()
            for typ, payload in evs:
                rec.log_event(rid, typ, payload)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            rec.end_run(rid, "success")
            if best is None or wall < best[0]:
                best = (wall, cpu)
    return best


def main():
    examples = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
    evs = list(events(examples, n))
    from sluice.forkline import RunRecorder as SluiceRecorder
    results = {}
    results["sluice.forkline"] = run(lambda p: SluiceRecorder(db_path=p), evs)
    try:
        from forkline.storage.recorder import RunRecorder as ForklineRecorder
        import importlib.metadata as md
        name = "forkline " + md.version("forkline")
        results[name] = run(lambda p: ForklineRecorder(db_path=p), evs)
    except ImportError:
        name = None
    for k, (wall, cpu) in results.items():
        print(json.dumps({"bench": "python_recorder", "recorder": k,
                          "events": n, "wall_seconds": round(wall, 3),
                          "events_per_s": round(n / wall),
                          "events_per_cpu_s": round(n / cpu) if cpu else None}))
    if name:
        s, f = results["sluice.forkline"], results[name]
        print(json.dumps({"bench": "python_recorder_ratio",
                          "wall": round(f[0] / s[0], 1),
                          "cpu": round(f[1] / s[1], 1) if s[1] else None}))


if __name__ == "__main__":
    main()
