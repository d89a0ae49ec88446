"""sluice.Redactor: same bytes as `sluice redact`, Python values in and
out, audits, located errors, and bad inputs that raise clean exceptions."""
import json
import math

import pytest

import sluice


def test_default_policy_matches_cli_byte_for_byte(cli, examples):
    src = examples / "redact" / "agent-run.jsonl"
    want = cli("redact", "--default", src).stdout
    got = sluice.Redactor().redact_lines(src.read_bytes())
    assert got == want and b"sk-live-123" not in got


def test_policy_file_matches_cli_byte_for_byte_with_audit(cli, examples,
                                                          tmp_path):
    src = examples / "redact" / "agent-run.jsonl"
    pol = examples / "redact" / "policy.toml"
    audit = tmp_path / "audit.jsonl"
    want = cli("redact", "--policy", pol, "--audit", audit, src).stdout
    r = sluice.Redactor(pol)
    lines = src.read_bytes().splitlines()
    got = [r.redact(line) for line in lines]
    assert b"".join(g.value + b"\n" for g in got) == want
    want_audit = [json.loads(a) for a in audit.read_text().splitlines()]
    assert [g.audit for g in got] == want_audit


def test_dict_in_dict_out_input_unchanged():
    payload = {"api_key": "k1", "author": "Jane", "max_tokens": 5,
               "headers": {"Authorization": "Bearer x"}, "items": [{"password": 1}]}
    before = json.dumps(payload)
    res = sluice.Redactor().redact(payload)
    assert res.value == {"api_key": "[REDACTED]", "author": "Jane",
                         "max_tokens": 5,
                         "headers": {"Authorization": "[REDACTED]"},
                         "items": [{"password": "[REDACTED]"}]}
    assert json.dumps(payload) == before
    assert res.counts.masked == 3
    assert {f["path"] for f in res.audit["fields"]} == {
        "api_key", "headers.Authorization", "items.password"}


def test_list_and_scalar_roots():
    r = sluice.Redactor()
    assert r.redact([{"token": 1}, 2]).value == [{"token": "[REDACTED]"}, 2]
    assert r.redact("plain").value == "plain"


def test_bytes_keep_number_lexemes_and_key_order():
    out = sluice.Redactor().redact(b'{"z":1.50,"secret":"s","a":1e3}').value
    assert out == b'{"z":1.50,"secret":"[REDACTED]","a":1e3}'


def test_compact_bytes_redact_as_spaced_bytes_do():
    # compact JSON is redacted by copying its unchanged text around what is
    # replaced (sl_redact_write_doc); spaced JSON cannot be copied and is
    # written node by node: the same bytes and audit either way
    r = sluice.Redactor({"extends": "default", "rules": [
        {"action": "drop", "key": "drop_me"},
        {"action": "hash", "key": "hash_me"}]})
    compact = (b'{"drop_me":1,"keep":"caf\\u00e9 \\"q\\"","api_key":"sk-1",'
               b'"msg":"t=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",'
               b'"list":[{"drop_me":[1,2]},{"a":1.50,"hash_me":"x"},[],{}],'
               b'"nested":{"x":true,"drop_me":"y"},"drop_me":false}')
    spaced = compact.replace(b'","', b'", "').replace(b'":', b'" : ')
    assert spaced != compact and json.loads(spaced) == json.loads(compact)
    a, b = r.redact(compact), r.redact(spaced)
    assert a.value == b.value and a.audit == b.audit
    assert (a.counts.dropped, a.counts.masked, a.counts.hashed,
            a.counts.detected) == (4, 1, 1, 1)
    assert b"sk-1" not in a.value and b"c2lnbmF0dXJl" not in a.value
    assert (r.redact_lines(compact + b"\n" + compact + b"\n") ==
            r.redact_lines(spaced + b"\n" + spaced + b"\n") ==
            a.value + b"\n" + a.value + b"\n")


@pytest.mark.parametrize("text,fmt", [
    ('[[rules]]\naction = "hash"\nkey = "email"\n', "toml"),
    ('{"rules": [{"action": "hash", "key": "email"}]}', "json"),
    ('rules:\n  - action: hash\n    key: email\n', "yaml"),
])
def test_policy_text_in_each_syntax(text, fmt):
    r = sluice.Redactor(text, format=fmt)
    out = r.redact({"email": "user@example.com"}).value["email"]
    # sha256 of the UTF-8 text, as `sha256sum` prints it
    assert out == ("hash:b4c9a289323b21a01c3e940f150eb9b8c542587f1abfd8f0"
                   "e1cc1ffc5e475514")


def test_policy_as_mapping():
    r = sluice.Redactor({"rules": [{"action": "drop", "key": "debug"}]})
    assert r.redact({"debug": 1, "x": 2}).value == {"x": 2}


def test_bad_policy_file_raises_located_error(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text('# policy\nrules = 3\n')
    with pytest.raises(sluice.SchemaError) as ei:
        sluice.Redactor(p)
    e = ei.value
    assert (e.file, e.line, e.column) == (str(p), 2, 9)
    assert e.message == "rules must be an array"
    assert str(e) == f"{p}:2:9: rules must be an array"


def test_policy_syntax_error_is_parse_error_with_position():
    with pytest.raises(sluice.ParseError) as ei:
        sluice.Redactor('[[rules]\naction = "mask"\n', format="toml",
                        name="inline.toml")
    assert ei.value.file == "inline.toml" and ei.value.line == 1


def test_bad_pattern_names_the_rule():
    with pytest.raises(sluice.PatternError) as ei:
        sluice.Redactor({"rules": [{"action": "mask", "key": "regex:("}]})
    assert "rules[0]" in ei.value.message


def test_missing_policy_file_is_file_error(tmp_path):
    with pytest.raises(sluice.FileError):
        sluice.Redactor(tmp_path / "absent.toml")


def test_invalid_json_bytes_raise_parse_error_with_position():
    with pytest.raises(sluice.ParseError) as ei:
        sluice.Redactor().redact(b'{"a": 1,\n "b": }')
    assert ei.value.line == 2 and ei.value.file == "<input>"


def test_cyclic_dict_raises_input_error():
    d = {"a": 1}
    d["self"] = d
    with pytest.raises(sluice.InputError):
        sluice.Redactor().redact(d)


@pytest.mark.parametrize("value", [
    {"x": object()}, {"x": b"bytes"}, {"x": math.nan}, {"x": math.inf},
    {("tuple", "key"): 1}, {"x": "\ud800"},
])
def test_values_json_cannot_hold_raise_input_error(value):
    with pytest.raises(sluice.InputError):
        sluice.Redactor().redact(value)


def test_very_deep_value_raises_cleanly():
    deep = cur = {}
    for _ in range(100_000):
        cur["k"] = {}
        cur = cur["k"]
    with pytest.raises(sluice.InputError):
        sluice.Redactor().redact(deep)


def test_deep_but_json_able_value_hits_the_depth_limit():
    text = b'{"a":' * 600 + b"1" + b"}" * 600
    with pytest.raises(sluice.LimitError):
        sluice.Redactor().redact(text)


def test_huge_value_is_redacted():
    big = {"blob": "x" * (32 << 20), "password": "p" * 1000}
    out = sluice.Redactor().redact(big).value
    assert out["password"] == "[REDACTED]" and len(out["blob"]) == 32 << 20


def test_non_bytes_text_argument_is_rejected():
    with pytest.raises(TypeError):
        sluice.Redactor(12)


def test_hmac_key_from_environment(monkeypatch):
    monkeypatch.setenv("SLUICE_TEST_HASH_KEY", "k3y")
    r = sluice.Redactor('hash_key_env = "SLUICE_TEST_HASH_KEY"\n[[rules]]\n'
                        'action = "hash"\nkey = "email"\n', format="toml")
    assert r.keyed
    import hashlib
    import hmac
    want = hmac.new(b"k3y", b"a@b.c", hashlib.sha256).hexdigest()
    assert r.redact({"email": "a@b.c"}).value == {"email": "hmac:" + want}


def test_unset_hash_key_variable_is_located_schema_error(monkeypatch):
    monkeypatch.delenv("SLUICE_TEST_NO_KEY", raising=False)
    with pytest.raises(sluice.SchemaError) as ei:
        sluice.Redactor('hash_key_env = "SLUICE_TEST_NO_KEY"\n', format="toml",
                        name="k.toml")
    assert (ei.value.file, ei.value.line) == ("k.toml", 1)
