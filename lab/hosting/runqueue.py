"""One run at a time per host, in the order visitors asked, so no run's timings include another's.

The line lives in a directory every server process on the machine shares:
one ticket file per visitor, named by a sequence number, and one lock file
that the visitor at the front holds with `flock` while their run goes. The
kernel drops a flock when its holder dies, and tickets of dead processes are
removed by whoever looks, so a crash never blocks the line.

Waiting never blocks: `Ticket.poll()` answers at once, so the page polls it
every ~0.1 s and Streamlit can stop the script between polls. Each ticket
opens its own lock file description (flock is per open file description), so
two sessions in one process exclude each other like two processes do.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from lab.core import config
from lab.core.errors import LabError

DEFAULT_TIMEOUT_S = 120.0
SUFFIX = ".ticket"

_live_tokens: set[str] = set()  # tickets of this process that nobody has left yet
_live_lock = threading.Lock()


class QueueTimeout(LabError):
    """Waited longer than the queue timeout for the runs ahead."""


def default_queue_dir() -> Path:
    """$GIL_LAB_QUEUE_DIR, else one directory per user in the temp dir."""
    configured = config.text(os.environ, config.QUEUE_DIR)
    if configured:
        return Path(configured)
    return Path(tempfile.gettempdir()) / f"gil-lab-queue-{os.getuid()}"


@dataclass(frozen=True)
class Entry:
    """A ticket file: `{seq}-{pid}-{process start}-{token}.ticket`."""

    seq: int
    pid: int
    start: str
    token: str
    path: Path

    @classmethod
    def parse(cls, path: Path) -> Entry | None:
        try:
            seq, pid, start, token = path.name.removesuffix(SUFFIX).split("-")
            return cls(int(seq), int(pid), start, token, path)
        except ValueError:
            return None


def process_stat(pid: int) -> tuple[str, str] | None:
    """(state, start time in clock ticks) from /proc, or None where there is no /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return fields[0], fields[19]
    except (OSError, IndexError):
        return None


def process_start(pid: int) -> str:
    """Start time of a process, so a ticket of a dead process is not kept alive by a reused pid."""
    stat = process_stat(pid)
    return stat[1] if stat else "0"


def process_alive(pid: int, start: str) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    stat = process_stat(pid)
    if stat is None:
        return True
    state, started = stat
    return state != "Z" and start in ("0", started)


@dataclass
class Hold:
    """A ticket's open resources, apart from the Ticket so a finalizer can release them."""

    path: Path
    token: str
    fd: int | None = None
    left: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


def release(hold: Hold) -> None:
    """Leave the line: remove the ticket file, then drop the flock by closing its file."""
    with hold.lock:
        if hold.left:
            return
        hold.left = True
        with contextlib.suppress(FileNotFoundError):
            hold.path.unlink()
        if hold.fd is not None:
            os.close(hold.fd)
            hold.fd = None
    with _live_lock:
        _live_tokens.discard(hold.token)


class RunQueue:
    """The host-wide line for experiments; `join()` takes a ticket at the back."""

    def __init__(
        self,
        directory: Path | str | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.directory = Path(directory) if directory is not None else default_queue_dir()
        self.timeout_s = timeout_s
        self.clock = clock
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.lock_path = self.directory / "run.lock"

    def join(self) -> Ticket:
        seq = self.next_seq()
        token = secrets.token_hex(8)
        pid = os.getpid()
        hold = Hold(self.directory / f"{seq:012d}-{pid}-{process_start(pid)}-{token}{SUFFIX}", token)
        with _live_lock:
            _live_tokens.add(token)
        write_ticket(hold.path)
        return Ticket(self, seq, hold)

    def wait(self, on_place: Callable[[int], None] | None = None, interval_s: float = 0.1) -> Ticket:
        """Join and block until it is our turn (for the CLI); leaves the line on any exception."""
        ticket = self.join()
        try:
            shown = None
            while (place := ticket.poll()) > 0:
                if on_place is not None and place != shown:
                    on_place(place)
                    shown = place
                time.sleep(interval_s)
        except BaseException:
            ticket.leave()
            raise
        return ticket

    def entries(self) -> list[Entry]:
        """Live tickets in line order; tickets of dead processes or dropped Tickets are removed."""
        me = (os.getpid(), process_start(os.getpid()))
        live: list[Entry] = []
        for path in self.directory.glob(f"*{SUFFIX}"):
            entry = Entry.parse(path)
            if entry is None:
                continue
            if is_live(entry, me):
                live.append(entry)
            else:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
        return sorted(live, key=lambda entry: entry.seq)

    def line_length(self) -> int:
        """Runs running or waiting right now, for a page that has not joined yet."""
        return len(self.entries())

    def next_seq(self) -> int:
        """The next ticket number, from a counter file updated under its own flock."""
        with locked_file(self.directory / "seq") as fd:
            text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            try:
                last = int(text)
            except ValueError:
                last = max((entry.seq for entry in self.entries()), default=0)
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(last + 1).encode("ascii"), 0)
        return last + 1


def is_live(entry: Entry, me: tuple[int, str]) -> bool:
    """A ticket of this process lives while its Ticket does; another's while its process does."""
    if (entry.pid, entry.start) == me:
        with _live_lock:
            return entry.token in _live_tokens
    return process_alive(entry.pid, entry.start)


def write_ticket(path: Path) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    os.close(fd)


@contextlib.contextmanager
def locked_file(path: Path) -> Iterator[int]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield fd
    finally:
        os.close(fd)


class Ticket:
    """A place in the line. `poll()` is 0 once it is our turn (we then hold the host), else the runs ahead."""

    def __init__(self, queue: RunQueue, seq: int, hold: Hold) -> None:
        self.queue = queue
        self.seq = seq
        self.joined_at = queue.clock()
        self.ahead: int | None = None
        self._hold = hold
        self._finalizer = weakref.finalize(self, release, hold)

    @property
    def holding(self) -> bool:
        return self._hold.fd is not None

    @property
    def left(self) -> bool:
        return self._hold.left

    @property
    def waited_s(self) -> float:
        return self.queue.clock() - self.joined_at

    @property
    def expired(self) -> bool:
        """Still waiting after the queue timeout: the page should give up and say so."""
        return not self.holding and not self.left and self.waited_s >= self.queue.timeout_s

    def poll(self) -> int:
        """0 if it is our turn (the host is now ours until `leave`), else how many runs are ahead.

        Raises QueueTimeout (and leaves the line) once waiting has taken longer than the timeout.
        """
        hold = self._hold
        with hold.lock:
            if hold.left:
                raise RuntimeError("this ticket has left the line; join again")
            if hold.fd is not None:
                return 0
            entries = self.queue.entries()
            if not any(entry.token == hold.token for entry in entries):
                write_ticket(hold.path)
            ahead = sum(1 for entry in entries if entry.seq < self.seq)
            if ahead == 0 and self._try_lock():
                self.ahead = 0
                return 0
            ahead = max(ahead, 1)
            self.ahead = ahead
        if self.expired:
            self.leave()
            runs = "run" if ahead == 1 else "runs"
            raise QueueTimeout(f"waited {self.queue.timeout_s:g} s for {ahead} {runs} ahead; try again later")
        return ahead

    def _try_lock(self) -> bool:
        fd = os.open(self.queue.lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._hold.fd = fd
        return True

    def leave(self) -> None:
        """Give up our place, or the host if we hold it. Safe to call twice."""
        self._finalizer()

    def __enter__(self) -> Ticket:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.leave()
