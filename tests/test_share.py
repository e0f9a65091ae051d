"""Share links: any query string gives valid settings, and a notice for what it changed."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from lab.settings import MODES
from lab.share import SIZE_CHOICES, Controls, PageSettings, link_params, read_link

CONTROLS = Controls()


def test_a_link_round_trips() -> None:
    page = PageSettings(
        "sleep", tasks=5, size=50, workers=3, threads=4, modes=("batch", "threads"), repeats=2
    )
    again, notices = read_link(link_params(page), CONTROLS, 2)
    assert notices == []
    assert again == page


def test_http_links_keep_url_and_latency() -> None:
    page = PageSettings(
        "http", tasks=3, size=1, url="https://example.com/a", latency_ms=50, modes=("threads",)
    )
    again, notices = read_link(link_params(page), CONTROLS, 2)
    assert notices == [] and again == page


def test_an_empty_link_gives_the_defaults() -> None:
    page, notices = read_link({}, CONTROLS, 2)
    assert notices == []
    assert (page.workload, page.tasks, page.size, page.modes) == (
        "squares",
        8,
        3_000_000,
        ("batch", "threads", "processes"),
    )


def test_out_of_range_and_malformed_values_are_clamped_or_ignored_with_notices() -> None:
    params = {
        "workload": "squares",
        "tasks": "99999",
        "size": "-5",
        "workers": "abc",
        "threads": "-1",
        "repeats": "1e9",
        "modes": "warp,threads",
        "url": "file:///etc/passwd",
        "start_method": "vfork",
        "evil": "<script>",
    }
    page, notices = read_link(params, CONTROLS, 2)
    assert page.tasks == CONTROLS.tasks.high
    assert page.size == SIZE_CHOICES["squares"][0]
    assert page.workers == 2 and page.threads == 0 and page.repeats == 1
    assert page.modes == ("threads",)
    assert page.url == "" and page.start_method == ""
    assert len(notices) == 8
    assert all("\n" not in notice for notice in notices)


def test_an_unknown_workload_falls_back_with_a_notice() -> None:
    page, notices = read_link({"workload": "bitcoin"}, CONTROLS, 2)
    assert page.workload == "squares"
    assert "unknown workload" in notices[0]


def test_sizes_snap_to_the_offered_log_scale() -> None:
    page, notices = read_link({"workload": "squares", "size": "2500000"}, CONTROLS, 2)
    assert page.size == 3_000_000
    assert "nearest" in notices[0]


@given(
    st.dictionaries(
        st.sampled_from([*sorted(link_params(PageSettings()).keys()), "url", "x"]), st.text(max_size=60)
    )
)
def test_any_link_reads_into_settings_the_engine_accepts(params: dict[str, str]) -> None:
    page, notices = read_link(params, CONTROLS, 2)
    assert all(mode in MODES for mode in page.modes) and page.modes
    page.run_settings()
    assert all(isinstance(notice, str) for notice in notices)
