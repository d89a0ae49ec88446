"""The package itself: import, version, typing files, error classes."""
import importlib.resources
import sys

import sluice
from sluice import errors


def test_import_exposes_the_engines_and_errors():
    for name in ("Redactor", "Policies", "Filters", "Error", "ParseError",
                 "SchemaError", "InputError", "FileError"):
        assert hasattr(sluice, name), name
    assert sluice.library_version == "0.1.0"


def test_extension_is_the_installed_wheel_not_the_source_tree():
    assert "site-packages" in sluice._core.__file__


def test_py_typed_and_stubs_are_installed():
    files = importlib.resources.files("sluice")
    assert files.joinpath("py.typed").is_file()
    assert files.joinpath("_core.pyi").is_file()


def test_error_carries_location_and_formats_it():
    e = errors._make("EPARSE", "p.toml", 3, 7, "expected a value")
    assert isinstance(e, sluice.ParseError) and isinstance(e, sluice.Error)
    assert (e.file, e.line, e.column, e.message) == ("p.toml", 3, 7,
                                                    "expected a value")
    assert str(e) == "p.toml:3:7: expected a value"


def test_io_and_input_errors_are_also_builtin_kinds():
    assert isinstance(errors._make("EIO", "", 0, 0, "x"), OSError)
    assert isinstance(errors._make("EINVAL", "", 0, 0, "x"), ValueError)
    assert isinstance(errors._make("EUTF8", "", 0, 0, "x"), ValueError)
    assert isinstance(errors._make("ENOTFOUND", "", 0, 0, "x"), LookupError)


def test_runs_on_a_supported_python():
    assert sys.version_info >= (3, 11)
