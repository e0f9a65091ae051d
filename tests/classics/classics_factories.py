"""Made-up step outcomes and interpreters for the Classics lab's tests: no process runs."""

from __future__ import annotations

from typing import Any, ClassVar

from factories import ModeProfile, make_result

from lab.classics.agreement import StepOutcome
from lab.core.interpreters import Interpreter
from lab.engine.settings import RunSettings


def interpreter(name: str, version: str, *, free: bool = False, subinterpreters: bool = False) -> Interpreter:
    return Interpreter(
        name,
        f"/opt/python{name}/bin/python",
        version,
        "CPython",
        free,
        not free,
        "_interpreters" if subinterpreters else None,
        "fork",
        ("given",),
        True,
        None,
    )


PY311 = interpreter("3.11", "3.11.7")
PY313 = interpreter("3.13", "3.13.0", subinterpreters=True)
PY313T = interpreter("3.13t", "3.13.5", free=True, subinterpreters=True)


def outcome(classic: str, key: str, python: str = "3.11", **figures: Any) -> StepOutcome:
    return StepOutcome(
        classic, key, python, "complete", None, {k.replace("__", "."): v for k, v in figures.items()}
    )


def countdown(python: str, seq: float, two: float, four: float, gil: bool = True) -> list[StepOutcome]:
    flags = {"gil_enabled": gil, "free_threaded": not gil}
    return [
        outcome("countdown", "2", python, seconds__batch=seq, seconds__threads=two, **flags),
        outcome("countdown", "4", python, seconds__threads=four, **flags),
    ]


def convoy(alone_ms: float, at_1: float, at_5: float, at_20: float) -> list[StepOutcome]:
    one = {"mean_ms.1@1": at_1, "mean_ms.1@5": at_5, "mean_ms.1@20": at_20}
    return [
        StepOutcome("convoy", "alone", "3.11", "complete", None, {"mean_ms.0@5": alone_ms}),
        StepOutcome("convoy", "one", "3.11", "complete", None, one),
    ]


def every_classic() -> list[StepOutcome]:
    """One made-up, plausible run of every classic on 2 cores."""
    steps = countdown("3.13", 1.0, 1.02, 1.05) + countdown("3.13t", 1.0, 0.52, 0.55, gil=False)
    steps += convoy(0.2, 0.9, 4.5, 19.0)
    steps.append(
        outcome(
            "stinner",
            "modes",
            "3.13",
            seconds__batch=0.8,
            seconds__threads=0.85,
            seconds__processes=0.42,
            seconds__interpreters=0.45,
            workers__processes=2,
        )
    )
    steps.append(outcome("sha256", "2", seconds__batch=0.4, seconds__threads=0.21))
    steps += [outcome("sha256", key, seconds__threads=0.2) for key in ("4", "8")]
    steps.append(outcome("ccbench", "pidigits", seconds__batch=0.6, seconds__threads=0.61))
    steps.append(outcome("ccbench", "bz2", seconds__batch=0.6, seconds__threads=0.31))
    steps.append(
        StepOutcome("ccbench", "latency", "3.11", "complete", None, {"p50_ms.1@5": 5.1, "mean_ms.1@5": 5.3})
    )
    steps.append(outcome("free-threaded", "gil", "3.13", seconds__batch=0.5, seconds__threads=0.5))
    steps.append(outcome("free-threaded", "free", "3.13t", seconds__batch=0.53, seconds__threads=0.27))
    steps.append(outcome("fastapi", "web", throughput=190.0, ceiling=200.0, p50_ms=201.0))
    return steps


class FakeChild:
    """An engine experiment that finishes on its second poll with a made-up result."""

    started: ClassVar[list[str]] = []
    open_now = 0

    def __init__(
        self, settings: RunSettings, *, interpreter: Any, deadline_s: float | None, public: bool
    ) -> None:
        self.settings, self.interpreter, self.deadline_s = settings, interpreter, deadline_s
        self.status: str | None = None
        self.polls = 0
        self.closed = False

    @property
    def done(self) -> bool:
        return self.status is not None

    def start(self) -> FakeChild:
        FakeChild.started.append(f"{self.settings.workload}/{self.interpreter.name}")
        FakeChild.open_now += 1
        assert FakeChild.open_now == 1, "one child at a time"
        return self

    def poll(self, timeout: float = 0.1) -> list[dict[str, Any]]:
        self.polls += 1
        if self.polls >= 2 and self.status is None:
            self.status = "complete"
            self.close()
        return [{"event": "mode_finished"}]

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            FakeChild.open_now -= 1
        if self.status is None:
            self.status = "cancelled"

    def result(self) -> Any:
        modes = {mode: ModeProfile((1.0 if mode == "batch" else 1.04,), 1.0) for mode in self.settings.modes}
        return make_result(
            self.settings.workload,
            modes,
            tasks=self.settings.tasks,
            size=self.settings.size,
            status=self.status or "cancelled",
        )
