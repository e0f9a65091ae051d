"""Where a link leads: today's paths stay, older share links and paths reach the place they meant."""

from __future__ import annotations

import pytest

from lab.app.places import PLACE_NAMES, PLACES, destination
from lab.catalog import LABS


def test_every_place_but_the_cpu_and_io_pair_is_named_after_its_lab() -> None:
    assert set(PLACE_NAMES) - {"cpu", "io", "runs"} <= set(LABS)
    assert len(set(PLACE_NAMES)) == len(PLACES)


@pytest.mark.parametrize(
    ("path", "params", "where"),
    [
        ("", {}, None),  # the front page itself
        ("cpu", {"workload": "sleep"}, None),  # a place's own link stays where it is
        ("sweep", {"workers": "1,2"}, None),
        ("scaling", {"workers": "1,2"}, "sweep"),  # the path the Scaling view had before
        ("", {"workload": "squares", "tasks": "4"}, "cpu"),  # the CPU-bound lab once lived at /
        ("", {"workload": "sleep"}, "io"),
        ("", {"tasks": "4"}, "cpu"),
        ("", {"lab": "web", "clients": "10"}, "web"),
        ("", {"lab": "scaling"}, "sweep"),
        ("", {"lab": "nonsense", "workload": "http"}, "io"),
        ("", {"workload": "mining"}, "cpu"),
        ("", {"run": "AbC123"}, None),  # a permalink: the front page opens it where it belongs
    ],
)
def test_a_link_leads_to_the_place_it_meant(path: str, params: dict[str, str], where: str | None) -> None:
    assert destination(path, params) == where
