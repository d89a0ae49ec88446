"""sluice.Filters: the chain and decisions of `sluice filter`, located
errors for bad filter files."""
import json

import pytest

import sluice


def test_explain_matches_cli(cli, tmp_path, monkeypatch):
    monkeypatch.delenv("CODETRACER_TRACE_FILTER", raising=False)
    want = json.loads(cli("filter", "explain", "--program", "app/main.py",
                          "--file", "app/main.py", "--qualname", "main",
                          "--module", "__main__", "--value", "local:password",
                          "--value", "arg:user").stdout)
    f = sluice.Filters(program="app/main.py")
    got = f.explain("app/main.py", "main", "__main__",
                    [("local", "password"), ("arg", "user")])
    assert got == want
    assert got["values"][0]["action"] == "redact"


def test_decide_counts_into_metadata():
    f = sluice.Filters(env=False)
    assert f.classify("app/main.py", "main", "__main__") == ("trace", "allow")
    assert f.decide("app/main.py", "main", "__main__", "local",
                    "api_key") == "redact"
    assert f.decide("app/main.py", "main", "__main__", "local", "n") == "allow"
    meta = f.metadata()
    assert meta["stats"]["value_redactions"]["local"] == 1
    assert meta["filters"][0]["path"] == "<inline:builtin-default>"


def test_stdlib_is_skipped():
    f = sluice.Filters(env=False)
    scope = f.classify("/usr/lib/python3.11/json/encoder.py", "encode",
                       "json.encoder")
    assert scope.exec == "skip"


def test_project_filter_file_and_inline_source(tmp_path):
    ff = tmp_path / "filter.toml"
    ff.write_text('[meta]\nname = "proj"\nversion = 1\n\n[scope]\n'
                  'default_exec = "trace"\ndefault_value_action = "allow"\n\n'
                  '[[scope.rules]]\nselector = "pkg:app"\nexec = "skip"\n')
    f = sluice.Filters([ff], env=False)
    assert f.classify(str(tmp_path / "app" / "x.py"), "f", "app").exec == "skip"
    chain = f.chain()
    assert [s["name"] for s in chain["filters"]][-1] == "proj"


def test_bad_filter_file_raises_located_error(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[meta]\nname = "x"\nversion = 1\n[scope]\nbogus = 1\n')
    with pytest.raises(sluice.Error) as ei:
        sluice.Filters([bad], env=False)
    e = ei.value
    assert e.file == str(bad) and e.line >= 1 and e.column >= 1
    assert "trace filter" in e.message


def test_missing_filter_file_is_not_found():
    with pytest.raises(sluice.NotFoundError):
        sluice.Filters(["/nonexistent/filter.toml"], env=False)


def test_bad_kind_is_value_error():
    f = sluice.Filters(env=False)
    with pytest.raises(ValueError):
        f.decide("a.py", "f", "a", "nonsense", "x")


def test_framework_builtin_is_chained_after_the_default():
    f = sluice.Filters(framework="pytest", env=False)
    names = [s["path"] for s in f.chain()["filters"]]
    assert names == ["<inline:builtin-default>", "<inline:builtin-pytest>"]
    with pytest.raises(ValueError):
        sluice.Filters(framework="nose", env=False)
