"""libsluice's engines from Python: :class:`Redactor` (payload
redaction), :class:`Policies` (telemetry policies over OTLP/JSON) and
:class:`Filters` (trace-filter chains). Each compiles once into an
immutable C object; every call runs with the GIL released on per-call
scratch, so one object may be shared by any number of threads."""

from __future__ import annotations

import os
from typing import Any, Iterable, Mapping, NamedTuple, Sequence, Union

from . import _core
from ._json import as_bytes, dumps, loads

PathLike = Union[str, "os.PathLike[str]"]

_FORMATS = {".json": "json", ".toml": "toml", ".yaml": "yaml", ".yml": "yaml"}


def _guess_format(text: str) -> str:
    """JSON when the text starts with '{', else TOML (say format= for
    YAML)."""
    return "json" if text.lstrip().startswith("{") else "toml"


def _looks_like_path(s: str) -> bool:
    return "\n" not in s and (os.path.exists(s)
                              or os.path.splitext(s)[1] in _FORMATS)


class RedactCounts(NamedTuple):
    masked: int
    hashed: int
    dropped: int
    detected: int


class Redaction(NamedTuple):
    """What :meth:`Redactor.redact` returns: the redacted value (same kind
    as the input: bytes for bytes, Python objects otherwise), the audit
    summary (``{"mask", "hash", "drop", "detect", "fields": [...]}``,
    paths only, never values) and the counts."""
    value: Any
    audit: dict
    counts: RedactCounts


class Redactor:
    """A compiled redaction policy.

    ``Redactor()`` or ``Redactor("default")``: the default SAFE policy.
    ``Redactor(path)``: a policy file (JSON, YAML or TOML by extension).
    ``Redactor(text, format="toml")``: policy text (format guessed when
    omitted: JSON if it starts with ``{``, else TOML).
    ``Redactor({"rules": [...]})``: a policy as a Python mapping.
    Errors raise :class:`sluice.Error` subclasses with file:line:col."""

    __slots__ = ("_c", "source")

    def __init__(self, policy: PathLike | str | Mapping[str, Any] | None = None,
                 *, format: str | None = None, name: str = "<policy>") -> None:
        if policy is None or (isinstance(policy, str) and policy == "default"):
            self._c = _core.Redactor()
            self.source = "default"
        elif isinstance(policy, Mapping):
            self._c = _core.Redactor(text=dumps(dict(policy)).decode(),
                                     format="json", name=name)
            self.source = name
        elif isinstance(policy, os.PathLike) or (
                isinstance(policy, str) and format is None
                and _looks_like_path(policy)):
            path = os.fspath(policy)
            self._c = _core.Redactor(path)
            self.source = path
        elif isinstance(policy, (str, bytes)):
            text = policy.decode() if isinstance(policy, bytes) else policy
            fmt = format or _guess_format(text)
            self._c = _core.Redactor(text=text, format=fmt, name=name,
                                     base_dir=os.getcwd())
            self.source = name
        else:
            raise TypeError("policy must be None, a path, policy text or a "
                            "mapping")

    @property
    def rule_count(self) -> int:
        return self._c.rule_count

    @property
    def keyed(self) -> bool:
        """Whether hashes are HMAC (``hmac:``) rather than ``hash:``."""
        return self._c.keyed

    def redact(self, data: Any) -> Redaction:
        """Redact one JSON value: a dict, list or scalar, or its JSON text
        as bytes (then the result is bytes, byte for byte what
        ``sluice redact`` writes for it, without the newline)."""
        raw = as_bytes(data)
        out, audit, counts = self._c.redact(raw if raw is not None
                                            else dumps(data), audit=True)
        value = out if raw is not None else loads(out)
        return Redaction(value, loads(audit), RedactCounts(*counts))

    def redact_lines(self, data: bytes) -> bytes:
        """Redact a stream of JSON values (JSON lines or documents one
        after another): one compact line per value, exactly as
        ``sluice redact`` prints them. A bad value raises."""
        return self._c.redact(bytes(data), stream=True)[0]

    def __repr__(self) -> str:
        return f"Redactor({self.source!r}, rules={self.rule_count})"


class PolicyStats(NamedTuple):
    """Counters of one policy (cumulative over the set's lifetime)."""
    policy_id: str
    signal: str
    hits: int
    misses: int
    kept: int
    dropped: int
    sampled_out: int
    rate_limited: int
    transformed: int
    transform_failed: int


class Problem(NamedTuple):
    """A rejected policy or a warning, located."""
    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


class Applied(NamedTuple):
    """What :meth:`Policies.apply` returns: the kept data (same kind as the
    input), record counts, notes on records dropped because a transform
    could not finish, and every policy's counters after the call."""
    kept: Any
    records_in: int
    records_out: int
    notes: list
    stats: dict


class Policies:
    """A compiled set of telemetry policies (Tero schema, as ``sluice
    apply``). Bad policies are left out and listed in :attr:`problems`; a
    file that cannot be read or parsed raises :class:`sluice.Error`."""

    __slots__ = ("_c",)

    def __init__(self, _c: Any) -> None:
        self._c = _c

    @classmethod
    def load(cls, paths: PathLike | Sequence[PathLike]) -> "Policies":
        """Load one policy file or several (JSON, YAML or TOML)."""
        if isinstance(paths, (str, bytes, os.PathLike)):
            paths = [paths]
        return cls(_core.Policies([os.fspath(p) for p in paths]))

    @classmethod
    def from_text(cls, text: str, format: str | None = None,
                  name: str = "<policies>") -> "Policies":
        return cls(_core.Policies([(name, text,
                                    format or _guess_format(text))]))

    @classmethod
    def from_dict(cls, policies: Mapping[str, Any],
                  name: str = "<policies>") -> "Policies":
        return cls(_core.Policies([(name, dumps(dict(policies)).decode(),
                                    "json")]))

    @property
    def problems(self) -> list[Problem]:
        return [Problem(*p) for p in self._c.problems()]

    @property
    def warnings(self) -> list[Problem]:
        return [Problem(*p) for p in self._c.warnings()]

    def stats(self) -> dict[str, PolicyStats]:
        """Every valid policy's counters, by id."""
        return {t[0]: PolicyStats(*t) for t in self._c.stats()}

    def reset_stats(self) -> None:
        self._c.reset_stats()

    def apply(self, data: Any) -> Applied:
        """Apply the policies to one OTLP/JSON request: a dict, or its JSON
        text as bytes (then ``kept`` is bytes, what ``sluice apply``
        writes for it, without the newline)."""
        raw = as_bytes(data)
        out, rin, rout, notes = self._c.apply(raw if raw is not None
                                              else dumps(data))
        kept = out if raw is not None else loads(out)
        return Applied(kept, rin, rout, notes, self.stats())

    def apply_lines(self, data: bytes) -> Applied:
        """Apply to a stream of requests (JSON lines): one compact line
        per request, exactly as ``sluice apply`` prints them."""
        out, rin, rout, notes = self._c.apply(bytes(data), stream=True)
        return Applied(out, rin, rout, notes, self.stats())


class Scope(NamedTuple):
    exec: str           # "trace" or "skip"
    value_default: str  # "allow", "redact" or "drop"


class Filters:
    """A trace-filter chain, composed as ``sluice filter`` composes it:
    ``builtin-default`` (unless ``builtin=False``), ``builtin-pytest`` /
    ``builtin-unittest`` for ``framework``, the ``.codetracer/
    trace-filter.toml`` discovered from ``program`` (when given),
    ``CODETRACER_TRACE_FILTER`` (when ``env``), then each of ``filters``
    (paths, ``::``-joined lists allowed) and each ``inline`` label -> TOML
    text. Immutable once built; any thread may classify and decide."""

    __slots__ = ("_c",)

    def __init__(self, filters: Iterable[PathLike] = (), *,
                 builtin: bool = True, framework: str | None = None,
                 program: PathLike | None = None, env: bool = True,
                 inline: Mapping[str, str] | None = None) -> None:
        c = _core.Filter()
        if builtin:
            c.add_builtin("builtin-default")
        if framework is not None:
            if framework not in ("pytest", "unittest"):
                raise ValueError("framework must be 'pytest' or 'unittest'")
            c.add_builtin("builtin-" + framework)
        if program is not None:
            c.discover(os.fspath(program))
        if env:
            c.add_env()
        if isinstance(filters, (str, bytes, os.PathLike)):
            filters = [filters]
        for f in filters:
            c.add_paths(os.fspath(f))
        for label, text in (inline or {}).items():
            c.add_text(label, text)
        c.ready()
        self._c = c

    def classify(self, filename: str, qualname: str | None = None,
                 module: str | None = None) -> Scope:
        """Trace or skip a code object, and its values' default."""
        return Scope(*self._c.classify(filename, qualname, module))

    def decide(self, filename: str, qualname: str | None, module: str | None,
               kind: str, name: str) -> str:
        """"allow", "redact" or "drop" for one value (kind: arg, local,
        global, ret or attr); counted in :meth:`metadata`'s stats."""
        return self._c.decide(filename, qualname, module, kind, name)

    def explain(self, filename: str, qualname: str | None = None,
                module: str | None = None,
                values: Iterable[tuple[str, str]] = ()) -> dict:
        """Why: the scope's rule and each value's deciding pattern, as
        ``sluice filter explain`` prints it. Counts nothing."""
        return loads(self._c.explain(filename, qualname, module,
                                     list(values)))

    def chain(self) -> dict:
        """The composed chain (``sluice filter show``)."""
        return loads(self._c.chain())

    def metadata(self) -> dict:
        """The ``trace_filter`` metadata object: sources and counters."""
        return loads(self._c.metadata())
