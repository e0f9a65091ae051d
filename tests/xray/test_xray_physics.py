"""What the GIL does, as the X-ray sees it: one thread on a CPU at a time, handoffs at the switch interval.

The machine is shared and has two cores: other work can take a core away
from the measured threads at any moment, which only ever lowers how many
are on a CPU and how often they hand over. So a bound that load cannot
break must hold on every try, and one it can break gets up to five tries.
"""

from __future__ import annotations

import pytest
from timing_tries import until_good
from xray.xray_helpers import figures_of, record, target

from lab.xray.figures import WindowFigures

pytestmark = pytest.mark.timing


def measure(scenario: str, *args: str, seconds: float = 1.5) -> WindowFigures:
    with target(scenario, *args) as process:
        recording = record(process.pgid, seconds)
    return figures_of(recording, process.threads)


def test_four_pure_python_threads_under_the_gil_are_on_a_cpu_about_one_at_a_time() -> None:
    tries = until_good(lambda: measure("spinners", "4", "0.005"), lambda figures: figures.mean_on_cpu > 0.6)
    means = [figures.mean_on_cpu for figures in tries]

    assert all(mean < 1.5 for mean in means), means
    assert means[-1] > 0.6, means
    assert all(thread.gil_or_lock > 0.3 for thread in tries[-1].threads)  # the other three wait their turn


def test_threads_hashing_big_buffers_release_the_gil_and_use_both_cores() -> None:
    tries = until_good(lambda: measure("hashers", "2"), lambda figures: figures.mean_on_cpu > 1.3)

    assert tries[-1].mean_on_cpu > 1.3, [figures.mean_on_cpu for figures in tries]


def test_handoffs_follow_the_switch_interval() -> None:
    def fast_and_slow() -> tuple[float, float]:
        fast = measure("spinners", "2", "0.005", seconds=2.0)
        slow = measure("spinners", "2", "0.05", seconds=2.0)
        return fast.handoffs_per_s, slow.handoffs_per_s

    tries = until_good(fast_and_slow, lambda rates: 40 < rates[0] < 800 and rates[1] < rates[0] / 3)
    fast, slow = tries[-1]

    assert 40 < fast < 800, tries
    assert slow < fast / 3, tries
    assert all(slow < 40 for _, slow in tries), tries  # at most 20 handoffs a second, whatever the load


def test_threads_that_mostly_sleep_almost_never_wait_for_the_gil() -> None:
    figures = measure("nappers", "4", "0.01")

    for thread in figures.threads:
        assert thread.sleep > 0.8
        assert thread.gil_or_lock < 0.05
    assert figures.handoffs_per_s < 10
