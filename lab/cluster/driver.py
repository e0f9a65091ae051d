"""The driver: `python -m lab.cluster.driver`, the child process that owns every Dask object of a run.

It starts a `LocalCluster` per layout (or connects to an existing scheduler),
submits the lab's tasks through `distributed.Client`, and streams what
happens as JSON-lines events on its pipe (`lab.cluster.protocol` has the
events and the clocks). Being a process of its own keeps Dask's threads, event
loop and worker processes out of the page's process, and makes Cancel real:
the caller ends this process's group, and the LocalCluster's nannies and
workers, started by this process, are in it.

The task's code travels with each run (`lab.cluster.travel`), so an existing
cluster needs no copy of GIL Lab, only the driver's Python and Dask versions;
SIGTERM ends the run through its `finally`s, which remove that code again.

Failures keep their place: a task that raised is a failed task (its own
message), a task whose workers died more often than Dask retries is a failed
task with Dask's reason, and anything that stops the whole run (the
scheduler cannot be reached, no worker joined, a node runs another Python or
Dask, the scheduler or the workers cannot load the task) is one ERROR line,
then exit status 1.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import json
import logging
import os
import re
import signal
import sys
import time
import traceback
import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any, cast

from distributed import Client, Future, LocalCluster, as_completed

from lab.cluster import protocol
from lab.cluster.results import LOST, ClusterTask, LayoutRun
from lab.cluster.settings import ClusterLayout, ClusterSettings
from lab.cluster.task import run_task, warm_up
from lab.cluster.travel import Travelling, tasks_by_value, version_mismatch
from lab.core.events import EventWriter
from lab.core.machine import current_machine
from lab.core.procs import tie_to_parent
from lab.engine.measure import describe_error
from lab.engine.workloads import WORKLOADS, TaskSpec

CONNECT_TIMEOUT_S = 3.0  # an unreachable or refusing scheduler is reported after this long
REMOTE_WORKERS_TIMEOUT_S = 10.0  # an existing cluster with no worker at all after this long is an error
LOCAL_WORKERS_TIMEOUT_S = 120.0  # a LocalCluster's workers start in about a second each, on a busy host more
WRAPPED_ERROR = re.compile(r"([A-Za-z_][A-Za-z0-9_.]*)\((['\"].*['\"])\)")  # Name('message'), see dask_error


class DriverError(Exception):
    """The run cannot go on; the message is the whole story, in one line."""


def natural_key(address: str) -> tuple[tuple[int, int | str], ...]:
    """tcp://127.0.0.1:9 before tcp://127.0.0.1:10, so worker numbers follow the ports."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", address) if part
    )


class RowLabels:
    """One row label per worker thread: "worker 1 · thread 2", numbered as they first appear.

    Workers are numbered in address order when a layout starts (a worker that
    joins later, such as one a nanny restarted, gets the next number); each
    worker's threads are numbered in the order their first task came back.
    """

    def __init__(self) -> None:
        self.workers: dict[str, int] = {}
        self.rows: dict[tuple[str, int | None], str] = {}

    def know(self, addresses: list[str]) -> None:
        for address in sorted(addresses, key=natural_key):
            self.workers.setdefault(address, len(self.workers) + 1)

    def label(self, address: str, tid: int | None) -> str:
        key = (address, tid)
        if key not in self.rows:
            self.know([address])
            threads = sum(1 for known in self.rows if known[0] == address)
            self.rows[key] = f"worker {self.workers[address]} · thread {threads + 1}"
        return self.rows[key]


def task_spec(settings: ClusterSettings) -> TaskSpec:
    """The spec every task gets, with the reference value computed once here, before any timing."""
    spec = TaskSpec(settings.workload, settings.size)
    return replace(spec, expected_value=WORKLOADS[settings.workload].reference_value(spec))


def read_layout(client: Client) -> tuple[ClusterLayout, list[str]]:
    """The cluster's real layout as its scheduler reports it, and its workers' addresses in order."""
    workers = client.scheduler_info(n_workers=-1)["workers"]
    addresses = sorted(workers, key=natural_key)
    return ClusterLayout(tuple(int(workers[address]["nthreads"]) for address in addresses)), addresses


def dask_error(exc: BaseException) -> str:
    """One line for an error a worker raised, in `lab.engine.measure.describe_error`'s form.

    Dask sends back an error it could not pickle as a plain Exception holding
    the original's repr, `Exception('ModuleNotFoundError("No module named
    \'lab\'")')`; that one reads "ModuleNotFoundError: No module named 'lab'".
    A message of several lines ends at the last full sentence of its first.
    """
    text = str(exc)
    wrapped = WRAPPED_ERROR.fullmatch(text) if type(exc) is Exception else None
    if wrapped is not None:
        with contextlib.suppress(ValueError, SyntaxError):
            return f"{wrapped.group(1)}: {ast.literal_eval(wrapped.group(2))}"
    line = describe_error(exc)
    sentence_end = line.rfind(". ")
    if "\n" in text.strip() and sentence_end > 0:
        return line[: sentence_end + 1]  # the message went on past this line: end at a full sentence
    return line


def check_versions(client: Client, where: str) -> None:
    """Stop with one line if the scheduler or a worker runs another Python minor version or Dask."""
    mismatch = version_mismatch(cast(dict[str, Any], client.get_versions()))  # a dict: this client is sync
    if mismatch is not None:
        raise DriverError(f"cannot run on {where}: {mismatch}")


def prepare(client: Client, where: str) -> None:
    """Send a task of the lab's kind through the whole cluster now, so no timing includes it, and fail early.

    Both ends rebuild what they are sent: the workers unpickle the code the
    run registers with them, and the scheduler every task graph it is sent.
    """
    token = uuid.uuid4().hex[:8]
    with contextlib.ExitStack() as stack:
        try:
            client.run(warm_up)
            sent = stack.enter_context(Travelling(warm_up).on(client))
        except Exception as exc:  # whatever the workers raised while loading the code: it names the problem
            raise DriverError(
                f"the workers of {where} cannot run GIL Lab's tasks ({dask_error(exc)})"
            ) from None
        try:
            sent.submit(key=f"gil-lab-warm-up-{token}").result()
        except Exception as exc:  # the workers can, so it is the scheduler that cannot read the task
            raise DriverError(
                f"the scheduler of {where} cannot read GIL Lab's tasks ({dask_error(exc)})"
            ) from None


def collected(
    future: Future[dict[str, Any]], index: int, origin_wall: float, labels: RowLabels
) -> ClusterTask:
    """A finished future as a task: its report from the worker, or a failure with Dask's reason."""
    if future.status == "finished":
        report = future.result()
        start = float(report["start_wall"]) - origin_wall
        address = str(report["address"])
        tid = report["tid"]
        return ClusterTask(
            index=index,
            address=address,
            pid=int(report["pid"]),
            tid=tid,
            thread=str(report["thread"]),
            label=labels.label(address, tid),
            start=start,
            end=start + float(report["wall"]),
            cpu=float(report["cpu"]),
            ok=bool(report["ok"]),
            error=report["error"],
            value=report["value"],
        )
    if future.status == "error":
        reason = dask_error(future.exception())  # type: ignore[no-untyped-call]
    else:
        reason = f"Dask reported the task {future.status}"
    now = time.time() - origin_wall
    return ClusterTask(index, "", 0, None, "", LOST, now, now, 0.0, False, reason)


def measure(
    client: Client,
    settings: ClusterSettings,
    spec: TaskSpec,
    position: int,
    repeat: int,
    startup_seconds: float,
    labels: RowLabels,
    writer: EventWriter,
) -> LayoutRun:
    """Submit every task, collect each as it ends; wall time is from the first submit to the last result."""
    layout, addresses = read_layout(client)
    labels.know(addresses)
    token = uuid.uuid4().hex[:8]  # keys unique on a shared scheduler
    where = {"position": position, "repeat": repeat}
    with Travelling(run_task, spec).on(client) as sent:  # on every worker before the clocks start
        origin_wall = time.time()
        writer.emit(
            protocol.LAYOUT_STARTED,
            **where,
            layout=layout.to_dict(),
            workers=addresses,
            origin_wall=origin_wall,
        )
        origin = time.perf_counter()
        futures = [
            sent.submit(index, key=f"gil-lab-{token}-{position}-{repeat}-{index}")
            for index in range(settings.tasks)
        ]
        index_of = {future.key: index for index, future in enumerate(futures)}
        tasks: list[ClusterTask] = []
        for future in as_completed(futures):  # type: ignore[no-untyped-call]
            task = collected(future, index_of[future.key], origin_wall, labels)
            tasks.append(task)
            writer.emit(protocol.TASK, **where, task=task.to_dict())
        seconds = time.perf_counter() - origin
    tasks.sort(key=lambda task: task.index)
    return LayoutRun(position, repeat, layout, seconds, startup_seconds, tuple(tasks))


@contextlib.contextmanager
def local_client(layout: ClusterLayout) -> Iterator[Client]:
    """A LocalCluster of `layout` on loopback (no dashboard) and its client, both closed on the way out."""
    threads = layout.threads_per_worker or 1
    with (
        LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=layout.workers,
            threads_per_worker=threads,
            processes=True,
            host="127.0.0.1",
            scheduler_port=0,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,  # type: ignore[no-untyped-call]
    ):
        client.wait_for_workers(layout.workers, timeout=LOCAL_WORKERS_TIMEOUT_S)
        yield client


def remote_client(address: str) -> Client:
    """A client of an existing scheduler, or a one-line DriverError within CONNECT_TIMEOUT_S."""
    try:
        return Client(address, timeout=CONNECT_TIMEOUT_S)  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError, ValueError) as exc:
        raise DriverError(f"cannot reach the Dask scheduler at {address}: {describe_error(exc)}") from None


def run_local(settings: ClusterSettings, spec: TaskSpec, writer: EventWriter) -> None:
    for position, layout in enumerate(settings.layouts):
        writer.emit(protocol.LAYOUT_STARTING, position=position, layout=layout.to_dict())
        started = time.perf_counter()
        with local_client(layout) as client:
            prepare(client, f"the {layout.name} LocalCluster")
            startup = time.perf_counter() - started
            labels = RowLabels()
            for repeat in range(settings.repeats):
                run = measure(client, settings, spec, position, repeat, startup, labels, writer)
                writer.emit(protocol.LAYOUT_FINISHED, position=position, repeat=repeat, run=run.to_dict())


def run_remote(settings: ClusterSettings, address: str, spec: TaskSpec, writer: EventWriter) -> None:
    writer.emit(protocol.LAYOUT_STARTING, position=0, layout=None)
    started = time.perf_counter()
    with remote_client(address) as client:
        try:
            client.wait_for_workers(1, timeout=REMOTE_WORKERS_TIMEOUT_S)
        except TimeoutError:
            raise DriverError(
                f"the Dask scheduler at {address} has no workers (waited {REMOTE_WORKERS_TIMEOUT_S:g} s)"
            ) from None
        check_versions(client, f"the cluster at {address}")
        prepare(client, f"the cluster at {address}")
        startup = time.perf_counter() - started
        labels = RowLabels()
        for repeat in range(settings.repeats):
            run = measure(client, settings, spec, 0, repeat, startup, labels, writer)
            writer.emit(protocol.LAYOUT_FINISHED, position=0, repeat=repeat, run=run.to_dict())


def run(settings: ClusterSettings, writer: EventWriter) -> None:
    spec = task_spec(settings)
    with tasks_by_value():  # a LocalCluster gets the same tasks as any cluster: one cost, measured alike
        if settings.scheduler is not None:
            run_remote(settings, settings.scheduler, spec, writer)
        else:
            run_local(settings, spec, writer)


def stop(signum: int, frame: object) -> None:
    """SIGTERM ends the run like an exception would, so the code it registered on a cluster is removed."""
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.cluster.driver")
    parser.add_argument("--settings", required=True, help="ClusterSettings as JSON")
    parser.add_argument("--pipe", type=int, required=True, help="the file descriptor to write events to")
    parser.add_argument("--parent-pid", type=int, required=True)
    args = parser.parse_args(argv)
    tie_to_parent(args.parent_pid)
    signal.signal(signal.SIGTERM, stop)  # Cancel on an existing cluster: leave by the `finally`s (travel.py)
    logging.getLogger("distributed").setLevel(logging.ERROR)
    writer = EventWriter(os.fdopen(args.pipe, "w"))
    settings = ClusterSettings.from_dict(json.loads(args.settings))
    writer.emit(protocol.STARTED, machine=current_machine().to_dict(), settings=settings.to_dict())
    try:
        run(settings, writer)
    except DriverError as exc:
        writer.emit(protocol.ERROR, message=str(exc))
        return 1
    except Exception as exc:  # anything else Dask raises ends the run with one line; the trace goes to stderr
        traceback.print_exc()
        writer.emit(protocol.ERROR, message=describe_error(exc))
        return 1
    writer.emit(protocol.DONE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
