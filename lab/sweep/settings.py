"""What a scaling sweep runs: one workload at several worker counts, per mode and interpreter, interleaved.

A single run at one worker count gives one point; a sweep gives the curve, and
`lab.sweep.fit` reads a serial fraction off it. This module turns raw
input (CLI strings, the page's widgets) into checked `SweepSettings`, decides
how many tasks each worker count runs, plans the order of the experiments,
and applies public mode's rules to the whole sweep.

Tasks
-----
Strong scaling keeps the total work fixed: every worker count runs the same
`tasks`, a multiple of the least common multiple of the counts, so each count
splits the work evenly (4 tasks on 3 workers would leave one worker doing two
while the others idle, and read as poor scaling). Weak scaling keeps the work
per worker fixed: n workers run n × `tasks_per_worker` tasks.

The order
---------
One experiment (one `python -m lab.engine.worker` process) per round, worker
count and interpreter, with every mode inside it at that count; round r runs
the counts in ascending order, and within each count the interpreters in the
order given, and within each experiment the modes rotated by r (round 0:
threads, processes; round 1: processes, threads). So drift on a shared
machine (a neighbour's job, a CPU's clock) lands on every point alike instead
of on whichever count ran last, and the ~0.15 s start of a worker process,
which is not in the measured seconds, is paid once per count, not per mode.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from lab.core.contract import HostRules
from lab.core.errors import InvalidSettings
from lab.core.interpreters import MAX_PYTHONS, PythonChoice
from lab.core.validate import parse_names, whole
from lab.engine.settings import MAX_REPEATS, MAX_TASKS, RunSettings

SCALES: tuple[str, ...] = ("strong", "weak")
SWEEP_MODES: tuple[str, ...] = ("threads", "processes", "interpreters")
POOL_MODES = frozenset({"processes", "interpreters"})
DEFAULT_MODES: tuple[str, ...] = ("threads", "processes")
DEFAULT_WORKERS: tuple[int, ...] = (1, 2, 4)
DEFAULT_REPEATS = 3
MIN_DEFAULT_TASKS = 4
MAX_WORKER_COUNT = 64
MAX_WORKER_COUNTS = 8
# A sweep runs every point several times over; the workload's own default sizes suit one run.
# Squares at 1,000,000 iterations is about 0.05 s a task here: a default sweep takes about 5 s on 2 cores,
# and each process point still runs about ten times longer than its pool takes to start.
SWEEP_SIZES: dict[str, int] = {"squares": 1_000_000}
BUDGET_ADVICE = "Repeats, worker counts, modes, interpreters or Workload size"


def parse_worker_counts(value: Any) -> tuple[tuple[int, ...], bool]:
    """'1,2,4' or a list -> the counts in ascending order, and whether 1 had to be added.

    A count is a whole number from 1; zero, negatives and repeats are refused
    (a repeat is almost always a typo, and a sweep has one point per count).
    1 is added when missing, because every speedup is measured against the
    one-worker time, and the caller says so in its output.
    """
    items = value.split(",") if isinstance(value, str) else list(value)
    counts: list[int] = []
    for item in items:
        text = str(item).strip()
        if not text:
            continue
        if not text.lstrip("+-").isdigit():
            raise InvalidSettings(f"--workers takes whole numbers like 1,2,4,8, got {text[:20]!r}")
        count = int(text)
        if count < 1:
            raise InvalidSettings(f"worker counts start at 1, got {count}")
        if count > MAX_WORKER_COUNT:
            raise InvalidSettings(f"at most {MAX_WORKER_COUNT} workers in a sweep, got {count}")
        if count in counts:
            raise InvalidSettings(f"worker count {count} appears twice in --workers")
        counts.append(count)
    added_one = 1 not in counts
    counts = sorted({1, *counts})
    if len(counts) < 2:
        raise InvalidSettings("a sweep needs a worker count above 1, e.g. --workers 1,2,4")
    if len(counts) > MAX_WORKER_COUNTS:
        raise InvalidSettings(f"at most {MAX_WORKER_COUNTS} worker counts in a sweep, got {len(counts)}")
    return tuple(counts), added_one


def parse_sweep_modes(value: Any) -> tuple[str, ...]:
    """The modes that have a worker count to vary: threads, processes, interpreters."""
    if value is None:
        return DEFAULT_MODES
    return parse_names(value, SWEEP_MODES, "sweep mode")


def parse_python_choices(value: Any, gil: str | None) -> tuple[PythonChoice, ...]:
    """'3.12,3.13t:gil=off' (or a list of such strings) -> choices, each once; none: the lab's own Python.

    A choice without its own GIL switch takes `gil` (the run's --gil), so the
    label of every line says what it ran with.
    """
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else list(value)
    parts = [part for item in items for part in str(item).split(",") if part.strip()]
    choices = [PythonChoice.parse(part) for part in parts]
    unique = tuple(dict.fromkeys(replace(choice, gil=choice.gil or gil) for choice in choices))
    if len(unique) > MAX_PYTHONS:
        raise InvalidSettings(f"at most {MAX_PYTHONS} interpreters in a sweep, got {len(unique)}")
    return unique


@dataclass(frozen=True)
class SweepStep:
    """One experiment of a sweep: a round, a worker count, an interpreter (by index), its modes in order."""

    round: int
    workers: int
    python: int
    modes: tuple[str, ...]


@dataclass(frozen=True)
class SweepSettings:
    """A sweep: the run it repeats (`base`), the worker counts, the scale and the interpreters.

    `base.modes` are the swept modes; `base.repeats` is the number of rounds;
    `base.tasks` is the total work of every point for strong scaling and the
    work of each worker for weak scaling. `base.workers`/`base.threads` stay
    None: each point sets both to its worker count. `pythons` empty means the
    lab's own Python. `added_one` records that 1 was not asked for but added.
    """

    base: RunSettings
    workers: tuple[int, ...]
    scale: str = "strong"
    pythons: tuple[PythonChoice, ...] = ()
    added_one: bool = False

    def __post_init__(self) -> None:
        """What every sweep must be, however it was made (`create`, a JSON file, a CSV file)."""
        check_scale(self.scale)
        if self.base.workers is not None or self.base.threads is not None:
            raise InvalidSettings("a sweep sets the thread and process counts itself: list them in --workers")
        if self.base.xray:
            raise InvalidSettings(
                "a sweep does not X-ray its points; X-ray one of them with python -m lab run"
            )
        parse_sweep_modes(self.base.modes)
        if parse_worker_counts(self.workers) != (self.workers, False):
            raise InvalidSettings("a sweep's worker counts start at 1 and rise, each once")
        if self.scale == "strong":
            strong_tasks(self.workers, self.base.tasks, None)
        if len(self.pythons) > MAX_PYTHONS:
            raise InvalidSettings(f"at most {MAX_PYTHONS} interpreters in a sweep, got {len(self.pythons)}")

    @classmethod
    def create(
        cls,
        base: RunSettings,
        *,
        workers: Any = None,
        modes: Any = None,
        scale: Any = None,
        pythons: Any = None,
        repeats: Any = None,
        tasks: Any = None,
        tasks_per_worker: Any = None,
        size: Any = None,
    ) -> SweepSettings:
        """Validate a sweep around `base` (a run's other options); None means the sweep's default.

        `base`'s tasks, size, modes and repeats are replaced by the sweep's
        own (a sweep runs every point several times, so some workloads get a
        smaller default size, `SWEEP_SIZES`); its workers and threads must be
        unset, since each point sets them to its worker count.
        """
        counts, added_one = (DEFAULT_WORKERS, False) if workers is None else parse_worker_counts(workers)
        scale_name = "strong" if scale in (None, "") else str(scale)
        if scale_name not in SCALES:
            raise InvalidSettings(f"--scale must be strong or weak, got {scale_name[:20]!r}")
        work = (
            strong_tasks(counts, tasks, tasks_per_worker)
            if scale_name == "strong"
            else weak_tasks_per_worker(counts, tasks, tasks_per_worker)
        )
        info = base.info
        default_size = SWEEP_SIZES.get(base.workload, info.default_size)
        swept = replace(
            base,
            size=whole("size", size, default_size, 1, info.max_size) if info.uses_size else base.size,
            modes=parse_sweep_modes(modes),
            tasks=work,
            repeats=whole("repeats", repeats, DEFAULT_REPEATS, 1, MAX_REPEATS),
        )
        return cls(
            base=swept,
            workers=counts,
            scale=scale_name,
            pythons=parse_python_choices(pythons, base.gil),
            added_one=added_one,
        )

    @property
    def rounds(self) -> int:
        return self.base.repeats

    @property
    def python_count(self) -> int:
        """Lines per mode: one per interpreter, or one for the lab's own Python."""
        return max(1, len(self.pythons))

    def tasks_at(self, workers: int) -> int:
        """The tasks a point at `workers` runs: the same total (strong) or the same per worker (weak)."""
        return self.base.tasks if self.scale == "strong" else self.base.tasks * workers

    def steps(self) -> tuple[SweepStep, ...]:
        """Every experiment in the order it runs (the module docstring says why this order)."""
        modes = self.base.modes
        return tuple(
            SweepStep(round_, count, python, modes[round_ % len(modes) :] + modes[: round_ % len(modes)])
            for round_ in range(self.rounds)
            for count in self.workers
            for python in range(self.python_count)
        )

    def choice(self, python: int) -> PythonChoice | None:
        """The interpreter of line `python`; None for the lab's own Python."""
        return self.pythons[python] if self.pythons else None

    def for_step(self, step: SweepStep) -> RunSettings:
        """One experiment's settings: its worker count as both pool sizes, one repeat, its interpreter."""
        choice = self.choice(step.python)
        return replace(
            self.base,
            tasks=self.tasks_at(step.workers),
            modes=step.modes,
            workers=step.workers,
            threads=step.workers,
            repeats=1,
            python=choice.name if choice is not None else self.base.python,
            gil=choice.gil if choice is not None else self.base.gil,
        )

    def admit(self, hosting: HostRules) -> SweepSettings:
        """Public mode's rules for the whole sweep: each point as a run, and all of them as one budget.

        `lab.hosting.admission.Hosting.admit` calls this for sweeps. Each point
        must pass as a run of its own (`RunSettings.admit`: processes, concurrency, no
        visitor code); the rounds count as repeats; and the sum of every
        experiment's estimate must fit the one-run budget, since the sweep
        holds the host for all of it.
        """
        if not hosting.public:
            return self
        limits = hosting.limits
        if self.rounds > limits.max_repeats:
            raise InvalidSettings(f"at most {limits.max_repeats} repeats here; lower Repeats")
        pooled = [mode for mode in self.base.modes if mode in POOL_MODES]
        if pooled and self.workers[-1] > limits.max_processes:
            raise InvalidSettings(
                f"at most {limits.max_processes} processes here; drop the worker counts above "
                f"{limits.max_processes} or the {' and '.join(pooled)} mode"
            )
        # The whole sweep first: it is never cheaper than one of its points, and its advice fits a sweep.
        hosting.check_budget(self.cost(hosting.usable_cores), BUDGET_ADVICE)
        admitted = [self.for_step(step).admit(hosting) for step in self.steps()]
        return replace(self, base=replace(self.base, max_body_bytes=admitted[0].max_body_bytes))

    def cost(self, usable_cores: float) -> float:
        """Every point of every round, each as the run it is."""
        return self.estimate_seconds(lambda run: run.cost(usable_cores))

    def estimate_seconds(self, estimate: Callable[[RunSettings], float]) -> float:
        """The whole sweep's seconds, from a per-run estimator (`Hosting.estimate_seconds`)."""
        return sum(estimate(self.for_step(step)) for step in self.steps())

    def to_dict(self) -> dict[str, Any]:
        return {
            "base": self.base.to_dict(),
            "workers": list(self.workers),
            "scale": self.scale,
            "pythons": [choice.label for choice in self.pythons],
            "added_one": self.added_one,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SweepSettings:
        return cls(
            base=RunSettings.from_dict(data["base"]),
            workers=tuple(int(count) for count in data["workers"]),
            scale=str(data["scale"]),
            pythons=parse_python_choices(data["pythons"], None),
            added_one=bool(data["added_one"]),
        )


def check_scale(value: Any) -> str:
    if value not in SCALES:
        raise InvalidSettings(f"unknown scale {str(value)[:20]!r}; a sweep is strong or weak")
    return str(value)


def strong_tasks(counts: Sequence[int], tasks: Any, tasks_per_worker: Any) -> int:
    """The total tasks of a strong sweep: a multiple of every worker count, at least MIN_DEFAULT_TASKS."""
    if tasks_per_worker not in (None, ""):
        raise InvalidSettings("--tasks-per-worker is for --scale weak; a strong sweep shares --tasks")
    step = math.lcm(*counts)
    if step > MAX_TASKS:
        raise InvalidSettings(
            f"worker counts {','.join(map(str, counts))} need a multiple of {step:,} tasks to share the "
            "work evenly; choose counts that divide each other, like 1,2,4,8"
        )
    default = step * math.ceil(MIN_DEFAULT_TASKS / step)
    total = whole("tasks", tasks, default, 1, MAX_TASKS)
    if total % step:
        shown = ",".join(map(str, counts))
        raise InvalidSettings(
            f"--tasks {total} does not split evenly over {shown} workers; use a multiple of {step}, "
            f"such as {step * max(1, round(total / step))}"
        )
    return total


def weak_tasks_per_worker(counts: Sequence[int], tasks: Any, tasks_per_worker: Any) -> int:
    """The tasks each worker runs in a weak sweep (n workers run n times as many)."""
    if tasks not in (None, ""):
        raise InvalidSettings("a weak sweep fixes the work per worker: set --tasks-per-worker, not --tasks")
    return whole("tasks-per-worker", tasks_per_worker, 1, 1, MAX_TASKS // max(counts))
