"""forkline's redaction API (``forkline.core.redaction``) over libsluice.

``RedactionPolicy(rules=[RedactionRule(...)])`` compiles into a C
redactor; :meth:`RedactionPolicy.redact` runs it. The default SAFE policy
(:func:`create_default_policy`) is libsluice's own default: whole-word key
matching, safe keys, and whatever value detectors the library enables by
default. Differences from forkline are listed in the repository README
("Python" section)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Any, Dict, List, Optional

from ...engines import Redactor
from ..._json import dumps

_TYPED = ("glob:", "regex:", "literal:", "word:")


class RedactionAction(str, Enum):
    """What a matching rule does to the member it matched."""
    MASK = "mask"
    HASH = "hash"
    DROP = "drop"


@dataclass(frozen=True)
class RedactionRule:
    """One rule: ``key_pattern`` is a case-insensitive substring of the
    key (as forkline); ``path_pattern`` is sluice's root-anchored dotted
    path (``*`` one segment, ``**`` any). When both are set, both must
    match."""
    action: RedactionAction
    key_pattern: Optional[str] = None
    path_pattern: Optional[str] = None

    def __post_init__(self) -> None:
        if self.key_pattern is None and self.path_pattern is None:
            raise ValueError("RedactionRule requires at least one pattern")
        if self.key_pattern == "" or self.path_pattern == "":
            raise ValueError("RedactionRule patterns must not be empty "
                             "(forkline lets \"\" match every key; sluice "
                             "refuses it)")
        object.__setattr__(self, "action", RedactionAction(self.action))

    def _spec(self) -> Dict[str, str]:
        out = {"action": RedactionAction(self.action).value}
        if self.key_pattern is not None:
            k = self.key_pattern
            if ":" in k or k.startswith(_TYPED):
                # keep forkline's plain-substring meaning for any text
                k = "regex:" + re.escape(k)
            out["key"] = k
        if self.path_pattern is not None:
            out["path"] = self.path_pattern
        return out


class RedactionPolicy:
    """An ordered list of rules, first match wins, compiled into libsluice.
    The compiled form is cached and rebuilt if ``rules`` changes."""

    def __init__(self, rules: Optional[List[RedactionRule]] = None, *,
                 extends_default: bool = False) -> None:
        self.rules: List[RedactionRule] = list(rules or [])
        self.extends_default = extends_default
        self._key: Optional[tuple] = None
        self._compiled: Optional[Redactor] = None

    def _redactor(self) -> Redactor:
        key = (self.extends_default, tuple(self.rules))
        if self._compiled is None or key != self._key:
            if self.extends_default and not self.rules:
                compiled = Redactor()
            else:
                spec: Dict[str, Any] = {"rules": [r._spec() for r in self.rules]}
                if self.extends_default:
                    spec["extends"] = "default"
                compiled = Redactor(dumps(spec).decode(), format="json",
                                    name="<RedactionPolicy>")
            self._compiled, self._key = compiled, key
        return self._compiled

    def redact(self, event_type: str, payload: Any) -> Any:
        """A redacted copy of payload (the input is never changed).
        event_type is accepted and unused, as in forkline."""
        del event_type
        return self._redactor().redact(payload).value

    def __repr__(self) -> str:
        base = "SAFE + " if self.extends_default else ""
        return f"RedactionPolicy({base}{len(self.rules)} rules)"


def create_default_policy() -> RedactionPolicy:
    """The default SAFE policy: libsluice's default rules (they live in C,
    so ``rules`` starts empty; rules appended to it apply after them)."""
    return RedactionPolicy(extends_default=True)


__all__ = ["RedactionAction", "RedactionRule", "RedactionPolicy",
           "create_default_policy"]
