"""Exceptions raised by sluice. Every error from the C library is a
subclass of :class:`Error` carrying ``file``, ``line``, ``column`` and
``message`` (line and column are 1-based; 0 when there is no position)."""

from __future__ import annotations


class Error(Exception):
    """An error reported by libsluice (``sl_error``)."""

    code: str = "EUNKNOWN"

    def __init__(self, message: str, file: str | None = None, line: int = 0,
                 column: int = 0) -> None:
        self.message = message
        self.file = file or None
        self.line = line
        self.column = column
        super().__init__(self._text())

    def _text(self) -> str:
        where = ""
        if self.file:
            where = self.file + ":"
            if self.line:
                where += f"{self.line}:"
                if self.column:
                    where += f"{self.column}:"
            where += " "
        return where + self.message


class ParseError(Error):
    """Text is not valid JSON, TOML or YAML."""
    code = "EPARSE"


class SchemaError(Error):
    """Parsed, but a key, type or value is not allowed."""
    code = "ESCHEMA"


class PatternError(Error):
    """A regex or glob was rejected."""
    code = "EPATTERN"


class LimitError(Error):
    """A size, depth or count limit was exceeded."""
    code = "ELIMIT"


class FileError(Error, OSError):
    """A file could not be read or written."""
    code = "EIO"


class InputError(Error, ValueError):
    """An invalid argument or value (not JSON-able, not UTF-8, NaN, ...)."""
    code = "EINVAL"


class NotFoundError(Error, LookupError):
    """A named item (run, file, built-in) does not exist."""
    code = "ENOTFOUND"


class StateError(Error):
    """The object is in the wrong state for this call."""
    code = "ESTATE"


class DatabaseError(Error):
    """SQLite reported an error."""
    code = "EDB"


class CryptoError(Error):
    """The hashing library reported an error."""
    code = "ECRYPTO"


_BY_CODE = {c.code: c for c in (ParseError, SchemaError, PatternError,
                                LimitError, FileError, InputError,
                                NotFoundError, StateError, DatabaseError,
                                CryptoError)}
_BY_CODE["EUTF8"] = InputError


def _make(code: str, file: str, line: int, column: int, message: str) -> Error:
    """Called by sluice._core to build the exception for a C status."""
    cls = _BY_CODE.get(code, Error)
    return cls(message, file or None, line, column)


__all__ = ["Error", "ParseError", "SchemaError", "PatternError",
           "LimitError", "FileError", "InputError", "NotFoundError",
           "StateError", "DatabaseError", "CryptoError"]
