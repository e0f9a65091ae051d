"""How this host treats a run: public or private, its limits, its interpreters, its line, its URL rules.

The CLI and the page both ask `Hosting` before they start an experiment of
any lab, so a shared link and a terminal are held to the same rules in one
place: `admit` checks settings against the budget, `interpreter` picks the
Python (by name; a path only where the caller allows it and never in public
mode), `check_runnable` refuses what that Python cannot do, and `line` makes
any experiment wait its turn. On a person's own machine nothing is refused
beyond plain validation, but runs still take turns: two experiments at once
would spoil each other's timings.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from lab.core.contract import LabSettings
from lab.core.errors import InvalidSettings, OverBudget
from lab.core.interpreters import (
    Interpreter,
    current_interpreter,
    discover,
    gil_environment,
    missing_modules,
    public_choices,
    resolve,
)
from lab.engine.settings import NO_CODE, RunSettings
from lab.engine.userfunc import check_function
from lab.hosting.limits import Limits
from lab.hosting.line import InLine, Runnable
from lab.hosting.public import public_mode
from lab.hosting.runqueue import RunQueue

PRIVATE_QUEUE_TIMEOUT_S = 3600.0

R = TypeVar("R", bound=Runnable)
S = TypeVar("S", bound=LabSettings)


@functools.cache
def discovered() -> tuple[Interpreter, ...]:
    """The Pythons on this machine, probed once per process (it takes about a second)."""
    return tuple(discover())


@dataclass(frozen=True)
class Hosting:
    """Public mode and its limits, read once from the environment."""

    public: bool
    limits: Limits
    usable_cores: float

    @classmethod
    def from_env(cls, usable_cores: float, env: Mapping[str, str] = os.environ) -> Hosting:
        return cls(public_mode(env), Limits.from_env(env, usable_cores), usable_cores)

    def admit(self, settings: S) -> S:
        """The settings this host will run, or InvalidSettings/OverBudget/RefusedURL saying why not.

        Every lab's settings carry their own rules (`LabSettings.admit`); the
        host lends them its mode, limits and cores through `HostRules`.
        """
        return settings.admit(self)

    def check_budget(self, seconds: float, advice: str) -> None:
        """A whole experiment (a sweep, a comparison) against the per-run budget of public mode."""
        if self.public and seconds > self.limits.max_work_seconds:
            raise OverBudget(
                f"this run would take about {seconds:.0f} s of work; the limit here is "
                f"{self.limits.max_work_seconds:g} s — lower {advice}"
            )

    def offered_interpreters(self, found: Sequence[Interpreter]) -> list[Interpreter]:
        """The interpreters people may choose here: all usable ones; in public mode, the host's list."""
        if self.public:
            return public_choices(found)
        return [interpreter for interpreter in found if interpreter.usable]

    def interpreter(
        self, settings: RunSettings, *, allow_paths: bool, found: Sequence[Interpreter] | None = None
    ) -> Interpreter:
        """The interpreter a run names (None: the lab's own); paths only where allowed, never in public."""
        return self.interpreter_named(settings.python, allow_paths=allow_paths, found=found)

    def interpreter_named(
        self, spec: str | None, *, allow_paths: bool, found: Sequence[Interpreter] | None = None
    ) -> Interpreter:
        if spec is None:
            return current_interpreter()
        paths = allow_paths and not self.public
        if found is None:
            looks_like_path = "/" in spec or "\\" in spec
            found = () if looks_like_path and paths else discovered()
        return resolve(spec, self.offered_interpreters(found), allow_paths=paths)

    def check_runnable(self, settings: RunSettings, interpreter: Interpreter) -> None:
        """Refuse what the chosen interpreter cannot do, before any process is started for the run."""
        gil_environment(interpreter, settings.gil)
        needed = settings.info.requires("asyncio" in settings.modes)
        missing = missing_modules(interpreter, needed) if interpreter.path != sys.executable else []
        if missing:
            raise InvalidSettings(
                f"{interpreter.name} cannot import {', '.join(missing)}, which the {settings.workload} "
                f"workload needs: install {' '.join(missing)} into {interpreter.path}, or choose another "
                "interpreter"
            )
        if "interpreters" in settings.modes and interpreter.subinterpreters is None:
            raise InvalidSettings(
                f"{interpreter.name} has no subinterpreters with their own GIL; the interpreters mode "
                "needs CPython 3.12 or later (python -m lab pythons lists which Pythons here have them)"
            )
        if settings.function is not None:
            if self.public:
                raise InvalidSettings(NO_CODE)
            check_function(settings.function, interpreter)

    def estimate_seconds(self, settings: LabSettings) -> float:
        """Seconds of work the settings would keep this host busy."""
        return settings.cost(self.usable_cores)

    @property
    def deadline_s(self) -> float | None:
        """Public runs are cut short at the wall-clock cap; private ones run to the end."""
        return self.limits.max_run_seconds if self.public else None

    def queue(self) -> RunQueue:
        timeout = self.limits.queue_timeout if self.public else PRIVATE_QUEUE_TIMEOUT_S
        return RunQueue(timeout_s=timeout)

    def line(self, experiment: R) -> InLine[R]:
        """Any experiment, started once it is its turn on this host."""
        return InLine(experiment, self.queue())

    def describe(self) -> str:
        if self.public:
            return self.limits.summary()
        return "Private mode: no limits beyond the controls' ranges; runs on this machine take turns."
