"""Shared fixtures: the repository root, its examples, and the sluice CLI
that scripts/python-test builds next to the wheel (SLUICE_CLI)."""
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(os.environ.get("SLUICE_SOURCE_DIR")
                    or pathlib.Path(__file__).resolve().parents[2])


@pytest.fixture(scope="session")
def root() -> pathlib.Path:
    return ROOT


@pytest.fixture(scope="session")
def examples() -> pathlib.Path:
    return ROOT / "examples"


@pytest.fixture(scope="session")
def cli():
    """Run the sluice CLI: cli(*args, input=None) -> CompletedProcess."""
    path = os.environ.get("SLUICE_CLI")
    if not path or not os.access(path, os.X_OK):
        pytest.skip("SLUICE_CLI is not set: run through scripts/python-test")

    def run(*args, input=None, check=True):
        return subprocess.run([path, *map(str, args)], input=input,
                              capture_output=True, check=check)
    return run
