"""The convoy lab's report: the takeaway tells the story in the run's own numbers; the table."""

from __future__ import annotations

import re

from convoy.convoy_factories import synthetic

from lab.convoy.report import takeaway, to_table


def test_the_takeaway_of_a_gil_run_tells_the_convoy_story_in_its_numbers() -> None:
    lines = takeaway(synthetic())
    text = "\n".join(lines)
    assert lines[0].startswith("With no CPU thread the probe answered at once: 0.10 ms")
    assert "about one switch interval" in lines[1]
    assert re.search(r"median 5\.\d\d ms at 5 ms \(1\.0×\), 20 ms at 20 ms \(1\.0×\)", lines[1]), lines[1]
    assert lines[2].startswith("More CPU threads made the tail worse: at 20 ms, with 2 CPU threads")
    assert "FastAPI `def` endpoint" in text and "free-threaded build without the GIL" in text
    assert "fewer than 100 pings" in text


def test_the_takeaway_without_the_gil_says_the_probe_did_not_queue() -> None:
    lines = takeaway(synthetic(gil=False))
    assert lines[1].startswith("With the GIL off the probe did not queue") and "2 CPU threads" in lines[1]
    assert "usable cores" in lines[1]  # two CPU threads on two cores: the scheduler shares them
    assert not any("More CPU threads" in line for line in lines)


def test_the_table_has_one_line_per_point_then_the_takeaway() -> None:
    text = to_table(synthetic())
    assert text.startswith("GIL Lab convoy: CPU threads 0, 1, 2 × switch interval 5, 20 ms, 1 s per point")
    assert "Takeaway:" in text and "probe GIL wait" in text
    table = text.split("\n\n")[1].splitlines()
    assert len(table) == 1 + 6
