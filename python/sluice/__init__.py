"""sluice for Python: libsluice's payload redaction, telemetry policies
and trace filters, and ``sluice.forkline``, a forkline-compatible run
recorder that redacts in C before SQLite stores a byte."""

from .errors import (CryptoError, DatabaseError, Error, FileError,
                     InputError, LimitError, NotFoundError, ParseError,
                     PatternError, SchemaError, StateError)
from .engines import (Applied, Filters, Policies, PolicyStats, Problem,
                      RedactCounts, Redaction, Redactor, Scope)
from . import _core

__version__ = "0.1.0"
library_version = _core.library_version()

__all__ = ["Error", "ParseError", "SchemaError", "PatternError",
           "LimitError", "FileError", "InputError", "NotFoundError",
           "StateError", "DatabaseError", "CryptoError", "Redactor",
           "Redaction", "RedactCounts", "Policies", "PolicyStats", "Problem",
           "Applied", "Filters", "Scope", "library_version"]
