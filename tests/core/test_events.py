"""The event pipe, both ends: what a child emits arrives whole, in order, apart from its stdout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from lab.core.events import PIPE_BYTES, READ_BYTES, EventReader, EventWriter, open_pipe
from lab.core.procs import end_process_group, start_child

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


@pytest.fixture
def pipe() -> Iterator[tuple[EventReader, EventWriter]]:
    """Both ends in this process: a reader on the read end, a writer on the write end."""
    read_fd, write_fd = open_pipe()
    reader = EventReader(read_fd)
    stream = os.fdopen(write_fd, "w")
    yield reader, EventWriter(stream)
    reader.close()
    if not stream.closed:
        stream.close()


def read_until(reader: EventReader, count: int, timeout_s: float = 10.0) -> list[dict[str, object]]:
    events: list[dict[str, object]] = []
    deadline = time.monotonic() + timeout_s
    while len(events) < count and not reader.ended and time.monotonic() < deadline:
        events += reader.read(0.1)
    return events


def test_emitted_events_arrive_as_objects_in_order(pipe: tuple[EventReader, EventWriter]) -> None:
    reader, writer = pipe
    writer.emit("started", pid=12, modes=["threads", "processes"])
    writer.emit("task_done", index=0, seconds=0.25, note="ünïcode\nand a newline")
    writer.emit("done")
    assert read_until(reader, 3) == [
        {"event": "started", "pid": 12, "modes": ["threads", "processes"]},
        {"event": "task_done", "index": 0, "seconds": 0.25, "note": "ünïcode\nand a newline"},
        {"event": "done"},
    ]


def test_each_event_is_one_compact_line(pipe: tuple[EventReader, EventWriter]) -> None:
    reader, writer = pipe
    writer.emit("task_done", index=1, tags=["a", "b"])
    raw = os.read(reader.fd, 1000)
    assert raw == b'{"event":"task_done","index":1,"tags":["a","b"]}\n'


def test_a_line_split_across_reads_is_held_back_until_it_is_whole(
    pipe: tuple[EventReader, EventWriter],
) -> None:
    reader, writer = pipe
    line = json.dumps({"event": "progress", "done": 3}).encode()
    writer.stream.write(line[:9].decode())
    writer.stream.flush()
    assert reader.read(1.0) == []
    writer.stream.write(line[9:].decode() + "\n")
    writer.stream.flush()
    assert reader.read(1.0) == [{"event": "progress", "done": 3}]


def test_a_reader_with_nothing_to_read_returns_within_its_timeout(
    pipe: tuple[EventReader, EventWriter],
) -> None:
    reader, _ = pipe
    started = time.monotonic()
    assert reader.read(0.05) == []
    assert time.monotonic() - started < 2.0  # generous: a busy machine may be slow to wake us
    assert not reader.ended


def test_the_reader_sees_the_end_once_the_writer_closes_and_then_reads_nothing(
    pipe: tuple[EventReader, EventWriter],
) -> None:
    reader, writer = pipe
    writer.emit("done")
    writer.stream.close()
    assert read_until(reader, 2) == [{"event": "done"}]
    assert reader.ended
    assert reader.read(0.01) == []


def test_closing_the_reader_twice_is_harmless_and_ends_it(pipe: tuple[EventReader, EventWriter]) -> None:
    reader, _ = pipe
    reader.close()
    reader.close()
    assert reader.ended and reader.read(0.01) == []


def test_many_threads_emitting_at_once_never_interleave_their_lines(
    pipe: tuple[EventReader, EventWriter],
) -> None:
    reader, writer = pipe
    padding = "x" * 300  # long lines make a torn write likely if writes were not locked

    def emit_many(thread: int) -> None:
        for index in range(200):
            writer.emit("task_done", thread=thread, index=index, padding=padding)

    threads = [threading.Thread(target=emit_many, args=(number,)) for number in range(8)]
    events: list[dict[str, object]] = []
    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads):
        events += reader.read(0.05)
    events += read_until(reader, 1600 - len(events))
    assert len(events) == 1600
    for number in range(8):
        assert [event["index"] for event in events if event["thread"] == number] == list(range(200))


@pytest.mark.skipif(not hasattr(fcntl, "F_GETPIPE_SZ"), reason="only Linux can widen a pipe")
def test_the_pipe_is_widened_and_a_burst_is_drained_in_one_read() -> None:
    read_fd, write_fd = open_pipe()
    reader = EventReader(read_fd)
    try:
        assert fcntl.fcntl(write_fd, fcntl.F_GETPIPE_SZ) >= min(PIPE_BYTES, 1 << 20)
        with os.fdopen(write_fd, "w") as stream:
            writer = EventWriter(stream)
            count = 4 * READ_BYTES // 100  # a burst four times larger than one os.read
            for index in range(count):
                writer.emit("task_done", index=index, padding="y" * 60)
            assert [event["index"] for event in reader.read(1.0)] == list(range(count))
    finally:
        reader.close()


def test_a_child_process_writes_events_on_its_pipe_and_what_it_prints_stays_out_of_them() -> None:
    read_fd, write_fd = open_pipe()
    child_code = (
        "import os, sys\n"
        "from lab.core.events import EventWriter\n"
        "print('a line on stdout that looks like', '{\"event\": \"fake\"}', flush=True)\n"
        "writer = EventWriter(os.fdopen(int(sys.argv[1]), 'w'))\n"
        "writer.emit('started', pid=os.getpid())\n"
        "writer.emit('done', ok=True)\n"
    )
    child = start_child(
        [sys.executable, "-c", child_code, str(write_fd)], pass_fds=(write_fd,), stdout=subprocess.PIPE
    )
    os.close(write_fd)
    reader = EventReader(read_fd)
    try:
        events = read_until(reader, 3)
        assert events == [{"event": "started", "pid": child.pid}, {"event": "done", "ok": True}]
        assert reader.ended
        assert child.wait(timeout=10) == 0
        assert child.stdout is not None
        assert child.stdout.read().startswith(b"a line on stdout")
    finally:
        reader.close()
        end_process_group(child)
