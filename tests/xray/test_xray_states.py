"""Turning /proc evidence into states: the wchan table and the split of runnable samples."""

from __future__ import annotations

import pytest

from lab.xray.states import RunSplit, ThreadState, state_of_blocked


@pytest.mark.parametrize(
    ("wchan", "state"),
    [
        ("futex_do_wait", ThreadState.GIL_OR_LOCK),  # Linux 6.x
        ("futex_wait_queue", ThreadState.GIL_OR_LOCK),  # 5.16 to 6.x
        ("futex_wait_queue_me", ThreadState.GIL_OR_LOCK),  # up to 5.15
        ("hrtimer_nanosleep", ThreadState.SLEEP),
        ("do_nanosleep", ThreadState.SLEEP),
        ("anon_pipe_read", ThreadState.IO),  # 6.x
        ("pipe_read", ThreadState.IO),  # older
        ("__skb_wait_for_more_packets", ThreadState.IO),
        ("wait_woken", ThreadState.IO),
        ("sk_wait_data", ThreadState.IO),
        ("do_epoll_wait", ThreadState.IO),
        ("unix_stream_read_generic", ThreadState.IO),
        ("inet_csk_accept", ThreadState.IO),
        ("do_wait", ThreadState.OTHER),
    ],
)
def test_a_sleeping_thread_is_classified_by_the_kernel_function_it_waits_in(
    wchan: str, state: ThreadState
) -> None:
    assert state_of_blocked("S", wchan) == state


def test_compiler_suffixes_of_kernel_function_names_are_ignored() -> None:
    assert state_of_blocked("S", "poll_schedule_timeout.constprop.0") == ThreadState.IO
    assert state_of_blocked("S", "do_sigtimedwait.isra.0") == ThreadState.OTHER


def test_an_unknown_wait_counts_as_io_when_uninterruptible_and_as_other_otherwise() -> None:
    assert state_of_blocked("D", "some_driver_wait") == ThreadState.IO
    assert state_of_blocked("S", "some_driver_wait") == ThreadState.OTHER
    assert state_of_blocked("T", "do_signal_stop") == ThreadState.OTHER


def test_a_wait_the_kernel_hides_is_unknown() -> None:
    assert state_of_blocked("S", None) == ThreadState.UNKNOWN


def judge_many(split: RunSplit, cpu_step_ns: int, queued_step_ns: int, samples: int) -> list[ThreadState]:
    cpu = queued = 0
    verdicts = []
    for _ in range(samples):
        cpu, queued = cpu + cpu_step_ns, queued + queued_step_ns
        verdicts.append(split.judge(cpu, queued))
    return verdicts


def test_a_runnable_thread_that_gets_all_the_cpu_it_wants_is_on_a_cpu() -> None:
    verdicts = judge_many(RunSplit(), cpu_step_ns=4_000_000, queued_step_ns=0, samples=100)
    assert set(verdicts) == {ThreadState.ON_CPU}


def test_a_runnable_thread_that_mostly_queues_mostly_waits_for_a_core() -> None:
    verdicts = judge_many(RunSplit(), cpu_step_ns=1_000_000, queued_step_ns=3_000_000, samples=100)
    assert 0.2 <= verdicts.count(ThreadState.ON_CPU) / 100 <= 0.3


def test_three_threads_sharing_two_cores_are_on_a_cpu_two_thirds_of_the_time_not_always() -> None:
    splits = [RunSplit() for _ in range(3)]
    verdicts = [judge_many(split, 2_000_000, 1_000_000, samples=300) for split in splits]
    on_cpu_at_once = sum(v.count(ThreadState.ON_CPU) for v in verdicts) / 300
    assert on_cpu_at_once == pytest.approx(2.0, abs=0.05)


def test_counters_that_did_not_move_since_the_last_read_repeat_the_last_verdicts_ratio() -> None:
    split = RunSplit()
    split.judge(0, 0)
    split.judge(1_000_000, 1_000_000)  # half on a CPU
    stale = [split.judge(1_000_000, 1_000_000) for _ in range(100)]
    assert stale.count(ThreadState.ON_CPU) == pytest.approx(50, abs=1)
