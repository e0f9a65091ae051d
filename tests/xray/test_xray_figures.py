"""The figures of a window, on recordings whose answers are known in advance."""

from __future__ import annotations

import pytest
from xray.xray_factories import GIL, IO, ON, QUEUED, SLEEP, recording, relay, thread

from lab.xray.figures import OnCpuStep, window_figures
from lab.xray.model import Segment, SwitchCount
from lab.xray.states import ThreadState


def test_shares_are_the_time_in_each_state_within_the_window_and_sum_to_one() -> None:
    worker = thread(1, [(0.0, 4.0, ON), (4.0, 6.0, GIL), (6.0, 10.0, IO)])
    figures = window_figures(recording(worker), 2.0, 8.0, {(100, 1): "thread-1"})
    (only,) = figures.threads

    assert (only.on_cpu, only.gil_or_lock, only.io) == pytest.approx((1 / 3, 1 / 3, 1 / 3))
    assert sum(only.share(state) for state in ThreadState) == pytest.approx(1.0)
    assert only.segments == (Segment(2.0, 4.0, ON), Segment(4.0, 6.0, GIL), Segment(6.0, 8.0, IO))
    assert only.worker == "thread-1" and only.task


def test_two_threads_relaying_the_gil_are_on_a_cpu_one_at_a_time_and_hand_off_at_each_turn() -> None:
    threads = relay((1, 2), start=0.0, holds=100, hold_s=0.01)
    figures = window_figures(recording(*threads, ended=1.0), 0.0, 1.0, {(100, 1): "a", (100, 2): "b"})

    assert figures.mean_on_cpu == pytest.approx(1.0)
    assert figures.handoffs_per_s == pytest.approx(99)
    assert [thread.on_cpu for thread in figures.threads] == pytest.approx([0.5, 0.5])


def test_threads_that_never_wait_on_a_futex_hand_nothing_over() -> None:
    io_bound = thread(1, [(0.0, 0.1, IO), (0.1, 0.2, ON)])
    preempted = thread(2, [(0.0, 0.1, QUEUED), (0.1, 0.2, ON)])
    figures = window_figures(
        recording(io_bound, preempted, ended=0.2), 0.0, 0.2, {(100, 1): "a", (100, 2): "b"}
    )

    assert figures.handoffs_per_s == 0


def test_a_thread_handed_the_gil_that_first_queues_for_a_core_still_counts_as_a_handoff() -> None:
    handed = thread(1, [(0.0, 0.1, GIL), (0.1, 0.2, QUEUED), (0.2, 0.3, ON)])
    preempted = thread(2, [(0.0, 0.1, ON), (0.1, 0.2, QUEUED), (0.2, 0.3, ON)])
    woken = thread(3, [(0.0, 0.1, GIL), (0.1, 0.2, IO), (0.2, 0.3, ON)])
    figures = window_figures(
        recording(handed, preempted, woken, ended=0.3),
        0.0,
        0.3,
        {(100, 1): "a", (100, 2): "b", (100, 3): "c"},
    )

    assert figures.handoffs_per_s == pytest.approx(1 / 0.3)


def test_threads_running_at_once_add_up_in_the_mean_and_the_step_series() -> None:
    first = thread(1, [(0.0, 1.0, ON), (1.0, 2.0, SLEEP)])
    second = thread(2, [(0.0, 0.5, SLEEP), (0.5, 2.0, ON)])
    figures = window_figures(recording(first, second, ended=2.0), 0.0, 2.0, {(100, 1): "a", (100, 2): "b"})

    assert figures.mean_on_cpu == pytest.approx((1.0 + 1.5) / 2.0)
    assert figures.on_cpu_steps == (OnCpuStep(0.0, 1), OnCpuStep(0.5, 2), OnCpuStep(1.0, 1))


def test_threads_outside_the_mapping_are_listed_apart_and_left_out_of_the_figures() -> None:
    worker = thread(1, [(0.0, 1.0, SLEEP)])
    joiner = thread(9, [(0.0, 1.0, ON)])
    figures = window_figures(recording(worker, joiner, ended=1.0), 0.0, 1.0, {(100, 1): "a"})

    assert [t.tid for t in figures.threads] == [1]
    assert [(t.tid, t.task, t.worker) for t in figures.others] == [(9, False, None)]
    assert figures.mean_on_cpu == 0


def test_a_task_thread_the_sampler_never_saw_is_all_unknown() -> None:
    figures = window_figures(recording(thread(1, [(0.0, 1.0, ON)])), 0.0, 1.0, {(100, 2): "missed"})
    (missed,) = figures.threads

    assert missed.unknown == 1.0
    assert missed.segments == ()


def test_switches_in_a_window_are_interpolated_between_counter_reads() -> None:
    counted = thread(1, [(0.0, 10.0, ON)], switches=(SwitchCount(0.0, 10, 0), SwitchCount(10.0, 110, 50)))
    figures = window_figures(recording(counted), 2.0, 4.0, {(100, 1): "a"})

    assert (figures.threads[0].voluntary_switches, figures.threads[0].nonvoluntary_switches) == (20, 10)


def test_a_window_reaching_past_the_recording_counts_only_the_part_it_covers() -> None:
    worker = thread(1, [(1.0, 2.0, ON)])
    figures = window_figures(recording(worker, started=1.0, ended=2.0), 0.0, 3.0, {(100, 1): "a"})

    assert figures.mean_on_cpu == pytest.approx(1.0)
    assert figures.samples == 100
    assert figures.rate_hz == pytest.approx(100)
    assert (figures.t0, figures.t1) == (0.0, 3.0)


def test_figures_are_json_ready() -> None:
    threads = relay((1, 2), start=0.0, holds=4, hold_s=0.01)
    data = window_figures(recording(*threads, ended=0.04), 0.0, 0.04, {(100, 1): "a"}).to_dict()

    assert data["threads"][0]["worker"] == "a"
    assert set(ThreadState) <= set(data["threads"][0])
    assert data["others"][0]["task"] is False
    assert data["on_cpu_steps"][0] == [0.0, 1]
