"""Web-lab settings: one validator for CLI and page, and the theoretical ceilings."""

from __future__ import annotations

import pytest

from lab.core.errors import InvalidSettings
from lab.web.settings import DEFAULT_DURATION_S, ENDPOINTS, REQUEST_MODE_LIMIT_S, WebSettings


def test_defaults_load_every_endpoint_for_a_few_seconds() -> None:
    settings = WebSettings.create()
    assert settings.endpoints == tuple(ENDPOINTS)
    assert (settings.clients, settings.latency_ms, settings.threadpool, settings.server_workers) == (
        100,
        200,
        40,
        1,
    )
    assert settings.duration_s == DEFAULT_DURATION_S and settings.requests is None
    assert settings.window_s == DEFAULT_DURATION_S


def test_strings_from_the_cli_and_form_fields_parse() -> None:
    settings = WebSettings.create(
        endpoints=" async_wait, def_wait,async_wait ", clients="1,000", duration="1.5", latency_ms="50"
    )
    assert settings.endpoints == ("async_wait", "def_wait")
    assert (settings.clients, settings.duration_s, settings.latency_ms) == (1000, 1.5, 50)
    assert WebSettings.create(endpoints="", duration="").endpoints == tuple(ENDPOINTS)


def test_a_request_count_replaces_the_duration_and_is_capped_in_time() -> None:
    settings = WebSettings.create(requests="500")
    assert (settings.requests, settings.duration_s, settings.window_s) == (500, None, REQUEST_MODE_LIMIT_S)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"endpoints": "def_wait,nope"}, "unknown endpoint 'nope'"),
        ({"endpoints": ","}, "choose at least one endpoint"),
        ({"clients": 0}, "--clients must be between 1"),
        ({"clients": "many"}, "--clients must be a whole number"),
        ({"requests": 10, "duration": 2}, "give --requests or --duration, not both"),
        ({"duration": 0}, "--duration must be between 0 and"),
        ({"duration": 61}, "--duration must be at most 60 seconds"),
        ({"latency_ms": -1}, "--latency-ms must be between 0"),
        ({"threadpool": 0}, "--threadpool must be between 1"),
        ({"server_workers": 33}, "--server-workers must be between 1 and 32"),
        ({"size": 0}, "--size must be between 1"),
    ],
)
def test_bad_values_give_one_line_a_person_can_act_on(changes: dict, message: str) -> None:
    with pytest.raises(InvalidSettings) as caught:
        WebSettings.create(**changes)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_settings_round_trip_through_a_dict() -> None:
    for settings in (
        WebSettings.create(
            endpoints="def_cpu", clients=7, requests=30, size=1234, threadpool=3, server_workers=2
        ),
        WebSettings.create(duration=0.5, latency_ms=0),
    ):
        assert WebSettings.from_dict(settings.to_dict()) == settings


def test_wait_ceilings_count_the_requests_that_can_wait_at_once() -> None:
    settings = WebSettings.create(clients=100, latency_ms=200, threadpool=40)
    assert settings.ceiling("async_wait", None, 2.0) == pytest.approx(500)
    assert settings.ceiling("def_wait", None, 2.0) == pytest.approx(200)
    assert settings.ceiling("async_blocking", None, 2.0) == pytest.approx(5)
    wide = WebSettings.create(clients=100, latency_ms=200, threadpool=500, server_workers=3)
    assert wide.ceiling("def_wait", None, 2.0) == pytest.approx(500)  # never above one thread per client
    assert wide.ceiling("async_blocking", None, 2.0) == pytest.approx(15)  # one loop per worker process
    assert WebSettings.create(latency_ms=0).ceiling("async_wait", None, 2.0) is None


def test_cpu_ceilings_are_one_core_per_worker_process_up_to_the_usable_cores() -> None:
    one = WebSettings.create(server_workers=1)
    four = WebSettings.create(server_workers=4)
    assert one.ceiling("def_cpu", 20.0, 2.0) == pytest.approx(20)
    assert one.ceiling("async_cpu", 20.0, 2.0) == pytest.approx(20)
    assert four.ceiling("async_cpu", 20.0, 2.0) == pytest.approx(40)
    assert four.ceiling("async_cpu", 20.0, 1.5) == pytest.approx(30)
    assert WebSettings.create(clients=1, server_workers=4).ceiling("def_cpu", 20.0, 8.0) == pytest.approx(20)
    assert one.ceiling("def_cpu", None, 2.0) is None


def test_the_probe_runs_beside_loads_that_can_starve_the_event_loop() -> None:
    probed = {name for name, endpoint in ENDPOINTS.items() if endpoint.probed}
    assert probed == {"async_blocking", "def_cpu", "async_cpu"}
