"""sluice.Policies: same bytes and counters as `sluice apply`, dict in and
out, located errors, rejected policies listed."""
import json

import pytest

import sluice


def test_apply_matches_cli_bytes_and_stats(cli, examples, tmp_path):
    pol = examples / "policy" / "policies.json"
    logs = examples / "policy" / "logs.jsonl"
    stats = tmp_path / "stats.json"
    want = cli("apply", "--policies", pol, "--stats", stats, logs).stdout
    p = sluice.Policies.load(pol)
    res = p.apply_lines(logs.read_bytes())
    assert res.kept == want
    assert res.records_in == 300 and res.records_out == 128
    cli_stats = {s["policy_id"]: s for s in json.loads(stats.read_text())["policies"]}
    for pid, s in cli_stats.items():
        got = res.stats[pid]
        assert (got.hits, got.misses, got.kept, got.dropped, got.sampled_out,
                got.rate_limited, got.transformed, got.transform_failed) == (
            s["hits"], s.get("misses", 0), s["kept"], s["dropped"],
            s["sampled_out"], s["rate_limited"], s["transformed"],
            s["transform_failed"])


@pytest.mark.parametrize("name", ["policies.json", "policies.yaml",
                                  "policies.toml"])
def test_every_policy_syntax_loads(examples, name):
    p = sluice.Policies.load(examples / "policy" / name)
    assert len(p.stats()) >= 2
    assert p.problems == []


def test_one_request_as_dict_and_as_bytes_agree(examples):
    pol = examples / "policy" / "policies.json"
    first = (examples / "policy" / "logs.jsonl").read_bytes().splitlines()[0]
    as_bytes = sluice.Policies.load(pol).apply(first)
    as_dict = sluice.Policies.load([pol]).apply(json.loads(first))
    assert json.loads(as_bytes.kept) == as_dict.kept
    assert as_bytes.records_in == as_dict.records_in > 0


def test_drop_policy_from_dict():
    p = sluice.Policies.from_dict({"policies": [{
        "id": "drop-debug", "name": "d",
        "log": {"match": [{"log_field": "severity_text", "exact": "DEBUG"}],
                "keep": "none"}}]})
    req = {"resourceLogs": [{"scopeLogs": [{"logRecords": [
        {"severityText": "DEBUG", "body": {"stringValue": "a"}},
        {"severityText": "INFO", "body": {"stringValue": "b"}}]}]}]}
    res = p.apply(req)
    recs = res.kept["resourceLogs"][0]["scopeLogs"][0]["logRecords"]
    assert [r["severityText"] for r in recs] == ["INFO"]
    assert (res.records_in, res.records_out) == (2, 1)
    assert res.stats["drop-debug"].dropped == 1


def test_rejected_policy_is_listed_with_location_and_others_work():
    text = json.dumps({"policies": [
        {"id": "bad", "name": "b", "log": {"match": [], "keep": "all"}},
        {"id": "ok", "name": "o",
         "log": {"match": [{"log_field": "body", "exact": "x"}], "keep": "none"}},
    ]}, indent=1)
    p = sluice.Policies.from_text(text, name="mixed.json")
    assert list(p.stats()) == ["ok"]
    (prob,) = p.problems
    assert prob.file == "mixed.json" and prob.line > 1 and prob.column > 0
    assert prob.message == "policy bad: log: no matchers specified"


def test_unparsable_policy_file_raises_located_error(tmp_path):
    f = tmp_path / "p.json"
    f.write_text('{"policies": [\n  {"id": "a",,}\n]}\n')
    with pytest.raises(sluice.ParseError) as ei:
        sluice.Policies.load(f)
    assert ei.value.file == str(f) and ei.value.line == 2


def test_not_a_policy_document_raises_schema_error():
    with pytest.raises(sluice.SchemaError):
        sluice.Policies.from_text('{"rules": []}')


def test_bad_otlp_raises_and_cyclic_dict_is_input_error():
    p = sluice.Policies.from_dict({"policies": []})
    with pytest.raises(sluice.Error):
        p.apply(b'{"resourceLogs": [')
    d = {}
    d["resourceLogs"] = [d]
    with pytest.raises(sluice.InputError):
        p.apply(d)


def test_no_sources_is_value_error():
    with pytest.raises(ValueError):
        sluice.Policies.load([])


def test_warning_for_matcher_that_never_sees_a_value():
    text = json.dumps({"policies": [{
        "id": "ev", "name": "e",
        "trace": {"match": [{"event_attribute": "k", "exact": "v"}],
                  "keep": {"percentage": 100}}}]}, indent=1)
    p = sluice.Policies.from_text(text, name="w.json")
    assert p.problems == [] and list(p.stats()) == ["ev"]
    (w,) = p.warnings
    assert w.file == "w.json" and w.line > 1 and "policy ev" in w.message
