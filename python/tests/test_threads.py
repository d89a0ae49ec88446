"""One Redactor, Policies, Filters or RunRecorder shared by many threads
gives the same answers as one thread, with no lost counts."""
import json
import sys
import threading
import time

import sluice
from sluice.forkline import RunRecorder

N_THREADS = 8


def hammer(fn, n=N_THREADS):
    results, errors = [None] * n, []
    barrier = threading.Barrier(n)

    def run(i):
        try:
            barrier.wait()
            results[i] = fn(i)
        except BaseException as e:  # surfaced below
            errors.append(e)
    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return results


def test_redactor_shared_by_threads(examples):
    r = sluice.Redactor(examples / "redact" / "policy.toml")
    lines = (examples / "redact" / "agent-run.jsonl").read_bytes().splitlines()
    want = [r.redact(l).value for l in lines]
    got = hammer(lambda i: [[r.redact(l).value for l in lines]
                            for _ in range(200)])
    for per_thread in got:
        assert all(batch == want for batch in per_thread)


def test_policies_shared_by_threads_count_every_record(examples):
    pol = examples / "policy" / "policies.json"
    reqs = (examples / "policy" / "logs.jsonl").read_bytes().splitlines()
    p = sluice.Policies.load(pol)
    rounds = 20
    hammer(lambda i: [p.apply(r) for _ in range(rounds) for r in reqs])
    total = sum(s.hits + s.misses for s in p.stats().values())
    one = sluice.Policies.load(pol)
    for r in reqs:
        one.apply(r)
    per_pass = sum(s.hits + s.misses for s in one.stats().values())
    assert total == per_pass * rounds * N_THREADS


def test_filters_shared_by_threads():
    f = sluice.Filters(env=False)
    names = [f"password{i}" for i in range(50)] + [f"n{i}" for i in range(50)]
    got = hammer(lambda i: [f.decide("app/m.py", "f", "app.m", "local", n)
                            for n in names])
    assert all(g == ["redact"] * 50 + ["allow"] * 50 for g in got)
    assert f.metadata()["stats"]["value_redactions"]["local"] == 50 * N_THREADS


def test_recorder_shared_by_threads(tmp_path):
    rec = RunRecorder(db_path=str(tmp_path / "runs.db"))
    rid = rec.start_run("threads.py")
    hammer(lambda i: [rec.log_event(rid, "step", {"t": i, "k": k,
                                                  "token": "x"})
                      for k in range(50)])
    events = rec.get_events(rid)
    assert [e["seq"] for e in events] == list(range(1, 50 * N_THREADS + 1))
    assert {(e["payload"]["t"], e["payload"]["k"]) for e in events} == {
        (t, k) for t in range(N_THREADS) for k in range(50)}
    assert all(e["payload"]["token"] == "[REDACTED]" for e in events)


def test_gil_is_released_during_redaction():
    # With a huge switch interval the interpreter never forces a switch: the
    # ticker thread can only run while the main thread has released the GIL
    # itself, i.e. inside the C call.
    r = sluice.Redactor()
    big = json.dumps({"items": [{"password": "p", "v": i}
                                for i in range(300_000)]}).encode()
    ticks = []
    stop = threading.Event()
    started = threading.Event()

    def ticker():
        started.set()
        while not stop.is_set():
            ticks.append(1)
            time.sleep(0)   # lets the main thread take the GIL back

    old = sys.getswitchinterval()
    sys.setswitchinterval(1000)
    t = threading.Thread(target=ticker)
    try:
        t.start()
        started.wait()
        before = len(ticks)
        r._c.redact(big)
        during = len(ticks) - before
    finally:
        stop.set()
        t.join()
        sys.setswitchinterval(old)
    assert during > 10
