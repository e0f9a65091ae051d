"""Reading /proc: parsing, open files that outlive their thread, and finding a group's processes."""

from __future__ import annotations

import os
import threading
import time

from xray.xray_helpers import target

from lab.xray.procfs import GroupWatch, TaskFiles, parse_stat, process_stat, scan_group


def test_a_stat_line_is_parsed_even_when_the_name_holds_spaces_and_parentheses() -> None:
    line = b"4242 (odd) name (x)) S 1 4200 4200 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 1 0 0\n"
    stat = parse_stat(line)
    assert (stat.state, stat.name, stat.pgrp) == ("S", "odd) name (x)", 4200)


def sleeps_on_a_futex(files: TaskFiles) -> bool:
    stat, wchan = files.stat(), files.wchan() or b""
    return stat is not None and stat.state == "S" and wchan.startswith(b"futex_")


def test_the_files_of_a_waiting_thread_say_it_waits_and_say_nothing_once_it_has_ended() -> None:
    release = threading.Event()
    thread = threading.Thread(target=release.wait, name="waiter")
    thread.start()
    assert thread.native_id is not None
    files = TaskFiles.open(os.getpid(), thread.native_id)
    assert files is not None
    try:
        deadline = time.monotonic() + 5
        while not sleeps_on_a_futex(files):  # it may still be starting, or running for a moment
            assert time.monotonic() < deadline, "the thread never showed as sleeping on a futex"
            time.sleep(0.01)
        stat = files.stat()
        assert stat is not None and stat.pgrp == os.getpgid(0)
        switches = files.switches()
        assert switches is not None and switches[0] >= 1
        schedstat = files.schedstat()
        assert schedstat is not None and schedstat[0] > 0

        release.set()
        thread.join()
        # join() returns once Python is done with the thread; the kernel may take a moment more.
        deadline = time.monotonic() + 5
        while files.state_letter() is not None:
            assert time.monotonic() < deadline, "the ended thread's files still read as a live thread"
            time.sleep(0.01)

        assert files.state_letter() is None
        assert files.wchan() is None
        assert files.schedstat() is None
        assert files.switches() is None
    finally:
        files.close()


def test_a_thread_that_does_not_exist_has_no_files() -> None:
    assert TaskFiles.open(os.getpid(), 2**22 + 1) is None


def test_a_full_scan_finds_this_process_in_its_own_group() -> None:
    assert os.getpid() in scan_group(os.getpgid(0))


def test_new_members_are_found_as_children_without_a_full_scan() -> None:
    with target("children", "2", "0.5") as children:
        watch = GroupWatch(children.pgid)
        assert watch.refresh(full=True) == {children.pgid}
        deadline = time.monotonic() + 10
        while len(watch.refresh(full=False)) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        members = watch.members
        stats = [process_stat(pid) for pid in members]

    assert len(members) == 3
    assert all(stat is not None and stat.pgrp == children.pgid for stat in stats)
