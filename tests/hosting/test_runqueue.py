"""The host-wide run queue: order, places, leaving, stale tickets, timeouts, other processes."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from lab.core.errors import LabError
from lab.core.procs import child_env
from lab.hosting.runqueue import QueueTimeout, RunQueue, default_queue_dir, process_start


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def queue(tmp_path: Path) -> RunQueue:
    return RunQueue(tmp_path / "queue")


def ticket_files(queue: RunQueue) -> list[str]:
    return sorted(path.name for path in queue.directory.glob("*.ticket"))


def child(code: str, queue: RunQueue) -> subprocess.Popen[str]:
    """A `python -c` child with the queue directory in $1, talking on stdin/stdout."""
    return subprocess.Popen(
        [sys.executable, "-c", code, str(queue.directory)],
        env=child_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


HOLD_IN_CHILD = """
import sys
from lab.hosting.runqueue import RunQueue
ticket = RunQueue(sys.argv[1]).join()
print(ticket.poll(), flush=True)
sys.stdin.read()
ticket.leave()
"""

FLOCK_IN_CHILD = """
import fcntl, os, sys
fd = os.open(os.path.join(sys.argv[1], "run.lock"), os.O_RDWR | os.O_CREAT)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
sys.stdin.read()
"""

DIE_IN_LINE = """
import os, sys
from lab.hosting.runqueue import RunQueue
ticket = RunQueue(sys.argv[1]).join()
print(ticket.poll(), flush=True)
os._exit(0)
"""


def test_places_in_line_and_leaving(queue: RunQueue) -> None:
    first, second, third = queue.join(), queue.join(), queue.join()
    assert (first.poll(), second.poll(), third.poll()) == (0, 1, 2)
    assert first.holding and not second.holding
    assert queue.line_length() == 3
    first.leave()
    assert (second.poll(), third.poll()) == (0, 1)
    third.leave()
    second.leave()
    second.leave()  # idempotent
    assert ticket_files(queue) == []
    assert queue.join().poll() == 0


def test_a_waiter_leaving_frees_its_place(queue: RunQueue) -> None:
    first, second, third = queue.join(), queue.join(), queue.join()
    assert first.poll() == 0
    second.leave()
    assert third.poll() == 1
    with pytest.raises(RuntimeError, match="left the line"):
        second.poll()
    first.leave()
    third.leave()


def test_context_manager_and_garbage_collection_leave_the_line(queue: RunQueue) -> None:
    with queue.join() as ticket:
        assert ticket.poll() == 0
    assert ticket.left and ticket_files(queue) == []
    dropped = queue.join()
    assert dropped.poll() == 0
    del dropped
    gc.collect()
    assert ticket_files(queue) == []
    assert queue.join().poll() == 0


def test_fifo_across_threads(queue: RunQueue) -> None:
    tickets = [queue.join() for _ in range(8)]
    order: list[int] = []
    guard = threading.Lock()
    inside = []

    def run(number: int) -> None:
        ticket = tickets[number]
        while ticket.poll() > 0:
            time.sleep(0.005)
        with guard:
            inside.append(number)
            assert len(inside) == 1, "two tickets held the host at once"
        order.append(number)
        time.sleep(0.01)
        with guard:
            inside.remove(number)
        ticket.leave()

    threads = [threading.Thread(target=run, args=(n,)) for n in reversed(range(8))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert order == list(range(8))


def test_tickets_in_one_process_exclude_each_other_like_processes(queue: RunQueue) -> None:
    holder, waiter = queue.join(), queue.join()
    assert holder.poll() == 0
    holder._hold.path.unlink()  # even out of the line, a held flock keeps the host
    assert waiter.poll() == 1
    holder.leave()
    assert waiter.poll() == 0


def test_timeout_leaves_the_line_with_a_clear_message(tmp_path: Path) -> None:
    clock = FakeClock()
    queue = RunQueue(tmp_path, timeout_s=120, clock=clock)
    tickets = [queue.join() for _ in range(4)]
    assert tickets[0].poll() == 0
    last = tickets[3]
    assert last.poll() == 3 and not last.expired
    clock.now += 119
    assert last.poll() == 3
    clock.now += 1
    assert last.expired
    with pytest.raises(QueueTimeout, match=r"^waited 120 s for 3 runs ahead; try again later$") as caught:
        last.poll()
    assert isinstance(caught.value, LabError)
    assert last.left and len(ticket_files(queue)) == 3
    clock.now += 1000
    assert tickets[0].poll() == 0 and not tickets[0].expired  # the holder never expires


def test_wait_blocks_until_our_turn_and_reports_places(queue: RunQueue) -> None:
    holder = queue.join()
    assert holder.poll() == 0
    places: list[int] = []
    threading.Timer(0.3, holder.leave).start()
    with queue.wait(on_place=places.append, interval_s=0.01) as ticket:
        assert ticket.holding
    assert places == [1]


def test_wait_gives_up_after_the_timeout(tmp_path: Path) -> None:
    queue = RunQueue(tmp_path, timeout_s=0.2)
    holder = queue.join()
    assert holder.poll() == 0
    with pytest.raises(QueueTimeout, match=r"^waited 0\.2 s for 1 run ahead; try again later$"):
        queue.wait(interval_s=0.01)
    assert len(ticket_files(queue)) == 1
    holder.leave()


def test_two_processes_cannot_hold_the_lock_at_once(queue: RunQueue) -> None:
    proc = child(HOLD_IN_CHILD, queue)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "0"
        mine = queue.join()
        for _ in range(3):
            assert mine.poll() == 1
        proc.stdin.close()  # type: ignore[union-attr]
        assert proc.wait(timeout=10) == 0
        assert mine.poll() == 0
        mine.leave()
    finally:
        proc.kill()
        proc.wait()


def test_a_bare_flock_from_another_process_is_respected(queue: RunQueue) -> None:
    proc = child(FLOCK_IN_CHILD, queue)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        ticket = queue.join()
        assert ticket.poll() == 1
        proc.stdin.close()  # type: ignore[union-attr]
        proc.wait(timeout=10)
        assert ticket.poll() == 0
        ticket.leave()
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.parametrize("reap", [True, False], ids=["exited", "zombie"])
def test_tickets_of_dead_processes_are_removed(queue: RunQueue, reap: bool) -> None:
    proc = child(DIE_IN_LINE, queue)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "0"
        if reap:
            proc.wait(timeout=10)
        else:
            deadline = time.monotonic() + 10
            while proc.poll() is None and not is_zombie(proc.pid) and time.monotonic() < deadline:
                time.sleep(0.01)
        assert len(ticket_files(queue)) == 1  # left behind by the dead child
        ticket = queue.join()
        assert ticket.poll() == 0
        assert ticket_files(queue) == [ticket._hold.path.name]
        ticket.leave()
    finally:
        proc.kill()
        proc.wait()


def is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return False


def test_a_reused_pid_does_not_keep_a_dead_ticket(queue: RunQueue) -> None:
    other_start = int(process_start(os.getpid())) + 1
    stale = queue.directory / f"{1:012d}-{os.getpid()}-{other_start}-deadbeef.ticket"
    stale.touch()  # a live pid, but another start time: the process that joined has gone
    ticket = queue.join()
    assert ticket.poll() == 0
    assert not stale.exists()
    ticket.leave()


def test_foreign_files_are_ignored_and_the_counter_recovers(queue: RunQueue) -> None:
    (queue.directory / "notes.ticket").write_text("not a ticket")
    (queue.directory / "seq").write_text("garbage")
    first = queue.join()
    second = queue.join()
    assert second.seq == first.seq + 1
    assert (first.poll(), second.poll()) == (0, 1)
    first.leave()
    second.leave()


def test_queue_directory_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GIL_LAB_QUEUE_DIR", str(tmp_path / "shared"))
    assert default_queue_dir() == tmp_path / "shared"
    assert RunQueue().directory == tmp_path / "shared"
    monkeypatch.delenv("GIL_LAB_QUEUE_DIR")
    assert default_queue_dir().name == f"gil-lab-queue-{os.getuid()}"
