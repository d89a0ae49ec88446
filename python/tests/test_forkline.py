"""sluice.forkline: forkline's own usage style works after a change of
import; nothing unredacted reaches the SQLite file; `sluice runs` reads
what Python recorded."""
import json
import random

import pytest

import sluice
from sluice.forkline import (RedactionAction, RedactionPolicy, RedactionRule,
                             RunRecorder, create_default_policy)

SECRETS = ["sk-secret123", "hunter2-pass", "tok_9f8e7d6c5b4a",
           "s3ss10n-v4lue", "AKIAIOSFODNN7EXAMPLE"]


def test_forkline_usage_style_default_safe(tmp_path, monkeypatch):
    # forkline's docs (REDACTION_POLICY / RECORDING_V0), imports changed only
    monkeypatch.chdir(tmp_path)
    from sluice.forkline.storage.recorder import RunRecorder as RR
    recorder = RR(db_path="runs.db")
    run_id = recorder.start_run(entrypoint="my_script.py")
    recorder.log_event(run_id, "tool_call", payload={
        "api_key": "sk-secret123",
        "url": "https://api.example.com",
    })
    recorder.end_run(run_id, status="success")
    run = recorder.get_run(run_id)
    assert run["run_id"] == run_id and run["status"] == "success"
    assert run["entrypoint"] == "my_script.py"
    assert run["cwd"] == str(tmp_path) and run["platform"]
    (ev,) = recorder.get_events(run_id)
    assert ev["type"] == "tool_call" and ev["run_id"] == run_id
    assert ev["payload"] == {"api_key": "[REDACTED]",
                             "url": "https://api.example.com"}
    assert [r["run_id"] for r in recorder.list_runs()] == [run_id]


def test_forkline_usage_style_custom_policy(tmp_path):
    from sluice.forkline.core.redaction import (
        RedactionAction as A, RedactionPolicy as P, RedactionRule as R)
    policy = P(rules=[
        R(action=A.HASH, key_pattern="email"),
        R(action=A.DROP, key_pattern="debug"),
        R(action=A.MASK, key_pattern="password"),
    ])
    recorder = RunRecorder(db_path=str(tmp_path / "runs.db"),
                           redaction_policy=policy)
    rid = recorder.start_run(entrypoint="agent.py")
    recorder.log_event(rid, "input", {"user_email": "user@example.com",
                                      "debug": {"trace": 1},
                                      "db_password": "hunter2-pass",
                                      "prompt": "hello"})
    (ev,) = recorder.get_events(rid)
    assert ev["payload"] == {
        "user_email": "hash:b4c9a289323b21a01c3e940f150eb9b8c542587f1abfd8f0"
                      "e1cc1ffc5e475514",
        "db_password": "[REDACTED]", "prompt": "hello"}
    assert policy.redact("input", {"debug": 1, "x": 2}) == {"x": 2}


def test_rule_validation_like_forkline():
    with pytest.raises(ValueError):
        RedactionRule(RedactionAction.MASK)
    r = RedactionRule(RedactionAction.MASK, key_pattern="k", path_pattern="a.k")
    assert (r.key_pattern, r.path_pattern) == ("k", "a.k")
    assert RedactionAction("hash") is RedactionAction.HASH
    with pytest.raises(ValueError):   # sluice refuses forkline's match-all ""
        RedactionRule(RedactionAction.MASK, key_pattern="")


def test_key_pattern_is_plain_substring_even_with_colons():
    p = RedactionPolicy([RedactionRule(RedactionAction.MASK,
                                       key_pattern="regex:(")])
    assert p.redact("x", {"my_regex:(x": 1, "regex": 2}) == {
        "my_regex:(x": "[REDACTED]", "regex": 2}


def test_default_policy_is_word_based_safe():
    p = create_default_policy()
    out = p.redact("x", {"author": "a", "max_tokens": 3, "apiKey": "k",
                         "session_id": "s", "run_id": "r"})
    assert out == {"author": "a", "max_tokens": 3, "apiKey": "[REDACTED]",
                   "session_id": "[REDACTED]", "run_id": "r"}


def test_no_unredacted_secret_in_any_database_file(tmp_path):
    db = tmp_path / "runs.db"
    rec = RunRecorder(db_path=str(db))
    rid = rec.start_run("agent.py")
    for i in range(50):
        rec.log_event(rid, "tool_call", {
            "step": i,
            "api_key": SECRETS[0],
            "headers": {"Authorization": f"Bearer {SECRETS[2]}",
                        "Cookie": SECRETS[3]},
            "args": {"password": SECRETS[1], "nested": [{"secret": SECRETS[4]}]},
        })
    rec.end_run(rid, "success")
    rec.close()
    data = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    assert b"tool_call" in data          # the events are there
    for s in SECRETS:
        assert s.encode() not in data, s


def test_cli_reads_what_python_recorded(cli, tmp_path):
    db = tmp_path / "runs.db"
    rec = RunRecorder(db_path=str(db))
    rid = rec.start_run("agent.py")
    rec.log_event(rid, "llm_call", {"model": "m", "token": "abc"})
    rec.end_run(rid, "failure")
    runs = [json.loads(l) for l in cli("runs", "list", "--db", db).stdout.splitlines()]
    assert [(r["run_id"], r["status"], r["events"]) for r in runs] == [
        (rid, "failure", 1)]
    shown = [json.loads(l) for l in
             cli("runs", "show", "--db", db, rid).stdout.splitlines()]
    assert shown[0]["payload"] == {"model": "m", "token": "[REDACTED]"}
    assert [dict(e, run_id=rid) for e in shown] == rec.get_events(rid)


def test_python_reads_what_the_cli_recorded(cli, tmp_path, examples):
    db = tmp_path / "runs.db"
    rid = cli("record", "--db", db, "--entrypoint", "cli.py",
              examples / "redact" / "agent-run.jsonl").stdout.decode().strip()
    rec = RunRecorder(db_path=str(db))
    assert rec.get_run(rid)["events"] == 3
    assert len(rec.get_events(rid)) == 3


def test_recorder_errors_are_clean(tmp_path):
    rec = RunRecorder(db_path=str(tmp_path / "sub" / "runs.db"))
    rid = rec.start_run("a.py")
    with pytest.raises(sluice.NotFoundError):
        rec.log_event("0" * 32, "t", {"a": 1})
    with pytest.raises(sluice.InputError):
        rec.log_event(rid, "t", ["not", "a", "dict"])
    with pytest.raises(sluice.InputError):
        rec.log_event(rid, "t", {"x": float("nan")})
    cyc = {}
    cyc["c"] = cyc
    with pytest.raises(sluice.InputError):
        rec.log_event(rid, "t", cyc)
    with pytest.raises(sluice.InputError):
        rec.start_run("a.py", run_id="mine")
    with pytest.raises(sluice.InputError):
        rec.end_run(rid, "ok")
    rec.end_run(rid)
    with pytest.raises(sluice.StateError):
        rec.log_event(rid, "t", {"a": 1})
    assert rec.get_run("f" * 32) is None and rec.get_events("f" * 32) == []
    rec.close()
    with pytest.raises(sluice.StateError):
        rec.start_run("a.py")


def test_not_a_database_is_database_error(tmp_path):
    f = tmp_path / "junk.db"
    f.write_bytes(b"not sqlite" * 100)
    with pytest.raises(sluice.DatabaseError):
        RunRecorder(db_path=str(f))


def test_list_runs_newest_first_with_limit(tmp_path):
    rec = RunRecorder(db_path=str(tmp_path / "r.db"))
    ids = [rec.start_run(f"e{i}.py") for i in range(3)]
    assert [r["run_id"] for r in rec.list_runs()] == ids[::-1]
    assert [r["run_id"] for r in rec.list_runs(limit=2)] == ids[::-1][:2]


def test_random_payloads_never_store_a_secret(tmp_path):
    # property-style: secrets under credential keys at random depths, in
    # dicts and lists, among plain values that must survive
    rng = random.Random(1307)
    secret_keys = ["password", "api_key", "apiKey", "X-Auth-Token", "token",
                   "client_secret", "Set-Cookie", "sessionId", "private_key",
                   "refresh_token", "Authorization", "credentials"]
    plain_keys = ["name", "author", "max_tokens", "url", "status", "text"]
    secrets, plains = [], []

    def value(depth):
        roll = rng.random()
        if depth < 4 and roll < 0.3:
            return {key(): value(depth + 1) for _ in range(rng.randint(1, 4))}
        if depth < 4 and roll < 0.45:
            return [value(depth + 1) for _ in range(rng.randint(1, 3))]
        v = "plain-%08x" % rng.getrandbits(32)
        plains.append(v)
        return v

    def key():
        return rng.choice(plain_keys) + str(rng.randint(0, 9))

    def payload():
        d = {}
        for _ in range(rng.randint(1, 5)):
            target = d
            for _ in range(rng.randint(0, 3)):
                target = target.setdefault(key(), {})
                if not isinstance(target, dict):
                    break
            if isinstance(target, dict):
                s = "SECRET%016x" % rng.getrandbits(64)
                secrets.append(s)
                target[rng.choice(secret_keys)] = (
                    s if rng.random() < 0.7 else {"inner": s, "list": [s]})
                target[key()] = value(0)
        return d

    db = tmp_path / "runs.db"
    rec = RunRecorder(db_path=str(db))
    rid = rec.start_run("prop.py")
    for _ in range(300):
        rec.log_event(rid, "step", payload())
    rec.close()
    data = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    assert secrets and all(s.encode() not in data for s in secrets)
    kept = sum(p.encode() in data for p in plains)
    assert kept > len(plains) // 2      # the check is not vacuous
