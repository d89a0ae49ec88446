from typing import Any, Dict, Optional, Sequence, Tuple

MONITORING: int

class FilterError(ValueError):
    file: Optional[str]
    line: int
    col: int
    message: str

class Session:
    recording: bool
    def __init__(self, trace_dir: str, program: str,
                 chain: Sequence[Tuple[str, Optional[str]]],
                 skip_prefixes: Sequence[str] = ..., depth: int = ...,
                 items: int = ..., text: int = ...,
                 values: str = ...) -> None: ...
    def start(self) -> None: ...
    def stop(self, exit_code: Optional[Any] = ...) -> Dict[str, Any]: ...

def active() -> Optional[Session]: ...
def _thread_hook(*args: Any) -> None: ...
def _dict_watching() -> Tuple[int, int, int]: ...
def _slots() -> Tuple[bool, str]: ...
