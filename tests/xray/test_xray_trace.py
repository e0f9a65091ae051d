"""The Perfetto (Chrome Trace Event) export: its shape, its clock, and its tracks."""

from __future__ import annotations

import json

from xray.xray_factories import GIL, ON, SLEEP, recording, thread

from lab.xray.trace import STATE_TRACK_OFFSET, TaskSpan, chrome_trace


def example() -> dict[str, object]:
    spans = [
        TaskSpan(100, 1, "task 1", 10.0, 10.4, {"seconds": 0.4}),
        TaskSpan(100, 2, "task 2", 10.1, 10.3),
    ]
    sampled = recording(
        thread(1, [(9.5, 10.2, ON), (10.2, 10.5, GIL)]),
        thread(2, [(9.5, 10.5, SLEEP)]),
        started=9.5,
        ended=10.5,
    )
    return chrome_trace(spans, sampled, process_names={100: "worker"})


def test_the_export_is_a_trace_event_array_that_survives_json() -> None:
    trace = example()
    events = trace["traceEvents"]

    assert isinstance(events, list)
    assert json.loads(json.dumps(trace)) == trace
    for event in events:
        assert event["ph"] in ("M", "X")
        assert isinstance(event["pid"], int) and isinstance(event["tid"], int)
        assert isinstance(event["name"], str)


def test_metadata_comes_first_and_names_every_process_and_track() -> None:
    events = example()["traceEvents"]
    assert isinstance(events, list)
    phases = [event["ph"] for event in events]
    names = {
        (event["pid"], event["tid"]): event["args"]["name"]
        for event in events
        if event["name"] == "thread_name"
    }

    assert phases == sorted(phases, key=lambda phase: phase != "M")
    assert {"name": "process_name", "pid": 100, "tid": 0, "args": {"name": "worker"}, "ph": "M"} in events
    assert names[(100, 1)] == "t1 (tid 1)"
    assert names[(100, 1 + STATE_TRACK_OFFSET)] == "t1 (tid 1) states"


def test_complete_events_are_in_microseconds_from_the_earliest_start_and_sorted() -> None:
    events = example()["traceEvents"]
    assert isinstance(events, list)
    complete = [event for event in events if event["ph"] == "X"]
    task_1 = next(event for event in complete if event["name"] == "task 1")

    assert all(event["ts"] >= 0 and event["dur"] >= 0 for event in complete)
    assert [event["ts"] for event in complete] == sorted(event["ts"] for event in complete)
    assert (task_1["ts"], task_1["dur"], task_1["tid"]) == (500_000.0, 400_000.0, 1)
    assert task_1["args"] == {"seconds": 0.4}


def test_state_segments_go_on_their_own_track_next_to_their_thread() -> None:
    events = example()["traceEvents"]
    assert isinstance(events, list)
    states = [event for event in events if event["ph"] == "X" and event["cat"] == "xray"]

    assert sorted((event["tid"], event["ts"], event["dur"], event["name"]) for event in states) == [
        (1 + STATE_TRACK_OFFSET, 0.0, 700_000.0, "on_cpu"),
        (1 + STATE_TRACK_OFFSET, 700_000.0, 300_000.0, "gil_or_lock"),
        (2 + STATE_TRACK_OFFSET, 0.0, 1_000_000.0, "sleep"),
    ]


def test_nothing_to_export_gives_an_empty_trace() -> None:
    assert chrome_trace()["traceEvents"] == []
