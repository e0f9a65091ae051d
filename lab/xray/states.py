"""What one sample of one thread means: the seven states and how /proc evidence maps to them.

The kernel shows a thread's scheduler state (`R`, `S`, `D`, ...) and, for a
sleeping thread, the kernel function it sleeps in (`wchan`). Those two say
most of what the GIL does: a thread waiting for the GIL sleeps in a futex,
like any lock wait, so the GIL and locks share one state. What they cannot
say is whether an `R` thread is on a CPU or queued for one; `RunSplit` decides
that from the thread's scheduler counters.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache


class ThreadState(StrEnum):
    """One sample's verdict; the values are the names used in JSON, figures and charts."""

    ON_CPU = "on_cpu"
    WAITING_FOR_CORE = "waiting_for_core"
    GIL_OR_LOCK = "gil_or_lock"
    IO = "io"
    SLEEP = "sleep"
    OTHER = "other"
    UNKNOWN = "unknown"


# Kernel functions a blocked thread sleeps in, as /proc/PID/task/TID/wchan names them, old and new
# kernels alike (compiler suffixes such as ".constprop.0" are removed before the lookup). Seen on
# Linux 6.18 here: futex_do_wait (GIL, Lock, Condition, Queue.get, Thread.join), hrtimer_nanosleep
# (time.sleep), anon_pipe_read/anon_pipe_write (pipes, multiprocessing queues),
# poll_schedule_timeout (select, poll), do_epoll_wait (asyncio), __skb_wait_for_more_packets (UDP),
# wait_woken (TCP recv and send), inet_csk_accept, unix_stream_read_generic (socketpair),
# submit_bio_wait and folio_wait_bit (fsync, in D state), do_wait (waitpid).
WCHAN_STATES: dict[str, ThreadState] = {
    # futexes: the GIL and every threading/multiprocessing lock, condition and semaphore
    "futex_do_wait": ThreadState.GIL_OR_LOCK,
    "futex_wait_queue": ThreadState.GIL_OR_LOCK,
    "futex_wait_queue_me": ThreadState.GIL_OR_LOCK,
    "futex_wait": ThreadState.GIL_OR_LOCK,
    "futex_wait_multiple": ThreadState.GIL_OR_LOCK,
    "__futex_wait": ThreadState.GIL_OR_LOCK,
    # timers: time.sleep and friends
    "hrtimer_nanosleep": ThreadState.SLEEP,
    "do_nanosleep": ThreadState.SLEEP,
    "common_nsleep": ThreadState.SLEEP,
    "clock_nanosleep": ThreadState.SLEEP,
    # pipes and sockets
    "anon_pipe_read": ThreadState.IO,
    "anon_pipe_write": ThreadState.IO,
    "pipe_read": ThreadState.IO,
    "pipe_write": ThreadState.IO,
    "pipe_wait": ThreadState.IO,
    "wait_woken": ThreadState.IO,
    "sk_wait_data": ThreadState.IO,
    "sk_stream_wait_memory": ThreadState.IO,
    "sock_wait_for_wmem": ThreadState.IO,
    "__skb_wait_for_more_packets": ThreadState.IO,
    "__skb_recv_datagram": ThreadState.IO,
    "inet_csk_accept": ThreadState.IO,
    "inet_wait_for_connect": ThreadState.IO,
    "unix_stream_read_generic": ThreadState.IO,
    "unix_stream_data_wait": ThreadState.IO,
    "unix_wait_for_peer": ThreadState.IO,
    "n_tty_read": ThreadState.IO,
    # readiness waits: select, poll, epoll (asyncio's loop)
    "poll_schedule_timeout": ThreadState.IO,
    "do_select": ThreadState.IO,
    "core_sys_select": ThreadState.IO,
    "do_sys_poll": ThreadState.IO,
    "do_epoll_wait": ThreadState.IO,
    "ep_poll": ThreadState.IO,
    "io_cqring_wait": ThreadState.IO,
    # block devices and page cache (usually in D state)
    "io_schedule": ThreadState.IO,
    "io_schedule_timeout": ThreadState.IO,
    "bit_wait_io": ThreadState.IO,
    "submit_bio_wait": ThreadState.IO,
    "folio_wait_bit": ThreadState.IO,
    "folio_wait_bit_common": ThreadState.IO,
    "wait_on_page_bit_common": ThreadState.IO,
    "__lock_page": ThreadState.IO,
    "blk_mq_get_tag": ThreadState.IO,
    "rq_qos_wait": ThreadState.IO,
    "jbd2_log_wait_commit": ThreadState.IO,
}


@lru_cache(maxsize=1024)  # a sweep asks the same few questions over and over
def state_of_blocked(letter: str, wchan: str | None) -> ThreadState:
    """The state of a thread that is not runnable, from its stat letter and its wchan.

    `wchan` is None where the kernel refuses to show it (another user's
    process): the thread is blocked, but on what cannot be said. An unknown
    function counts as I/O in `D` (uninterruptible sleeps are nearly always
    disk or network) and as `other` otherwise (waitpid, sigwait, pause,
    stopped threads).
    """
    if wchan is None:
        return ThreadState.UNKNOWN
    known = WCHAN_STATES.get(wchan.split(".", 1)[0])
    if known is not None:
        return known
    return ThreadState.IO if letter == "D" else ThreadState.OTHER


class RunSplit:
    """Splits one thread's `R` samples into on a CPU and waiting for a core.

    /proc cannot say whether a runnable thread is on a CPU right now, but
    `schedstat` counts, exactly, the nanoseconds it spent on a CPU and queued
    for one. Their ratio since the previous read is the chance this `R` sample
    is on a CPU. A fixed threshold would call three threads sharing two cores
    (2/3 each) all on a CPU, so the verdicts are dithered instead (error
    diffusion): over many samples the share of `R` samples called on a CPU
    equals the kernel's CPU / (CPU + queue) ratio. The counters of a running
    thread advance at the scheduler tick (4 ms at HZ=250), so a read with no
    progress in either repeats the last ratio rather than guess; a thread's
    first `R` sample counts as on a CPU (a thread just started or woken runs).
    """

    def __init__(self) -> None:
        self._cpu_ns: int | None = None
        self._queued_ns = 0
        self._on_cpu_ratio = 1.0
        self._carry = 0.0

    def judge(self, cpu_ns: int, queued_ns: int) -> ThreadState:
        """The verdict for an `R` sample whose counters read `cpu_ns` and `queued_ns`."""
        if self._cpu_ns is not None:
            ran, queued = cpu_ns - self._cpu_ns, queued_ns - self._queued_ns
            if ran + queued > 0:
                self._on_cpu_ratio = ran / (ran + queued)
        self._cpu_ns, self._queued_ns = cpu_ns, queued_ns
        self._carry += self._on_cpu_ratio
        if self._carry >= 0.5:
            self._carry -= 1.0
            return ThreadState.ON_CPU
        return ThreadState.WAITING_FOR_CORE
