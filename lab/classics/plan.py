"""The experiments each classic runs here, in order, through the labs' own settings; and what they cost.

A `Step` is one child experiment: a `RunSettings` for the engine's worker
(countdown, factorial, sha256, pidigits, bz2, squares), a `ConvoySettings`
for the convoy probe, or a `WebSettings` for the web lab, with the
interpreter it runs under. `plan` lays them out for the chosen classics and
interpreters, scaled; a classic that needs what the interpreters lack (a
3.12+ build for subinterpreters, a GIL build and a free-threaded build of one
version) gets no step, and `missing` says why, so its record shows the
published figures alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from lab.classics import catalogue as cat
from lab.convoy.settings import ConvoySettings
from lab.core.interpreters import Interpreter, version_key
from lab.engine.settings import RunSettings
from lab.web.settings import WebSettings

StepSettings = RunSettings | ConvoySettings | WebSettings


class Chosen(Protocol):
    """What the plan reads of the settings (`ClassicsSettings` has it, and prices itself by the plan)."""

    @property
    def classics(self) -> tuple[str, ...]: ...

    @property
    def pythons(self) -> tuple[str, ...]: ...

    @property
    def scale(self) -> float: ...


@dataclass(frozen=True)
class Step:
    """One child experiment of one classic: its key within the classic, its settings, its interpreter."""

    classic: str
    key: str
    settings: StepSettings
    interpreter: Interpreter

    @property
    def kind(self) -> str:
        if isinstance(self.settings, RunSettings):
            return "engine"
        return "convoy" if isinstance(self.settings, ConvoySettings) else "web"


def scaled(value: float, scale: float, floor: float) -> int:
    return max(int(floor), int(value * scale))


def engine(workload: str, tasks: int, size: int, modes: tuple[str, ...], **more: object) -> RunSettings:
    return RunSettings.create(workload, tasks=tasks, size=size, modes=modes, **more)


def free_threaded_pair(interpreters: Sequence[Interpreter]) -> tuple[Interpreter, Interpreter] | None:
    """The newest version with both a GIL build and a free-threaded build among `interpreters`."""
    by_version: dict[tuple[int, ...], dict[bool, Interpreter]] = {}
    for found in interpreters:
        if found.usable and found.implementation == "CPython":
            by_version.setdefault(version_key(found.version)[:2], {}).setdefault(found.free_threaded, found)
    pairs = [(version, builds) for version, builds in by_version.items() if len(builds) == 2]
    if not pairs:
        return None
    _, builds = max(pairs, key=lambda pair: pair[0])
    return builds[False], builds[True]


def subinterpreter_build(interpreters: Sequence[Interpreter]) -> Interpreter | None:
    """The newest GIL build whose subinterpreters have a GIL of their own (3.12+)."""
    found = [i for i in interpreters if i.usable and i.subinterpreters is not None and not i.free_threaded]
    return max(found, key=lambda i: version_key(i.version)) if found else None


def missing(classic: str, interpreters: Sequence[Interpreter]) -> str | None:
    """Why a classic cannot run on these interpreters, or None when it can."""
    names = ", ".join(i.name for i in interpreters) or "none"
    if classic == "stinner" and subinterpreter_build(interpreters) is None:
        return (
            f"no chosen interpreter ({names}) has subinterpreters with their own GIL: that needs CPython "
            "3.12 or later with the GIL"
        )
    if classic == "free-threaded" and free_threaded_pair(interpreters) is None:
        return (
            f"the chosen interpreters ({names}) hold no GIL build and free-threaded build of one version "
            "(such as 3.13 and 3.13t)"
        )
    return None


def plan(settings: Chosen, interpreters: Sequence[Interpreter], own: Interpreter) -> list[Step]:
    """Every step of the chosen classics, in the catalogue's order; `own` runs what needs one Python."""
    s = settings.scale
    steps: list[Step] = []
    for name in settings.classics:
        if missing(name, interpreters) is not None:
            continue
        if name == "countdown":
            total = scaled(cat.COUNTDOWN_TOTAL, s, 400_000)
            for found in interpreters:
                steps.append(Step(name, "2", engine("countdown", 2, total // 2, ("batch", "threads")), found))
                steps.append(Step(name, "4", engine("countdown", 4, total // 4, ("threads",)), found))
        elif name == "convoy":
            seconds = max(0.2, round(cat.CONVOY_SECONDS * s, 2))
            alone = ConvoySettings.create(cpu_threads=0, switch_intervals_ms=5.0, seconds=seconds)
            beside = ConvoySettings.create(
                cpu_threads=1, switch_intervals_ms=cat.CONVOY_INTERVALS_MS, seconds=seconds
            )
            steps += [Step(name, "alone", alone, own), Step(name, "one", beside, own)]
        elif name == "stinner":
            build = subinterpreter_build(interpreters)
            assert build is not None
            size = scaled(cat.FACTORIAL_N, s**0.5, 2_000)  # the work grows with n squared
            modes = ("batch", "threads", "processes", "interpreters")
            steps.append(Step(name, "modes", engine("factorial", 4, size, modes), build))
        elif name == "sha256":
            size = scaled(cat.SHA256_BYTES, s, 1024 * 1024)
            steps.append(Step(name, "2", engine("sha256", 8, size, ("batch", "threads"), threads=2), own))
            for count in (4, 8):
                steps.append(
                    Step(name, str(count), engine("sha256", 8, size, ("threads",), threads=count), own)
                )
        elif name == "ccbench":
            digits = scaled(cat.PIDIGITS_DIGITS, s**0.5, 300)
            nbytes = scaled(cat.BZ2_BYTES, s, 128 * 1024)
            seconds = max(0.2, round(cat.CONVOY_SECONDS * s, 2))
            steps.append(Step(name, "pidigits", engine("pidigits", 2, digits, ("batch", "threads")), own))
            steps.append(Step(name, "bz2", engine("bz2", 2, nbytes, ("batch", "threads")), own))
            latency = ConvoySettings.create(cpu_threads=1, switch_intervals_ms=5.0, seconds=seconds)
            steps.append(Step(name, "latency", latency, own))
        elif name == "free-threaded":
            pair = free_threaded_pair(interpreters)
            assert pair is not None
            size = scaled(cat.FREE_THREADED_SIZE, s, 100_000)
            for key, found in zip(("gil", "free"), pair, strict=True):
                steps.append(Step(name, key, engine("squares", 2, size, ("batch", "threads")), found))
        elif name == "fastapi":
            web = WebSettings.create(
                endpoints="def_wait",
                clients=cat.WEB_CLIENTS,
                duration=max(cat.WEB_MIN_SECONDS, round(cat.WEB_SECONDS * s, 2)),
                latency_ms=cat.WEB_LATENCY_MS,
            )
            steps.append(Step(name, "web", web, own))
    return steps


def step_seconds(step: Step, usable_cores: float) -> float:
    """One step's wall time, as its own lab's settings estimate it (a free-threaded build's threads are
    priced as if they held a GIL: the budget errs on the long side)."""
    return step.settings.cost(usable_cores)


def estimate_seconds(
    settings: Chosen,
    usable_cores: float,
    interpreters: Sequence[Interpreter] | None = None,
    own: Interpreter | None = None,
) -> float:
    """The whole run's seconds; without interpreters, as if each chosen name were a GIL build (3.13 and 3.13t
    count as the free-threaded pair, 3.12+ as having subinterpreters), which is what admission can know."""
    found = list(interpreters) if interpreters is not None else stand_ins(settings.pythons)
    return sum(step_seconds(step, usable_cores) for step in plan(settings, found, own or found[0]))


def stand_ins(names: Sequence[str]) -> list[Interpreter]:
    """Interpreters as their names suggest, for estimates before the names are resolved."""
    result = []
    for name in names or ("own",):
        free = name.endswith("t") and name[:-1].replace(".", "").isdigit()
        version = name[:-1] if free else name
        modern = version_key(version)[:2] >= (3, 12)
        result.append(
            Interpreter(
                name,
                name,
                version if version_key(version) else "3.11",
                "CPython",
                free,
                not free,
                "_interpreters" if modern else None,
                "fork",
                ("given",),
                True,
                None,
            )
        )
    return result
