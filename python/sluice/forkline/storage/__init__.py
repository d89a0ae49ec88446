"""forkline.storage for sluice: the run recorder."""
from .recorder import RunRecorder

__all__ = ["RunRecorder"]
