"""The cost estimate of a run and the public-mode refusals, with their advice."""

from __future__ import annotations

import re

import pytest

from lab.core.errors import InvalidSettings, OverBudget
from lab.engine import budget
from lab.engine import workloads as costs
from lab.engine.budget import check_settings, estimate_work_seconds
from lab.engine.settings import RunSettings
from lab.engine.workloads import BUILTIN_WORKLOADS
from lab.hosting.admission import Hosting
from lab.hosting.limits import Limits

LIMITS = Limits.from_env({}, usable_cores=2)
START = budget.RUN_START_S


def sleep_run(modes: str, tasks: int = 10, ms: int = 200, **extra: object) -> RunSettings:
    return RunSettings.create("sleep", tasks=tasks, size=ms, modes=modes, **extra)


@pytest.mark.parametrize("workload", BUILTIN_WORKLOADS)
def test_default_runs_fit_the_default_budget(workload: str) -> None:
    for cores in (0.5, 1, 2, 8):
        settings = RunSettings.create(workload)
        check_settings(settings, Limits.from_env({}, cores), cores)
        assert estimate_work_seconds(settings, cores) < 15


def test_sleep_counts_the_time_each_mode_occupies_the_host() -> None:
    assert estimate_work_seconds(sleep_run("batch"), 2) == pytest.approx(START + 10 * 0.2)
    assert estimate_work_seconds(sleep_run("asyncio_blocking"), 2) == pytest.approx(START + 10 * 0.2)
    assert estimate_work_seconds(sleep_run("threads"), 2) == pytest.approx(START + 0.2)
    assert estimate_work_seconds(sleep_run("asyncio"), 2) == pytest.approx(START + 0.2)
    assert estimate_work_seconds(sleep_run("threads", threads=5), 2) == pytest.approx(START + 2 * 0.2)
    processes = START + 5 * 0.2 + 2 * budget.PROCESS_START_S  # 2 workers on 2 cores: 5 rounds
    assert estimate_work_seconds(sleep_run("processes"), 2) == pytest.approx(processes)


def test_modes_and_repeats_add_up() -> None:
    one = estimate_work_seconds(sleep_run("batch"), 2) - START
    both = estimate_work_seconds(sleep_run("batch,asyncio_blocking", repeats=3), 2) - START
    assert both == pytest.approx(one * 2 * 3)


def test_cpu_work_is_tasks_times_size_at_the_calibrated_speed() -> None:
    settings = RunSettings.create("squares", tasks=4, size=1_000_000, modes="batch")
    expected = START + 4 * 1_000_000 * costs.SQUARES_S_PER_ITERATION
    assert estimate_work_seconds(settings, 2) == pytest.approx(expected)


def test_gil_bound_threads_get_no_speed_up_but_processes_and_hashing_threads_do() -> None:
    def cost(workload: str, mode: str, size: int) -> float:
        settings = RunSettings.create(workload, tasks=4, size=size, modes=mode)
        return estimate_work_seconds(settings, 4)

    assert cost("squares", "threads", 10**8) == pytest.approx(cost("squares", "batch", 10**8))
    assert cost("squares", "processes", 10**8) < cost("squares", "batch", 10**8) / 2
    assert cost("sha256", "threads", 2**30) < cost("sha256", "batch", 2**30) / 2
    assert cost("sha256", "asyncio", 2**30) == pytest.approx(cost("sha256", "batch", 2**30))


def test_a_fraction_of_a_core_makes_cpu_work_slower() -> None:
    settings = RunSettings.create("squares", tasks=4, size=10**7, modes="batch")
    full = estimate_work_seconds(settings, 1) - START
    assert estimate_work_seconds(settings, 0.5) - START == pytest.approx(2 * full)


def test_http_counts_latency_and_bytes() -> None:
    settings = RunSettings.create("http", tasks=10, modes="batch", latency_ms=300, bytes=1_000_000)
    per_request = 0.3 + costs.HTTP_S_PER_REQUEST + 1_000_000 * costs.HTTP_S_PER_BYTE
    assert estimate_work_seconds(settings, 2) == pytest.approx(START + 10 * per_request)
    outside = RunSettings.create("http", tasks=10, modes="batch", url="http://example.com/")
    assert estimate_work_seconds(outside, 2) >= START + 10 * costs.EXTERNAL_REQUEST_S


def test_over_budget_says_what_to_lower() -> None:
    settings = RunSettings.create("squares", tasks=8, size=100_000_000, modes="batch")
    with pytest.raises(OverBudget) as caught:
        check_settings(settings, LIMITS, 2)
    message = str(caught.value)
    assert re.fullmatch(
        r"this run would take about \d+ s of work; the limit here is 30 s — "
        r"lower Task count, Workload size, modes or Repeats",
        message,
    ), message
    assert isinstance(caught.value, InvalidSettings)  # the CLI exits 2, like any invalid argument


def test_over_budget_advice_follows_the_workload() -> None:
    embedded = RunSettings.create("http", tasks=200, modes="batch", latency_ms=1000)
    with pytest.raises(OverBudget, match="lower Task count, Latency, Response bytes, modes or Repeats"):
        check_settings(embedded, LIMITS, 2)
    outside = RunSettings.create("http", tasks=200, modes="batch", url="http://example.com/")
    with pytest.raises(OverBudget, match=r"lower Task count, modes or Repeats$"):
        check_settings(outside, LIMITS, 2)


def test_budget_comes_from_the_limits() -> None:
    settings = sleep_run("batch", tasks=10, ms=1000)
    with pytest.raises(OverBudget, match="limit here is 5 s"):
        check_settings(settings, Limits(max_work_seconds=5), 2)
    check_settings(settings, Limits(max_work_seconds=20), 2)


def test_too_many_processes() -> None:
    settings = RunSettings.create("squares", modes="processes", workers=16)
    with pytest.raises(InvalidSettings, match=r"^at most 4 processes here \(asked for 16\); lower Workers$"):
        check_settings(settings, LIMITS, 2)
    check_settings(settings.with_changes(workers=4), LIMITS, 2)
    check_settings(settings.with_changes(modes=("batch",)), LIMITS, 2)


def test_too_many_threads_or_tasks_at_once() -> None:
    with pytest.raises(
        InvalidSettings, match=r"threads would run 1,000 at once; at most 300 .* set Threads$"
    ):
        check_settings(sleep_run("threads", tasks=1000, ms=1), LIMITS, 2)
    with pytest.raises(InvalidSettings, match=r"at most 300 .* lower Threads$"):
        check_settings(sleep_run("threads", tasks=1000, ms=1, threads=500), LIMITS, 2)
    with pytest.raises(InvalidSettings, match=r"asyncio would run 1,000 at once; .* lower Task count$"):
        check_settings(sleep_run("asyncio", tasks=1000, ms=1), LIMITS, 2)
    with pytest.raises(InvalidSettings, match="asyncio_to_thread would run 400 at once"):
        check_settings(sleep_run("asyncio_to_thread", tasks=1000, ms=1, threads=400), LIMITS, 2)
    check_settings(sleep_run("threads", tasks=1000, ms=1, threads=100), LIMITS, 2)
    check_settings(sleep_run("asyncio_blocking,batch", tasks=1000, ms=1), LIMITS, 2)
    check_settings(sleep_run("asyncio", tasks=300, ms=1), LIMITS, 2)


def test_too_many_repeats() -> None:
    with pytest.raises(InvalidSettings, match=r"^at most 5 repeats here; lower Repeats$"):
        check_settings(sleep_run("batch", ms=1, repeats=6), LIMITS, 2)
    check_settings(sleep_run("batch", ms=1, repeats=5), LIMITS, 2)


def test_response_size_and_disk_caps() -> None:
    big = RunSettings.create("http", tasks=2, modes="asyncio", bytes=32 * 1024 * 1024)
    with pytest.raises(InvalidSettings, match="responses of 32 MiB are over the 16 MiB cap here"):
        check_settings(big, LIMITS, 2)
    many = RunSettings.create("http", tasks=100, modes="asyncio", bytes=16 * 1024 * 1024)
    with pytest.raises(InvalidSettings, match="1,600 MiB of disk; at most 1,024 MiB here"):
        check_settings(many, LIMITS, 2)


def test_public_admission_caps_the_download_body_limit_only_downwards() -> None:
    public = Hosting(public=True, limits=LIMITS, usable_cores=2)
    settings = RunSettings.create("http", tasks=2, modes="asyncio")
    assert settings.max_body_bytes > LIMITS.max_body_bytes
    assert public.admit(settings).max_body_bytes == LIMITS.max_body_bytes
    small = settings.with_changes(max_body_bytes=1000)
    assert public.admit(small) == small
    assert Hosting(public=False, limits=LIMITS, usable_cores=2).admit(settings) == settings
