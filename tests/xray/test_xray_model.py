"""The recording: lossless to JSON and back, and folded correctly from the sampler's chunks."""

from __future__ import annotations

import json

from xray.xray_factories import GIL, IO, ON, SLEEP, recording, relay, thread

from lab.xray.model import Recording, Segment, SwitchCount, ThreadRecord
from lab.xray.protocol import RecordingBuilder


def test_a_recording_survives_json_and_back_unchanged() -> None:
    original = recording(
        *relay((1, 2), start=0.1, holds=5, hold_s=0.005),
        thread(3, [(0.0, 0.25, SLEEP), (0.25, 0.5, IO)], pid=101, switches=(SwitchCount(0.2, 7, 1),)),
        started=0.0,
        ended=0.5,
    )

    assert Recording.from_dict(json.loads(json.dumps(original.to_dict()))) == original


def chunk(mark: list[float], *items: ThreadRecord) -> dict[str, object]:
    return {"event": "chunk", "mark": mark, "threads": [item.to_dict() for item in items]}


def test_segments_cut_at_chunk_edges_are_joined_again_and_switch_counts_kept_in_order() -> None:
    builder = RecordingBuilder(pgid=100, rate_hz=100)
    builder.apply({"event": "started", "pgid": 100, "rate_hz": 200.0, "t": 1.0, "sampler_pid": 5})
    first = thread(7, [(1.0, 1.1, GIL), (1.1, 1.2, ON)], switches=(SwitchCount(1.2, 3, 0),))
    second = thread(7, [(1.2, 1.4, ON)], switches=(SwitchCount(1.4, 4, 2),))
    builder.apply(chunk([1.2, 40, 0.01], first))
    builder.apply(chunk([1.4, 80, 0.02], second))
    builder.apply({"event": "stopped", "t": 1.45, "reason": "stopped"})

    result = builder.recording()
    (merged,) = result.threads
    assert merged.segments == (Segment(1.0, 1.1, GIL), Segment(1.1, 1.4, ON))
    assert merged.switches == (SwitchCount(1.2, 3, 0), SwitchCount(1.4, 4, 2))
    assert (merged.first_seen, merged.last_seen) == (1.0, 1.4)
    assert (result.rate_hz, result.started, result.ended, result.end_reason) == (200.0, 1.0, 1.45, "stopped")
    assert result.sweeps == 80
    assert result.sampler_cpu_s == 0.02


def test_a_recording_without_the_samplers_last_word_says_it_was_lost_or_is_still_running() -> None:
    builder = RecordingBuilder(pgid=100, rate_hz=100)
    builder.apply({"event": "started", "pgid": 100, "rate_hz": 100.0, "t": 1.0, "sampler_pid": 5})
    builder.apply(chunk([1.2, 20, 0.01], thread(7, [(1.0, 1.2, ON)])))

    assert builder.recording().end_reason == "running"
    assert builder.recording("lost").end_reason == "lost"
    assert builder.recording("lost").ended == 1.2


def test_samples_in_a_window_are_interpolated_from_the_samplers_marks() -> None:
    sampled = recording(thread(1, [(0.0, 10.0, ON)]), started=0.0, ended=10.0, rate_hz=100)

    assert sampled.sweeps_between(2.0, 3.0) == 100
    assert sampled.sweeps_between(-5.0, 20.0) == 1000
    assert sampled.sweeps_per_s() == 100
