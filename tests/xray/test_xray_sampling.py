"""The sampler, run against a real process with threads in known states."""

from __future__ import annotations

import pytest
from timing_tries import until_good
from xray.xray_helpers import dominant_states, figures_of, record, target

from lab.xray.figures import ThreadFigures
from lab.xray.states import ThreadState

pytestmark = pytest.mark.slow  # real runs in child processes: the full tier, not `make check`


def test_each_blocked_thread_is_seen_in_the_state_it_is_known_to_be_in() -> None:
    with target("states") as states:
        recording = record(states.pgid, seconds=1.5)
    figures = figures_of(recording, states.threads)
    shares = {thread.worker: thread for thread in figures.threads}
    dominant = dominant_states(figures)

    assert {label: dominant[label] for label in ("sleeper", "udp", "lock_holder", "lock_waiter")} == {
        "sleeper": ThreadState.SLEEP,
        "udp": ThreadState.IO,
        "lock_holder": ThreadState.SLEEP,
        "lock_waiter": ThreadState.GIL_OR_LOCK,
    }
    assert shares["sleeper"].sleep > 0.9
    assert shares["udp"].io > 0.9
    assert shares["lock_waiter"].gil_or_lock > 0.9
    assert shares["spinner"].on_cpu + shares["spinner"].waiting_for_core > 0.9  # runnable, whatever the load


@pytest.mark.timing
def test_a_pure_python_thread_with_the_gil_to_itself_is_mostly_on_a_cpu() -> None:
    def spinner_shares() -> ThreadFigures:
        with target("states") as states:
            recording = record(states.pgid, seconds=1.0)
        return next(
            thread for thread in figures_of(recording, states.threads).threads if thread.worker == "spinner"
        )

    tries = until_good(
        spinner_shares, lambda spinner: max(ThreadState, key=spinner.share) == ThreadState.ON_CPU
    )

    assert max(ThreadState, key=tries[-1].share) == ThreadState.ON_CPU, [t.on_cpu for t in tries]


def test_threads_outside_the_mapping_are_reported_apart_as_not_task_threads() -> None:
    with target("states") as states:
        recording = record(states.pgid, seconds=0.6)
    main_thread = (states.pgid, states.pgid)
    figures = figures_of(recording, {"spinner": states.threads["spinner"]})

    assert [thread.worker for thread in figures.threads] == ["spinner"]
    others = {(thread.pid, thread.tid): thread for thread in figures.others}
    assert main_thread in others
    assert not others[main_thread].task
    assert others[main_thread].gil_or_lock > 0.9  # the main thread waits on an Event: a futex


def test_the_recording_has_the_rate_it_was_asked_for_and_counts_its_samples() -> None:
    with target("nappers", "1", "0.01") as nappers:
        recording = record(nappers.pgid, seconds=1.2, rate_hz=100)
    figures = figures_of(recording, nappers.threads)
    window = figures.t1 - figures.t0

    assert recording.rate_hz == 100
    assert 50 < recording.sweeps_per_s() <= 105
    assert 0.5 * window * 100 < figures.samples <= window * 100 + 2
    assert 50 < figures.rate_hz <= 105


def test_processes_that_join_the_group_while_it_is_sampled_are_found() -> None:
    with target("children", "2", "1.0") as children:
        recording = record(children.pgid, seconds=2.0)
    children_seen = {thread.pid for thread in recording.threads} - {children.pgid}

    assert len(children_seen) == 2
    assert all(
        thread.first_seen > recording.started for thread in recording.threads if thread.pid != children.pgid
    )


def test_threads_that_end_while_sampled_end_in_the_recording_too() -> None:
    with target("churn", "0.05") as churn:
        recording = record(churn.pgid, seconds=1.0)
    long_lived = {churn.threads["starter"], (churn.pgid, churn.pgid)}
    short_lived = [thread for thread in recording.threads if thread.key not in long_lived]
    ended = [thread for thread in short_lived if thread.last_seen < recording.ended - 0.1]
    period = 1 / recording.rate_hz

    assert len(ended) >= 4  # about one every 50 ms; the sampler lists threads every 20 ms
    for thread in ended:
        assert thread.last_seen - thread.first_seen < 0.5
        assert thread.segments[-1].end <= thread.last_seen + 3 * period + 0.05  # closed when it was missed
