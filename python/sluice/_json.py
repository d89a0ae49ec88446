"""JSON conversion at the Python/C boundary: Python values become compact
UTF-8 JSON text that libsluice parses; anything JSON cannot hold (cycles,
NaN, non-string keys other than numbers, bytes, objects) raises
:class:`sluice.InputError` instead of reaching C."""

from __future__ import annotations

import json
from typing import Any

from .errors import InputError


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON of a Python value, or InputError."""
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False,
                          separators=(",", ":"))
        return text.encode("utf-8")
    except RecursionError:
        raise InputError("value nests too deeply to be JSON") from None
    except UnicodeEncodeError as e:
        raise InputError(f"string is not valid Unicode: {e.reason}") from None
    except (TypeError, ValueError) as e:
        raise InputError(f"value cannot be JSON: {e}") from None


def loads(data: bytes) -> Any:
    """Parse JSON text written by libsluice."""
    return json.loads(data)


def as_bytes(data: Any) -> bytes | None:
    """data as bytes when it is JSON text already (bytes-like), else None."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    return None
