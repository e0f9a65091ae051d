"""A process with threads in known states, for the X-ray tests to sample from outside.

Run as `python xray_target.py SCENARIO [ARGS]`. Once its threads are in
place it prints one JSON line, {label: [pid, native thread id]}, then runs
until it is killed (the tests end its process group). Standard library only.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import socket
import sys
import threading
import time
from collections.abc import Callable

FOREVER_S = 3600.0


def spin() -> None:
    total = 0
    while True:
        for i in range(1000):
            total += i * i


def sleep_forever() -> None:
    time.sleep(FOREVER_S)


def sleep_in_short_naps(nap_s: float) -> Callable[[], None]:
    def nap() -> None:
        while True:
            time.sleep(nap_s)

    return nap


def hash_big_buffers() -> None:
    data = b"x" * (4 << 20)
    while True:
        hashlib.sha256(data).digest()  # releases the GIL while it hashes


def receive_udp() -> None:
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp.recv(16)


def start(threads: dict[str, Callable[[], None]]) -> dict[str, list[int]]:
    started = {}
    for label, target in threads.items():
        thread = threading.Thread(target=target, name=label, daemon=True)
        thread.start()
        assert thread.native_id is not None
        started[label] = [os.getpid(), thread.native_id]
    return started


def states() -> dict[str, list[int]]:
    """One thread in each blocking kind, and one spinner with the GIL to itself."""
    lock = threading.Lock()
    held = threading.Event()

    def hold_lock_and_sleep() -> None:
        with lock:
            held.set()
            time.sleep(FOREVER_S)

    def wait_for_lock() -> None:
        held.wait()
        lock.acquire()

    return start(
        {
            "sleeper": sleep_forever,
            "udp": receive_udp,
            "lock_holder": hold_lock_and_sleep,
            "lock_waiter": wait_for_lock,
            "spinner": spin,
        }
    )


def nap_in_child(nap_s: float) -> None:
    sleep_in_short_naps(nap_s)()


def start_children_later(count: int, delay_s: float) -> None:
    """After `delay_s`, child processes that nap: the sampler must find them while it runs."""

    def start_them() -> None:
        time.sleep(delay_s)
        context = multiprocessing.get_context("fork")
        for _ in range(count):
            context.Process(target=nap_in_child, args=(0.01,), daemon=True).start()

    threading.Thread(target=start_them, name="starter").start()


def churn(lifetime_s: float) -> dict[str, list[int]]:
    """Short-lived threads, one after the other: threads that end while being sampled."""

    def keep_starting() -> None:
        while True:
            thread = threading.Thread(target=time.sleep, args=(lifetime_s,))
            thread.start()
            thread.join()

    return start({"starter": keep_starting})


def main() -> None:
    scenario, args = sys.argv[1], sys.argv[2:]
    if scenario == "states":
        threads = states()
    elif scenario == "spinners":
        sys.setswitchinterval(float(args[1]))
        threads = start({f"spinner-{i + 1}": spin for i in range(int(args[0]))})
    elif scenario == "hashers":
        threads = start({f"hasher-{i + 1}": hash_big_buffers for i in range(int(args[0]))})
    elif scenario == "nappers":
        nap = sleep_in_short_naps(float(args[1]))
        threads = start({f"napper-{i + 1}": nap for i in range(int(args[0]))})
    elif scenario == "children":
        threads = {"main": [os.getpid(), threading.get_native_id()]}
        start_children_later(int(args[0]), float(args[1]))
    elif scenario == "churn":
        threads = churn(float(args[0]))
    else:
        raise SystemExit(f"unknown scenario {scenario!r}")
    print(json.dumps(threads), flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
