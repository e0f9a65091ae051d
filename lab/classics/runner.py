"""Running the classics: each one's experiments in order, one child at a time, through the labs' own runners.

`ClassicsRun` walks the steps `lab.classics.plan` lays out: the engine's
`Experiment` for countdown, factorial, sha256, pidigits, bz2 and squares
work, the convoy lab's `Convoy` for the convoy probe, the web lab's
`WebExperiment` for FastAPI's pool. Like every lab's run it never blocks
beyond a poll's timeout, ends the current child's process groups on every
way out (`close()`: done, cancel, the deadline, an exception in the caller),
and passes what is left of the host's deadline on to each child. A step that
fails is recorded with its reason and the next one runs; a cancel or the
deadline ends the whole run with what was measured so far.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from lab.classics.agreement import StepOutcome
from lab.classics.plan import Step, missing, plan
from lab.classics.results import ClassicsResult
from lab.classics.settings import ClassicsSettings
from lab.convoy.results import ConvoyResult
from lab.convoy.runner import Convoy
from lab.core.events import Event
from lab.core.interpreters import Interpreter, current_interpreter
from lab.core.lifecycle import LabRun
from lab.core.machine import Machine, current_machine
from lab.core.records import new_run_id, now_iso
from lab.engine.results import RunResult
from lab.engine.runner import Experiment
from lab.web.results import WebResult
from lab.web.runner import WebExperiment

STEP_FINISHED = "classic_step_finished"


@dataclass(frozen=True)
class StepProgress:
    """One step, for a progress list: what it is and where it stands."""

    classic: str
    key: str
    python: str
    state: str  # "waiting", "running", "finished" or "failed"


def engine_figures(result: RunResult) -> dict[str, Any]:
    """Each mode's median seconds and workers (modes that lost tasks are left out), and the GIL's state."""
    figures: dict[str, Any] = {}
    for mode in result.modes:
        summary = result.summary(mode)
        if summary.failed == 0 and summary.error is None:
            figures[f"seconds.{mode}"] = summary.seconds
            figures[f"workers.{mode}"] = summary.workers
            figures[f"cores_busy.{mode}"] = summary.cores_busy
    if result.interpreter is not None:
        figures["gil_enabled"] = result.interpreter.gil_enabled
        figures["free_threaded"] = result.interpreter.free_threaded
        figures["version"] = result.interpreter.version
    return figures


def convoy_figures(result: ConvoyResult) -> dict[str, Any]:
    """Each point's mean and median round trip, keyed `mean_ms.K@INTERVAL`."""
    figures: dict[str, Any] = {}
    for point in result.summaries():
        where = f"{point.cpu_threads}@{point.switch_interval_ms:g}"
        figures[f"mean_ms.{where}"] = point.mean_ms
        figures[f"p50_ms.{where}"] = point.p50_ms
        figures[f"pings.{where}"] = point.pings
    return figures


def web_figures(result: WebResult) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for summary in result.summaries():
        figures |= {"throughput": summary.throughput, "ceiling": summary.ceiling, "p50_ms": summary.p50_ms}
        figures |= {"ok": summary.ok, "failed": summary.failed}
    return figures


def engine_failure(result: RunResult) -> str | None:
    errors = [span.error for _, _, span in result.failures() if span.error]
    errors += [run.error for run in result.runs if run.error]
    return errors[0] if errors else None


class ClassicsRun(LabRun[ClassicsResult]):
    """The chosen classics' steps, in order; polled like any experiment.

    `interpreters` are the resolved Pythons of the settings (none: `own`,
    the lab's own, for everything). The three makers build each child (tests
    pass stand-ins that start no process).
    """

    def __init__(
        self,
        settings: ClassicsSettings,
        interpreters: Sequence[Interpreter] = (),
        *,
        own: Interpreter | None = None,
        deadline_s: float | None = None,
        public: bool = False,
        experiment: Callable[..., Any] = Experiment,
        convoy: Callable[..., Any] = Convoy,
        web: Callable[..., Any] = WebExperiment,
    ) -> None:
        self.settings = settings
        self.own = own or current_interpreter()
        self.interpreters = list(interpreters) or [self.own]
        self.deadline_s = deadline_s
        self.public = public
        self._makers = {"engine": experiment, "convoy": convoy, "web": web}
        self.steps = plan(settings, self.interpreters, self.own)
        self.missing = {
            name: reason
            for name in settings.classics
            if (reason := missing(name, self.interpreters)) is not None
        }
        self.outcomes: list[StepOutcome] = []
        self.machine: Machine | None = None
        self.status: str | None = None
        self.message: str | None = None
        self.started_at: float | None = None
        self.run_id = new_run_id()
        self.created = now_iso()
        self._next_step = 0
        self._current: Any = None
        self._current_step: Step | None = None
        self._queued: list[Event] = []

    def start(self) -> ClassicsRun:
        if self.started_at is None:
            self.started_at = time.monotonic()
            try:
                self._next()
            except BaseException:
                self.close()
                raise
        return self

    def _remaining(self) -> float | None:
        if self.deadline_s is None:
            return None
        return max(0.1, self.deadline_s - self.elapsed)

    def _next(self) -> None:
        if self._next_step >= len(self.steps):
            self._finish("complete", None)
            return
        step = self.steps[self._next_step]
        self._next_step += 1
        self._current_step = step
        make = self._makers[step.kind]
        if step.kind == "engine":
            child = make(
                step.settings, interpreter=step.interpreter, deadline_s=self._remaining(), public=self.public
            )
        elif step.kind == "convoy":
            child = make(step.settings, interpreter=step.interpreter, deadline_s=self._remaining())
        else:
            child = make(step.settings, python=step.interpreter.path)
        self._current = child
        child.start()

    def poll(self, timeout: float = 0.1) -> list[Event]:
        """The current child's events (each with its classic and step), then the next step or the end."""
        queued, self._queued = self._queued, []
        if self.done or self._current is None or self._current_step is None:
            return queued
        step = self._current_step
        where = {"classic": step.classic, "step": step.key, "interpreter": step.interpreter.name}
        events = queued + [{**event, **where} for event in self._current.poll(timeout)]
        if self._current.done:
            outcome = self._outcome(step, self._current)
            self.outcomes.append(outcome)
            self._current = None
            events.append(
                {"event": STEP_FINISHED, **where, "status": outcome.status, "message": outcome.message}
            )
            if outcome.status in ("cancelled", "cut_short"):
                self._finish(outcome.status, outcome.message)
            else:
                self._next()
        else:
            self._check_deadline()
        return events

    def _outcome(self, step: Step, child: Any) -> StepOutcome:
        result = child.result()
        if self.machine is None and step.kind == "engine":
            self.machine = result.machine
        status, message = result.status, result.message
        if isinstance(result, RunResult):
            figures = engine_figures(result)
            failure = engine_failure(result)
            if status == "complete" and failure is not None:
                status, message = "failed", failure
        elif isinstance(result, ConvoyResult):
            figures = convoy_figures(result)
        else:
            assert isinstance(result, WebResult)
            figures = web_figures(result)
            if status == "complete" and not result.all_ok:
                reasons = [s.failures or s.error for s in result.summaries()]
                status, message = "failed", "; ".join(r for r in reasons if r) or "some requests failed"
        return StepOutcome(step.classic, step.key, step.interpreter.name, status, message, figures)

    def close(self) -> None:
        """End the current child's processes. Idempotent."""
        if self._current is not None:
            self._current.close()
            if self._current_step is not None and self._current.done:
                self.outcomes.append(self._outcome(self._current_step, self._current))
            self._current = None
        self._end()

    def _pending(self) -> bool:
        return bool(self._queued)

    def progress(self) -> list[StepProgress]:
        rows = []
        for index, step in enumerate(self.steps):
            if index < len(self.outcomes):
                state = "finished" if self.outcomes[index].status == "complete" else "failed"
            elif self._current_step is step and self._current is not None:
                state = "running"
            else:
                state = "waiting"
            rows.append(StepProgress(step.classic, step.key, step.interpreter.name, state))
        return rows

    def result(self) -> ClassicsResult:
        """What was measured so far: every classic, each with the steps that finished."""
        return ClassicsResult(
            settings=self.settings,
            machine=self.machine or current_machine(),
            outcomes=tuple(self.outcomes),
            missing=dict(self.missing),
            status=self.status or "cancelled",
            message=self.message,
            run_id=self.run_id,
            created=self.created,
            steadiness=self.steadiness,
        )
