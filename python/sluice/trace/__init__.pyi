import os
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple, TypeVar, Union, overload

_F = TypeVar("_F", bound=Callable[..., Any])
_Path = Union[str, bytes, "os.PathLike[str]"]
_FilterSpec = Union[_Path, Sequence[_Path], None]

DEFAULT_LIMITS: Dict[str, int]
VALUES: Tuple[str, ...]
VERSION: str

class FilterError(ValueError):
    file: Optional[str]
    line: int
    col: int
    message: str

def chain_steps(trace_filter: _FilterSpec = ..., program: Optional[str] = ...,
                frameworks: Iterable[str] = ..., discover: bool = ...,
                use_env: bool = ...) -> List[Tuple[str, Optional[str]]]: ...
def is_recording() -> bool: ...
def start(trace_dir: _Path = ..., trace_filter: _FilterSpec = ..., *,
          program: Optional[str] = ..., args: Optional[Sequence[str]] = ...,
          frameworks: Iterable[str] = ..., discover: bool = ..., use_env: bool = ...,
          values: str = ..., depth: int = ..., items: int = ...,
          text: int = ...) -> None: ...
class ExpandError(ValueError): ...

def expand(trace_dir: _Path, out_dir: Optional[_Path] = ...) -> str: ...
def stop(exit_code: Optional[int] = ...) -> Dict[str, Any]: ...

class recording:
    summary: Dict[str, Any]
    def __init__(self, trace_dir: _Path = ..., trace_filter: _FilterSpec = ...,
                 **kw: Any) -> None: ...
    def __enter__(self) -> Dict[str, Any]: ...
    def __exit__(self, *exc: Any) -> bool: ...

@overload
def traced(func: _F) -> _F: ...
@overload
def traced(func: None = ..., **kw: Any) -> Callable[[_F], _F]: ...
