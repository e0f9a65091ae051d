"""Share links: any query string gives valid settings, and a notice for what it changed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lab.app.form import Controls, RunForm
from lab.app.links import decode_code, encode_code, link_params, read_link
from lab.engine.settings import MODES
from lab.engine.workloads import WORKLOADS

SIZE_CHOICES = {name: info.size_choices for name, info in WORKLOADS.items()}

CONTROLS = Controls()


def test_a_link_round_trips() -> None:
    page = RunForm("sleep", tasks=5, size=50, workers=3, threads=4, modes=("batch", "threads"), repeats=2)
    again, notices = read_link(link_params(page)[0], CONTROLS, 2)
    assert notices == []
    assert again == page


def test_http_links_keep_url_and_latency() -> None:
    page = RunForm("http", tasks=3, size=1, url="https://example.com/a", latency_ms=50, modes=("threads",))
    again, notices = read_link(link_params(page)[0], CONTROLS, 2)
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
        st.sampled_from([*sorted(link_params(RunForm())[0].keys()), "url", "x"]), st.text(max_size=60)
    )
)
def test_any_link_reads_into_settings_the_engine_accepts(params: dict[str, str]) -> None:
    page, notices = read_link(params, CONTROLS, 2)
    assert all(mode in MODES for mode in page.modes) and page.modes
    page.run_settings()
    assert all(isinstance(notice, str) for notice in notices)


PYTHONS = ("3.11", "3.13", "3.13t")


def test_an_interpreter_link_round_trips_by_name_with_its_gil_switch_and_the_xray() -> None:
    page = RunForm("squares", python="3.13t", gil="off", xray=True, switch_interval_ms=1.0)
    again, notices = read_link(link_params(page)[0], CONTROLS, 2, pythons=PYTHONS)
    assert notices == [] and again == page


def test_a_link_naming_an_interpreter_by_path_is_refused_with_a_notice() -> None:
    page, notices = read_link({"python": "/usr/bin/python3"}, CONTROLS, 2, pythons=PYTHONS)
    assert page.python == "" and "never by path" in notices[0]
    page, notices = read_link({"python": "2.7"}, CONTROLS, 2, pythons=PYTHONS)
    assert page.python == "" and "no such interpreter" in notices[0]


def test_a_switch_interval_outside_the_offered_values_is_ignored() -> None:
    page, notices = read_link({"switch_interval_ms": "0.0001"}, CONTROLS, 2)
    assert page.switch_interval_ms == 0.0 and len(notices) == 1


CODE = "def work(n):\n    return sum(i * i for i in range(n))\n"


def test_short_code_travels_in_the_link_compressed() -> None:
    page = RunForm("function", code=CODE, function="work", args="[1000]")
    params, notices = link_params(page)
    assert notices == [] and "code" in params and len(params["code"]) < len(CODE) * 2
    again, read_notices = read_link(params, CONTROLS, 2)
    assert read_notices == [] and (again.code, again.function, again.args) == (CODE, "work", "[1000]")


def test_long_code_leaves_the_link_with_a_notice() -> None:
    code = "".join(f"def f{i}():\n    return {i * 7919 % 10007}\n" for i in range(400))
    params, notices = link_params(RunForm("function", code=code))
    assert "code" not in params and "too long for a share link" in notices[0]
    assert encode_code(code) is None


def test_a_public_page_ignores_a_links_code() -> None:
    params, _ = link_params(RunForm("function", code=CODE))
    page, notices = read_link(params, CONTROLS, 2, allow_code=False)
    assert page.workload == "squares" and page.code == ""
    assert any(
        "never runs visitors' code" in notice or "does not run visitors' code" in notice for notice in notices
    )


def test_code_that_expands_too_far_or_is_not_ours_is_refused() -> None:
    import base64
    import zlib

    bomb = base64.urlsafe_b64encode(zlib.compress(b"#" * 10_000_000, 9)).decode().rstrip("=")
    with pytest.raises(ValueError, match=r"expands too far|too long"):
        decode_code(bomb)
    for junk in ("%%%", "AAAA", "x" * 3000):
        with pytest.raises(ValueError):
            decode_code(junk)
    page, notices = read_link({"workload": "function", "code": "AAAA"}, CONTROLS, 2)
    assert page.code == "" and "ignored the link's code" in notices[0]
