"""forkline's ``RunRecorder`` (``forkline.storage.recorder``) over
libsluice's SQLite recorder: payloads are redacted in C by the policy
before SQLite sees a byte, and the database is the one ``sluice runs
list`` / ``sluice runs show`` read. Differences from forkline are listed
in the repository README ("Python" section)."""

from __future__ import annotations

import json
import os
import sqlite3
import urllib.parse
import uuid
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from ... import _core
from ..._json import dumps
from ...errors import InputError, NotFoundError
from ..core.redaction import RedactionPolicy, create_default_policy


@dataclass
class RunRecorder:
    """Records runs and their events in ``db_path`` (created with its
    folder if needed). Safe to share between threads (one call at a time
    inside). The policy is compiled when the recorder is made: changing it
    afterwards does not affect this recorder."""
    db_path: str = "runs.db"
    redaction_policy: Optional[RedactionPolicy] = None
    _rec: Any = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.db_path = os.fspath(self.db_path)
        os.makedirs(os.path.dirname(self.db_path) or ".", exist_ok=True)
        if self.redaction_policy is None:
            self.redaction_policy = create_default_policy()
        self._rec = _core.Recorder(self.db_path,
                                   self.redaction_policy._redactor()._c)

    def start_run(self, entrypoint: str, run_id: Optional[str] = None) -> str:
        """Start a run (status "running"); returns its id (32 hex digits,
        128 random bits). sluice makes every run id itself: passing
        run_id raises InputError."""
        if run_id is not None:
            raise InputError("sluice generates run ids; start_run(run_id=) "
                             "is not supported")
        return self._rec.start_run(entrypoint)

    def log_event(self, run_id: str, event_type: str,
                  payload: Dict[str, Any]) -> int:
        """Redact payload (a dict) and store it as the run's next event.
        Returns the event's sequence number within its run (1, 2, ...)."""
        if not isinstance(payload, dict):
            raise InputError("payload must be a dict (a JSON object)")
        return self._rec.log_event(run_id, event_type, dumps(payload))

    def log_tool_call(self, run_id: str, tool_name: str, request: Any,
                      response: Any = None, error: Any = None,
                      timing: Any = None, metadata: Any = None,
                      invocation_id: Optional[str] = None) -> int:
        """A "tool_call" event shaped as later forkline versions log it."""
        payload: Dict[str, Any] = {
            "tool_name": tool_name,
            "invocation_id": invocation_id or uuid.uuid4().hex,
            "request": request, "timing": timing}
        for k, v in (("response", response), ("error", error),
                     ("metadata", metadata)):
            if v is not None:
                payload[k] = v
        return self.log_event(run_id, "tool_call", payload)

    def end_run(self, run_id: str, status: str = "success") -> None:
        """Finish a run: status is success, failure, error or cancelled."""
        self._rec.end_run(run_id, status)

    def _runs(self) -> List[Dict[str, Any]]:
        return [json.loads(line) for line in self._rec.list_runs()]

    def get_run(self, run_id: str) -> Optional[Dict[str, Any]]:
        """The run, or None: what ``sluice runs list`` shows for it
        (run_id, entrypoint, status, started_at, ended_at, events) and the
        rest of its row (schema_version, host, platform, cwd, pid,
        sluice_version), read through a read-only connection."""
        for run in self._runs():
            if run["run_id"] == run_id:
                break
        else:
            return None
        uri = "file:" + urllib.parse.quote(os.path.abspath(self.db_path)) + "?mode=ro"
        with closing(sqlite3.connect(uri, uri=True)) as conn:
            conn.row_factory = sqlite3.Row
            row = conn.execute("SELECT * FROM runs WHERE run_id = ?",
                               (run_id,)).fetchone()
        if row is not None:
            run = {**dict(row), **run}
        return run

    def get_events(self, run_id: str) -> List[Dict[str, Any]]:
        """The run's events in order: event_id, run_id, seq, ts, type,
        payload (redacted, parsed) and audit. [] for an unknown run."""
        try:
            lines = self._rec.show_run(run_id)
        except NotFoundError:
            return []
        events = []
        for line in lines:
            ev = json.loads(line)
            ev["run_id"] = run_id
            events.append(ev)
        return events

    def list_runs(self, limit: Optional[int] = None) -> List[Dict[str, Any]]:
        """Runs, most recently started first (at most limit)."""
        runs = self._runs()[::-1]
        return runs if limit is None else runs[:limit]

    def close(self) -> None:
        self._rec.close()

    def __enter__(self) -> "RunRecorder":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


__all__ = ["RunRecorder"]
