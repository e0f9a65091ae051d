"""Cluster settings: layouts, scheduler addresses, defaults, the budget and public mode's rules."""

from __future__ import annotations

import pytest

from lab.cluster.settings import ClusterLayout, ClusterSettings, configured_scheduler, scheduler_address
from lab.core import config
from lab.core.errors import InvalidSettings, OverBudget
from lab.hosting.admission import Hosting
from lab.hosting.limits import Limits

PUBLIC = Hosting(public=True, limits=Limits(), usable_cores=2.0)
PRIVATE = Hosting(public=False, limits=Limits(), usable_cores=2.0)


def test_layouts_parse_in_order_once_each() -> None:
    settings = ClusterSettings.create("squares", layouts="2x1, 1x2,2x1,1X1")
    assert settings.layout_names == ("2x1", "1x2", "1x1")
    assert [(layout.workers, layout.threads_per_worker) for layout in settings.layouts] == [
        (2, 1),
        (1, 2),
        (1, 1),
    ]


def test_the_defaults_are_eight_tasks_on_1x1_1x2_2x1() -> None:
    settings = ClusterSettings.create("squares")
    assert (settings.tasks, settings.size, settings.repeats) == (8, 3_000_000, 1)
    assert settings.layout_names == ("1x1", "1x2", "2x1")
    assert settings.scheduler is None and settings.positions == 3


@pytest.mark.parametrize("text", ["2by1", "x1", "0x1", "1x0", "17x1", "1x65", "2x1x1", ""])
def test_a_malformed_layout_is_refused_in_one_line(text: str) -> None:
    with pytest.raises(InvalidSettings) as error:
        ClusterSettings.create("squares", layouts=text or ",")
    assert "\n" not in str(error.value) and "layout" in str(error.value)


def test_at_most_eight_layouts_run_at_once() -> None:
    with pytest.raises(InvalidSettings, match="at most 8 layouts"):
        ClusterSettings.create("squares", layouts=",".join(f"1x{threads}" for threads in range(1, 10)))


def test_a_layout_read_from_a_scheduler_may_mix_thread_counts() -> None:
    mixed = ClusterLayout((1, 2))
    assert (mixed.name, mixed.threads_per_worker, mixed.slots) == ("1+2", None, 3)
    assert mixed.describe() == "2 workers with 1+2 threads"
    assert ClusterLayout.uniform(2, 1).describe() == "2 workers × 1 thread"
    assert ClusterLayout.from_dict(mixed.to_dict()) == mixed


@pytest.mark.parametrize(
    ("given", "normal"),
    [
        ("tcp://127.0.0.1:8786", "tcp://127.0.0.1:8786"),
        ("127.0.0.1:8786", "tcp://127.0.0.1:8786"),
        (" scheduler.example:9000 ", "tcp://scheduler.example:9000"),
        ("tcp://[::1]:8786", "tcp://[::1]:8786"),
    ],
)
def test_scheduler_addresses_are_written_as_tcp_host_port(given: str, normal: str) -> None:
    assert scheduler_address(given) == normal


@pytest.mark.parametrize(
    "given",
    ["http://127.0.0.1:8786", "tls://127.0.0.1:8786", "127.0.0.1", "tcp://127.0.0.1:0", "h:70000", "h:1/x"],
)
def test_a_malformed_scheduler_address_is_invalid_settings(given: str) -> None:
    with pytest.raises(InvalidSettings, match="tcp://HOST:PORT"):
        ClusterSettings.create("squares", scheduler=given)


def test_a_scheduler_run_has_no_layouts_and_refuses_them() -> None:
    settings = ClusterSettings.create("squares", scheduler="127.0.0.1:8786")
    assert settings.layouts == () and settings.positions == 1
    with pytest.raises(InvalidSettings, match="--layouts does not apply with --scheduler"):
        ClusterSettings.create("squares", scheduler="127.0.0.1:8786", layouts="1x1")


@pytest.mark.parametrize("workload", ["http", "function", "nope"])
def test_only_the_workloads_a_dask_task_can_run_are_offered(workload: str) -> None:
    with pytest.raises(InvalidSettings, match="squares, sha256, sleep"):
        ClusterSettings.create(workload)


def test_settings_survive_their_dict_form() -> None:
    for settings in (
        ClusterSettings.create("sha256", tasks=4, size=1 << 20, layouts="1x2,2x1", repeats=3),
        ClusterSettings.create("sleep", scheduler="tcp://127.0.0.1:8786"),
    ):
        assert ClusterSettings.from_dict(settings.to_dict()) == settings


def test_the_estimate_charges_pure_python_threads_as_one_core_and_processes_as_more() -> None:
    def work(layouts: str) -> float:
        settings = ClusterSettings.create("squares", tasks=8, size=10_000_000, layouts=layouts)
        return settings.cost(2.0)

    assert work("1x2") > work("2x1") + 2  # 8 x 0.8 s on one GIL vs on two
    released = ClusterSettings.create("sha256", tasks=8, size=256 << 20, layouts="1x2")
    assert released.cost(2.0) < ClusterSettings.create("sha256", tasks=8, size=256 << 20, layouts="1x1").cost(
        2.0
    )


def test_a_private_host_admits_any_scheduler() -> None:
    settings = ClusterSettings.create("squares", scheduler="tcp://10.1.2.3:8786")
    assert PRIVATE.admit(settings) == settings


def test_public_mode_refuses_a_scheduler_a_visitor_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(config.DASK_SCHEDULER, raising=False)
    with pytest.raises(InvalidSettings, match="connects to no scheduler a visitor names"):
        PUBLIC.admit(ClusterSettings.create("squares", tasks=2, size=10_000, scheduler="tcp://10.1.2.3:8786"))


def test_public_mode_runs_on_the_hosts_own_scheduler(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(config.DASK_SCHEDULER, "10.1.2.3:8786")
    own = ClusterSettings.create("squares", tasks=2, size=10_000, scheduler=configured_scheduler())
    assert PUBLIC.admit(own).scheduler == "tcp://10.1.2.3:8786"
    with pytest.raises(InvalidSettings, match="choose this host's cluster instead"):
        PUBLIC.admit(ClusterSettings.create("squares", tasks=2, size=10_000, scheduler="tcp://10.9.9.9:1"))


def test_a_malformed_host_scheduler_is_reported_as_the_hosts_to_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(config.DASK_SCHEDULER, "http://oops")
    with pytest.raises(InvalidSettings, match="GIL_LAB_DASK_SCHEDULER"):
        configured_scheduler()


def test_public_mode_counts_each_layouts_processes_against_the_cap() -> None:
    with pytest.raises(InvalidSettings, match="layout 4x1 starts 4 worker processes; at most 2"):
        PUBLIC.admit(ClusterSettings.create("sleep", tasks=2, size=10, layouts="1x1,4x1"))
    assert PUBLIC.admit(ClusterSettings.create("sleep", tasks=2, size=10, layouts="1x4,2x2"))


def test_public_mode_refuses_a_run_over_the_work_budget() -> None:
    with pytest.raises(OverBudget, match="lower Task count, Workload size, layouts or Repeats"):
        PUBLIC.admit(ClusterSettings.create("squares", tasks=64, size=30_000_000))
    with pytest.raises(InvalidSettings, match="at most 5 repeats"):
        PUBLIC.admit(ClusterSettings.create("sleep", tasks=1, size=10, repeats=6))
