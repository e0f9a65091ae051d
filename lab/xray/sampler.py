"""The sampler process: sweep every thread of one process group at a fixed rate, stream what it saw.

Run as `python -m lab.xray.sampler --pgid PGID --rate-hz N --pipe FD --parent-pid PID`.
It writes the events of `lab.xray.protocol` to the pipe FD (stdout stays
free), ends on SIGTERM after a last flush, ends by itself once no process of
the group is left, and dies with its parent.

A sweep reads, per thread, only what its state needs: `stat` always (just
its scheduler letter), `wchan` only for a blocked thread, and `schedstat`
only for a runnable one (to split on a CPU from queued). Names and switch
counts are read with each flush, and the set of processes and threads is
rescanned on slower clocks, because listing them costs more than sampling.

At 250 Hz a sweep of three threads costs about 300 µs of CPU on this
machine, and each further thread about 20 µs: the wakeup and the first,
cache-cold /proc read dominate. So a sampler of many threads at a high
rate would take a real share of a core from the run it watches. It therefore keeps its own CPU under
`CPU_BUDGET` of one core: with each flush it lengthens its period when
it spent more than that, and returns towards the asked rate when it spent
less. The recording's marks show the rate it achieved.
"""

from __future__ import annotations

import argparse
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType

from lab.core.procs import raise_open_file_limit, tie_to_parent
from lab.xray.model import Segment, SweepMark, SwitchCount, ThreadRecord
from lab.xray.procfs import GroupWatch, TaskFiles, may_read_wchan, thread_ids
from lab.xray.protocol import encode
from lab.xray.states import RunSplit, ThreadState, state_of_blocked

# 250 Hz sees a GIL held for the default 5 ms switch interval (a 4 ms sampling interval) and costs
# 5.5-8% of one core with a few threads; in benchmarks/xray_overhead.py the runs' median wall
# time moved by -1.5% to +4.4%. 100 Hz costs about 4% of a core but misses most handoffs.
DEFAULT_RATE_HZ = 250.0
MIN_RATE_HZ = 1.0
MAX_RATE_HZ = 5000.0  # the CPU budget, not this limit, keeps a high rate affordable
FLUSH_INTERVAL_S = 0.2
THREAD_SCAN_S = 0.02  # new threads are seen within this; lab tasks last longer
PROCESS_SCAN_S = 0.1  # new processes (pool workers) are found as children of known ones
FULL_SCAN_S = 2.0  # a walk of all of /proc, for members that are no descendant of a known one
CPU_BUDGET = 0.08  # of one core; on 2 busy cores that is at most 4% of the machine


@dataclass
class _Tracked:
    """One thread the sampler follows: its open files and what it has not flushed yet."""

    files: TaskFiles
    wchan_readable: bool
    name: str
    first_seen: float
    last_seen: float
    state: ThreadState | None = None
    since: float = 0.0
    split: RunSplit = field(default_factory=RunSplit)
    segments: list[Segment] = field(default_factory=list)
    ended: bool = False

    def cut(self, t: float) -> None:
        """Close the open segment at `t`; the next one starts there."""
        if self.state is not None and t > self.since:
            self.segments.append(Segment(self.since, t, self.state))
        self.since = t


class GroupSampler:
    """The sampling loop of one process group; writes protocol events through `write`."""

    def __init__(
        self, pgid: int, rate_hz: float, write: Callable[[bytes], None], cpu_budget: float = CPU_BUDGET
    ) -> None:
        self.pgid = pgid
        self.rate_hz = rate_hz
        self.cpu_budget = cpu_budget
        self.sweeps = 0
        self._write = write
        self._watch = GroupWatch(pgid)
        self._threads: dict[tuple[int, int], _Tracked] = {}
        self._wchan_readable: dict[int, bool] = {}

    def run(self, stop_requested: Callable[[], bool]) -> str:
        """Sample until asked to stop or the group is empty; returns which (the end reason)."""
        period = 1.0 / self.rate_hz
        t = time.perf_counter()
        paced_at, cpu_at = t, time.process_time()
        self._discover(t, full=True)
        self._write(
            encode(
                {
                    "event": "started",
                    "pgid": self.pgid,
                    "rate_hz": self.rate_hz,
                    "t": t,
                    "sampler_pid": os.getpid(),
                }
            )
        )
        next_tick = next_flush = t
        next_threads = t + THREAD_SCAN_S
        next_processes = t + PROCESS_SCAN_S
        next_full = t + FULL_SCAN_S
        reason = "stopped"
        while not stop_requested():
            if t >= next_processes:
                full = t >= next_full
                if not self._discover(t, full=full):
                    reason = "group_empty"
                    break
                next_processes, next_threads = t + PROCESS_SCAN_S, t + THREAD_SCAN_S
                next_full = t + FULL_SCAN_S if full else next_full
            elif t >= next_threads:
                self._find_threads(t)
                next_threads = t + THREAD_SCAN_S
            self._sweep(t)
            if t >= next_flush:
                cpu = self._flush(t)
                next_flush = t + FLUSH_INTERVAL_S
                period = self._paced(period, (cpu - cpu_at) / (t - paced_at) if t > paced_at else 0.0)
                paced_at, cpu_at = t, cpu
            next_tick += period
            now = time.perf_counter()
            if next_tick <= now:  # too late for this tick: skip to the next one instead of bursting
                next_tick += period * (1 + int((now - next_tick) / period))
            time.sleep(next_tick - now)
            t = time.perf_counter()
        end = time.perf_counter()
        self._flush(end)
        self._write(encode({"event": "stopped", "t": end, "reason": reason}))
        return reason

    def _paced(self, period: float, cpu_share: float) -> float:
        """The next period, scaled by how far the CPU share of the last flush interval was off budget."""
        if cpu_share <= 0:
            return 1.0 / self.rate_hz
        return max(1.0 / self.rate_hz, period * cpu_share / self.cpu_budget)

    def _discover(self, t: float, *, full: bool) -> bool:
        """Refresh the group's processes and their threads; False once none is left."""
        members = self._watch.refresh(full=full)
        for key, thread in self._threads.items():
            if key[0] not in members and not thread.ended:
                self._end(thread, t)
        for pid in set(self._wchan_readable) - members:
            del self._wchan_readable[pid]
        for pid in members - set(self._wchan_readable):
            self._wchan_readable[pid] = may_read_wchan(pid)
        self._find_threads(t)
        return bool(members)

    def _find_threads(self, t: float) -> None:
        for pid, wchan_readable in self._wchan_readable.items():
            for tid in thread_ids(pid):
                if (pid, tid) in self._threads:
                    continue
                files = TaskFiles.open(pid, tid)
                stat = files.stat() if files is not None else None
                if files is not None and stat is not None:
                    self._threads[(pid, tid)] = _Tracked(files, wchan_readable, stat.name, t, t, since=t)
                elif files is not None:
                    files.close()  # ended as soon as it was listed

    def _sweep(self, t: float) -> None:
        self.sweeps += 1
        for thread in self._threads.values():
            if thread.ended:
                continue
            state = self._observe(thread)
            if state is None:
                self._end(thread, t)
                continue
            if state != thread.state:
                thread.cut(t)
                thread.state = state
            thread.last_seen = t

    @staticmethod
    def _observe(thread: _Tracked) -> ThreadState | None:
        """This sample's state of one thread, or None if it has ended."""
        files = thread.files
        letter = files.state_letter()
        if letter is None or letter in "ZX":
            return None
        if letter != "R":
            if not thread.wchan_readable:
                return state_of_blocked(letter, None)
            wchan = files.wchan()
            if wchan is None:
                return None
            if wchan != b"0":
                return state_of_blocked(letter, wchan.decode())
            # "0": it woke between the two reads, so it is runnable now
        counters = files.schedstat()
        return thread.split.judge(*counters) if counters is not None else None

    def _end(self, thread: _Tracked, t: float) -> None:
        """The thread was missing at the sweep at `t`: its last sample lasted until then."""
        thread.cut(t)
        thread.state = None
        thread.ended = True
        thread.files.close()

    def _flush(self, t: float) -> float:
        """Send what is new since the last flush, with a switch count per live thread; CPU seconds so far."""
        items = []
        for (pid, tid), thread in self._threads.items():
            counts: list[SwitchCount] = []
            if not thread.ended:
                thread.cut(t)
                stat, switches = thread.files.stat(), thread.files.switches()
                if stat is not None:
                    thread.name = stat.name  # threads may rename themselves
                if switches is not None:
                    counts.append(SwitchCount(t, *switches))
            if thread.segments or counts:
                record = ThreadRecord(
                    pid,
                    tid,
                    thread.name,
                    thread.first_seen,
                    thread.last_seen,
                    tuple(thread.segments),
                    tuple(counts),
                )
                items.append(record.to_dict())
            thread.segments.clear()
        self._threads = {key: thread for key, thread in self._threads.items() if not thread.ended}
        mark = SweepMark(t, self.sweeps, time.process_time())
        self._write(encode({"event": "chunk", "mark": mark.to_list(), "threads": items}))
        return mark.cpu_s


def write_all(fd: int) -> Callable[[bytes], None]:
    """A writer for a blocking pipe that finishes writes a signal cut short."""

    def write(data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]

    return write


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m lab.xray.sampler", description=__doc__.splitlines()[0])
    parser.add_argument("--pgid", type=int, required=True)
    parser.add_argument("--rate-hz", type=float, default=DEFAULT_RATE_HZ)
    parser.add_argument("--pipe", type=int, required=True, help="file descriptor to write events to")
    parser.add_argument("--parent-pid", type=int, required=True)
    parser.add_argument("--cpu-budget", type=float, default=CPU_BUDGET, help="share of one core, at most")
    args = parser.parse_args(argv)
    tie_to_parent(args.parent_pid)
    raise_open_file_limit()  # three open files per sampled thread
    stop = False

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_sigterm)
    write = write_all(args.pipe)
    try:
        GroupSampler(args.pgid, args.rate_hz, write, args.cpu_budget).run(lambda: stop)
    except BrokenPipeError:
        return  # the caller has gone: nobody to report to
    except Exception as exc:
        write(encode({"event": "error", "message": f"the X-ray sampler failed: {exc}"}))
        raise


if __name__ == "__main__":
    main()
