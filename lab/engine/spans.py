"""One task's span: who ran it, when, and its CPU time. Kept apart from the rest of the results model
because every thread, process and subinterpreter that runs a task builds one, and a subinterpreter
imports everything afresh: this module must cost next to nothing to import.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any


@dataclass(frozen=True)
class TaskSpan:
    """One task: who ran it, when (seconds from the mode's start), and its CPU time.

    `cpu` is the CPU time of the thread that ran the task, measured around the
    call inside that thread. For the native asyncio mode it is the event loop
    thread's CPU while the task was pending, which it shares with the tasks
    that overlap it. `pid` and `tid` name the OS process and thread that ran it.
    """

    index: int
    worker: str
    pid: int
    start: float
    end: float
    cpu: float
    ok: bool = True
    error: str | None = None
    value: str | None = None
    tid: int | None = None  # the native id of the thread that ran it, so X-ray rows line up with it

    @property
    def wall(self) -> float:
        return max(0.0, self.end - self.start)

    @property
    def waited(self) -> float:
        """Wall time this task spent not running on a CPU: the GIL, I/O or sleep."""
        return max(0.0, self.wall - self.cpu)

    @property
    def cpu_share(self) -> float:
        """CPU time / wall span in [0, 1]: near 1 for real work, near 0 for waiting."""
        if self.wall <= 0:
            return 0.0
        return min(1.0, max(0.0, self.cpu / self.wall))

    def shifted(self, origin: float) -> TaskSpan:
        return replace(self, start=self.start - origin, end=self.end - origin)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TaskSpan:
        return cls(**{name: data[name] for name in cls.__dataclass_fields__ if name in data})
