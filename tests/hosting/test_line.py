"""Waiting for the host: any experiment takes its turn, and one that waits too long gives up."""

from __future__ import annotations

from lab.engine.results import RunResult
from lab.engine.runner import Experiment
from lab.engine.settings import RunSettings
from lab.hosting.line import InLine
from lab.hosting.runqueue import RunQueue


def finish(line: InLine[Experiment]) -> RunResult:
    """Poll a run in line to its end, as the page and the CLI do."""
    while not line.done:
        line.poll(0.05)
    line.close()
    return line.experiment.result()


def test_runs_take_turns_on_the_host_and_a_cancelled_waiter_leaves_the_line(tmp_path) -> None:
    queue = RunQueue(tmp_path, timeout_s=60)
    first = InLine(Experiment(RunSettings.create("sleep", tasks=1, size=600, modes="batch")), queue).start()
    second = InLine(Experiment(RunSettings.create("sleep", tasks=1, size=10, modes="batch")), queue).start()
    third = InLine(Experiment(RunSettings.create("sleep", tasks=1, size=10, modes="batch")), queue).start()
    try:
        assert first.poll(0.05) == [{"event": "dequeued"}]
        assert second.poll(0.01) == [{"event": "queued", "ahead": 1}]
        assert third.poll(0.01) == [{"event": "queued", "ahead": 2}]
        assert second.experiment.pid is None  # no worker while it waits
        second.cancel()
        assert third.poll(0.01) == [{"event": "queued", "ahead": 1}]
        finish(first)
        third_result = finish(third)
    finally:
        for experiment in (first, second, third):
            experiment.close()
    assert first.experiment.result().status == "complete"
    assert second.experiment.result().status == "cancelled" and second.experiment.result().runs == ()
    assert third_result.status == "complete"
    assert queue.line_length() == 0


def test_a_run_that_waits_too_long_gives_up_with_a_message(tmp_path) -> None:
    queue = RunQueue(tmp_path, timeout_s=0.2)
    with InLine(Experiment(RunSettings.create("sleep", tasks=1, size=2000, modes="batch")), queue) as first:
        first.poll(0.01)
        late = InLine(Experiment(RunSettings.create("sleep", tasks=1, size=1, modes="batch")), queue).start()
        result = finish(late)
    assert result.status == "cancelled"
    assert "try again later" in (result.message or "")
