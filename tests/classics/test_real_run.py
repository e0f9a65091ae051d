"""A Classics run with real children: cancel ends the running experiment's processes, none is left behind."""

from __future__ import annotations

import time

import pytest

from lab.classics.runner import ClassicsRun
from lab.classics.settings import ClassicsSettings
from lab.core.interpreters import current_interpreter

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


def test_cancel_mid_run_ends_the_current_child_and_keeps_the_finished_steps(
    no_leftover_processes: None,
) -> None:
    own = current_interpreter()
    run = ClassicsRun(ClassicsSettings.create(classics="ccbench", scale=0.5), [own], own=own).start()
    deadline = time.monotonic() + 120
    while not run.outcomes and time.monotonic() < deadline:
        run.poll(0.1)
    assert run.outcomes and run.outcomes[0].key == "pidigits"
    run.poll(0.3)  # the bz2 step's worker is running now
    run.cancel()
    result = run.result()
    assert result.status == "cancelled" and result.outcomes[0].status == "complete"
    assert "seconds.batch" in result.outcomes[0].figures
