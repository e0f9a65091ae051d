"""The convoy lab's pinger: one UDP ping at a time to the probe, each round trip timed.

Run as `python -m lab.convoy.client --pipe FD --port N --seconds S
--gap-ms G --timeout-ms T --hello-timeout-ms H --parent-pid PID`, in a
process of its own (never the measured one, so its own Python never competes
for the measured GIL); the events it writes are in
`lab.convoy.protocol`.

It starts with a hello, a ping that is not counted: the runner starts the
probe, the X-ray and this client at once, and the hello's answer says the
probe thread runs, its CPU threads already beside it. Then the loop is
closed: a ping is sent, its reply awaited (at most the timeout, then it
counts as lost), and the next ping goes `gap` after that. One ping is
outstanding at a time, so no ping ever queues behind another and each round
trip is one wake-up of the probe plus its wait for the GIL. The gap matters
too: after replying, the probe needs the GIL once more to get back into
`recvfrom`, and a ping sent before it is back would be charged that wait as
well. Pings run until the window closes; the one in flight then still gets
its answer (up to the timeout), so a slow reply is measured, not dropped.

Standard library only (and lab.core, which is).
"""

from __future__ import annotations

import argparse
import os
import socket
import time
from dataclasses import dataclass, field

from lab.convoy import protocol
from lab.core.events import EventWriter
from lab.core.procs import tie_to_parent

PROGRESS_INTERVAL_S = 0.25
ERROR_PAUSE_S = 0.01  # after a refused ping (the probe is gone), so a dead port does not spin the loop


@dataclass
class Pings:
    """What the client saw so far: each answered ping's send time (from the origin) and round trip."""

    origin: float
    at: list[float] = field(default_factory=list)
    latency_ms: list[float] = field(default_factory=list)
    lost: int = 0

    def answered(self, sent: float, round_trip_s: float) -> None:
        # Rounded when taken (0.1 ms and 1 µs), so a JSON round trip gives back exactly these numbers.
        self.at.append(round(sent - self.origin, 4))
        self.latency_ms.append(round(round_trip_s * 1000, 3))


def await_reply(sock: socket.socket, payload: bytes, sent: float, timeout_s: float) -> float | None:
    """The round trip of `payload` in seconds, or None once `timeout_s` has passed without its reply.

    A late reply to an earlier, lost ping is skipped: only this ping's own echo ends the wait.
    """
    limit = sent + timeout_s
    while True:
        remaining = limit - time.perf_counter()
        if remaining <= 0:
            return None
        sock.settimeout(remaining)
        try:
            data = sock.recv(protocol.PING_BYTES)
        except TimeoutError:
            return None
        if data == payload:
            return time.perf_counter() - sent


def say_hello(sock: socket.socket, timeout_s: float) -> None:
    """Wait until the probe answers at all (sequence number 0), or fail: it never started.

    The runner bound the probe's socket before starting it, so the hello waits
    in the socket's buffer until the probe thread reads it; it is sent once.
    """
    payload = bytes(protocol.PING_BYTES)
    sent = time.perf_counter()
    sock.send(payload)
    if await_reply(sock, payload, sent, timeout_s) is None:
        raise TimeoutError(f"the probe did not answer within {timeout_s:g} s")


def ping(
    events: EventWriter, port: int, seconds: float, gap_s: float, timeout_s: float, hello_timeout_s: float
) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.connect(("127.0.0.1", port))  # replies from anywhere else are never delivered to us
    say_hello(sock, hello_timeout_s)
    pings = Pings(time.perf_counter())
    events.emit(protocol.STARTED, origin=pings.origin)
    deadline = pings.origin + seconds
    next_progress = pings.origin + PROGRESS_INTERVAL_S
    sequence = 0
    while time.perf_counter() < deadline:
        sequence += 1
        payload = sequence.to_bytes(protocol.PING_BYTES, "big")
        sent = time.perf_counter()
        try:
            sock.send(payload)
            round_trip = await_reply(sock, payload, sent, timeout_s)
        except OSError:  # ICMP port unreachable: the probe is gone; the runner sees why
            round_trip = None
            time.sleep(ERROR_PAUSE_S)
        if round_trip is None:
            pings.lost += 1
        else:
            pings.answered(sent, round_trip)
        now = time.perf_counter()
        if now >= next_progress:
            events.emit(
                protocol.PROGRESS, pings=len(pings.latency_ms), lost=pings.lost, elapsed=now - pings.origin
            )
            next_progress = now + PROGRESS_INTERVAL_S
        if now + gap_s >= deadline:
            break  # no ping would start after the gap: the window ends with this reply
        time.sleep(gap_s)
    events.emit(
        protocol.FINISHED,
        origin=pings.origin,
        ended=time.perf_counter(),
        at=pings.at,
        latency_ms=pings.latency_ms,
        lost=pings.lost,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m lab.convoy.client")
    parser.add_argument("--pipe", type=int, required=True, help="file descriptor to write events to")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--gap-ms", type=float, required=True)
    parser.add_argument("--timeout-ms", type=float, required=True)
    parser.add_argument("--hello-timeout-ms", type=float, required=True)
    parser.add_argument("--parent-pid", type=int, required=True)
    args = parser.parse_args(argv)
    tie_to_parent(args.parent_pid)
    events = EventWriter(os.fdopen(args.pipe, "w"))
    try:
        ping(
            events,
            args.port,
            args.seconds,
            args.gap_ms / 1000,
            args.timeout_ms / 1000,
            args.hello_timeout_ms / 1000,
        )
    except Exception as exc:
        events.emit(protocol.ERROR, message=f"the convoy client failed: {type(exc).__name__}: {exc}")
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
