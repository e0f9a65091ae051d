"""What the sweep tests share: a stand-in experiment whose seconds follow a known model, and sweeps over it.

GIL-bound threads: n workers take as long as one; processes: the work
divides over min(n, cores). So the plan, the merge and the fits are checked
exactly and fast.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from factories import make_machine

from lab.core.events import Event
from lab.core.interpreters import Interpreter, RunInterpreter
from lab.engine import protocol
from lab.engine.results import ModeRun, RunResult
from lab.engine.runner import ModeProgress
from lab.engine.settings import RunSettings
from lab.engine.spans import TaskSpan
from lab.sweep.results import SweepResult
from lab.sweep.runner import Sweep
from lab.sweep.settings import SweepSettings

CORES = 2.0


TASK_S = 0.1


Timing = Callable[[str, int, int, int], float]  # (mode, workers, tasks, round) -> seconds


def gil_model(mode: str, workers: int, tasks: int, round_: int) -> float:
    """Threads hold the GIL (n workers take as long as one); processes share the work over the cores."""
    parallel = 1.0 if mode == "threads" else min(workers, CORES)
    return tasks * TASK_S / parallel * (1 + 0.01 * round_)


def interpreter(name: str, free_threaded: bool = False) -> Interpreter:
    return Interpreter(
        name=name,
        path=f"/usr/bin/python{name}",
        version=name.rstrip("t") + ".0",
        implementation="CPython",
        free_threaded=free_threaded,
        gil_enabled_by_default=not free_threaded,
        subinterpreters="_interpreters",
        start_method="fork",
        sources=("PATH",),
        usable=True,
        problem=None,
    )


class FakeExperiment:
    """An experiment that 'measures' its modes by a timing model, finishing on its first poll.

    Every one made is logged, so a test can read the order the sweep ran them in.
    """

    def __init__(
        self,
        settings: RunSettings,
        *,
        round_: int,
        timing: Timing,
        interpreter: Interpreter,
        target_url: str | None = None,
        deadline_s: float | None = None,
        public: bool = False,
        fail: Callable[[str, int], int] | None = None,
        crash: bool = False,
    ) -> None:
        self.settings = settings
        self.round = round_
        self.timing = timing
        self.interpreter = interpreter
        self.deadline_s = deadline_s
        self.fail = fail
        self.crash = crash
        self.status: str | None = None
        self.started = self.closed = False

    @property
    def done(self) -> bool:
        return self.status is not None

    def start(self) -> FakeExperiment:
        self.started = True
        return self

    def runs(self) -> list[ModeRun]:
        runs = []
        for mode in self.settings.modes[:1] if self.crash else self.settings.modes:
            n, tasks = self.settings.workers or 1, self.settings.tasks
            seconds = self.timing(mode, n, tasks, self.round)
            failed = self.fail(mode, n) if self.fail else 0
            spans = tuple(
                TaskSpan(
                    i, "w", 1, 0.0, seconds, seconds / tasks, i >= failed, None if i >= failed else "boom"
                )
                for i in range(tasks)
            )
            cpu = seconds * (1.0 if mode == "threads" else min(n, CORES))
            runs.append(ModeRun(mode, 0, seconds, 0.001, cpu, n, spans))
        return runs

    def poll(self, timeout: float = 0.1) -> list[Event]:
        if self.done:
            return []
        self.status = "crashed" if self.crash else "complete"
        return [
            {"event": protocol.MODE_FINISHED, "mode": run.mode, "run": run.to_dict()} for run in self.runs()
        ]

    def progress(self) -> list[ModeProgress]:
        return []

    def cancel(self, message: str | None = None) -> None:
        self.status = self.status or "cancelled"
        self.close()

    def close(self) -> None:
        self.closed = True

    def result(self) -> RunResult:
        return RunResult(
            settings=self.settings,
            machine=make_machine(CORES),
            runs=tuple(self.runs()),
            status=self.status or "cancelled",
            message="the experiment's process ended early" if self.crash else None,
            interpreter=RunInterpreter(self.interpreter.name, "3.13.2", "CPython", False, True, "/p"),
        )


def fake_sweep(
    settings: SweepSettings,
    interpreters: list[Interpreter] | None = None,
    timing: Timing = gil_model,
    *,
    deadline_s: float | None = None,
    fail: Callable[[str, int], int] | None = None,
    crash_at: int | None = None,
) -> tuple[Sweep, list[FakeExperiment]]:
    """A sweep over stand-in experiments, and the log of every experiment it made, in order."""
    log: list[FakeExperiment] = []
    steps = settings.steps()

    def make(run_settings: RunSettings, **kwargs: Any) -> FakeExperiment:
        index = len(log)
        made = FakeExperiment(
            run_settings,
            round_=steps[index].round,
            timing=timing,
            fail=fail,
            crash=index == crash_at,
            **kwargs,
        )
        log.append(made)
        return made

    chosen = interpreters or [interpreter("3.11")]
    return Sweep(settings, chosen, deadline_s=deadline_s, experiment=cast(Any, make)), log


def run_to_end(sweep: Sweep) -> SweepResult:
    sweep.start()
    while not sweep.done:
        sweep.poll(0.01)
    return sweep.result()


def sweep_settings(**options: Any) -> SweepSettings:
    base = RunSettings.create("squares")
    return SweepSettings.create(base, **{"workers": "1,2,4", "repeats": 3, "size": 100_000, **options})


def measured(**options: Any) -> SweepResult:
    return run_to_end(fake_sweep(sweep_settings(**options))[0])
