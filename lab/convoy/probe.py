"""The convoy lab's measured process: a probe thread answering UDP pings beside K pure-Python CPU threads.

Run as `python -m lab.convoy.probe --pipe FD --socket-fd FD
--cpu-threads K --switch-interval-ms MS --parent-pid PID`, under the
interpreter being measured, with the UDP socket the runner bound; the events
it writes are in `lab.convoy.protocol`.

The probe thread spends nearly all its time blocked in `recvfrom`, with the
GIL released. When a ping arrives the kernel wakes it at once, but it needs
the GIL to run the Python that sends the reply, and a CPU-bound thread gives
the GIL up only when the switch interval forces it to: the reply waits about
one interval behind one CPU thread, longer behind several (each handoff may go
to another CPU thread first). With no CPU thread, or a free-threaded build
with the GIL off, nothing stands between the wake-up and the reply.

The CPU threads start first, so the first ping answered (the client's hello)
finds them running. The main thread reports the threads' native ids (so the
X-ray can name them), then blocks reading stdin; when the runner closes it, the main thread reports
the GIL state in effect at the end and the process exits at once, CPU threads
and all. Standard library only (and lab.core, which is): it runs under bare
interpreters, and on a free-threaded build an extension module that is not
marked free-threading-safe would turn the GIL back on.
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import sys
import sysconfig
import threading
from typing import Any

from lab.convoy import protocol
from lab.core.events import EventWriter
from lab.core.machine import current_machine, gil_enabled
from lab.core.procs import tie_to_parent
from lab.core.work import squares

CPU_CHUNK = 20_000  # squares iterations between two counts: about 1 ms of pure Python, far below any interval


def answer_pings(sock: socket.socket) -> None:
    """Send every datagram back to where it came from, for as long as the process lives."""
    while True:
        data, address = sock.recvfrom(protocol.PING_BYTES)
        sock.sendto(data, address)


def burn(chunks: list[int], index: int) -> None:
    """Pure-Python work that never blocks: the thread holds the GIL until the interval takes it away."""
    while True:
        squares(CPU_CHUNK)
        chunks[index] += 1


def start_thread(target: Any, args: tuple[Any, ...], name: str) -> threading.Thread:
    thread = threading.Thread(target=target, args=args, name=name, daemon=True)
    thread.start()  # returns once the thread runs, so its native_id is set
    return thread


def interpreter_state() -> dict[str, Any]:
    """What this Python is, and whether the GIL is on now (a free-threaded build can turn it back on)."""
    return {
        "version": platform.python_version(),
        "implementation": platform.python_implementation(),
        "free_threaded": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
        "gil_enabled": gil_enabled(),
        "path": sys.executable,
    }


def run(events: EventWriter, sock: socket.socket, cpu_threads: int, switch_interval_ms: float) -> None:
    sys.setswitchinterval(switch_interval_ms / 1000)
    machine = current_machine()  # before the CPU threads start: it reads files and imports modules
    chunks = [0] * cpu_threads
    workers = [start_thread(burn, (chunks, index), f"cpu-{index + 1}") for index in range(cpu_threads)]
    probe = start_thread(answer_pings, (sock,), "probe")
    events.emit(
        protocol.READY,
        port=sock.getsockname()[1],
        pid=os.getpid(),
        probe_tid=probe.native_id,
        cpu_tids=[worker.native_id for worker in workers],
        switch_interval_s=sys.getswitchinterval(),
        gil_enabled=gil_enabled(),
        machine=machine.to_dict(),
    )
    sys.stdin.buffer.read()  # blocks, GIL released, until the runner closes our stdin
    events.emit(protocol.DONE, interpreter=interpreter_state(), cpu_chunks=list(chunks))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m lab.convoy.probe")
    parser.add_argument("--pipe", type=int, required=True, help="file descriptor to write events to")
    parser.add_argument("--socket-fd", type=int, required=True, help="the bound UDP socket to answer on")
    parser.add_argument("--cpu-threads", type=int, required=True)
    parser.add_argument("--switch-interval-ms", type=float, required=True)
    parser.add_argument("--parent-pid", type=int, required=True)
    args = parser.parse_args(argv)
    tie_to_parent(args.parent_pid)
    events = EventWriter(os.fdopen(args.pipe, "w"))
    try:
        sock = socket.socket(fileno=args.socket_fd)
        run(events, sock, args.cpu_threads, args.switch_interval_ms)
    except Exception as exc:
        events.emit(protocol.ERROR, message=f"the convoy probe failed: {type(exc).__name__}: {exc}")
        events.stream.flush()
        os._exit(1)
    events.stream.flush()
    os._exit(0)  # the CPU threads never end by themselves; nothing is left to clean up


if __name__ == "__main__":
    main()
