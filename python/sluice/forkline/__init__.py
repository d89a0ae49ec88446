"""A forkline-compatible run recorder on libsluice: switching from
forkline is a change of import (``from sluice.forkline import
RunRecorder`` or ``from sluice.forkline.storage.recorder import
RunRecorder``). Redaction runs in C before SQLite sees a byte."""
from .core.redaction import (RedactionAction, RedactionPolicy, RedactionRule,
                             create_default_policy)
from .storage.recorder import RunRecorder

SAFE_POLICY = create_default_policy()

__all__ = ["RunRecorder", "RedactionPolicy", "RedactionRule",
           "RedactionAction", "create_default_policy", "SAFE_POLICY"]
