"""How the lab's task reaches a Dask cluster that has never seen GIL Lab: its code travels with the run.

Dask sends a task's function by reference (module and name), so by default
every worker, and the scheduler, which unpickles every task graph it is sent,
must import it. Instead, for each run (each repeat of a layout):

- the driver registers the task's function as a Dask worker plugin
  (`lab.cluster.task.Carried`) under a name of the run's own; Dask pickles a
  plugin whose module cloudpickle was told to pickle by value
  (`cloudpickle.register_pickle_by_value`, for `TRAVELLING_MODULES`: the task
  and the few standard-library-only modules it calls) with their code, and
  sends it to every worker, and to any worker that joins during the run;
- every task is `operator.call(get_worker().plugins[name], index)`, made of
  stdlib and Dask functions only: Dask pickles a graph with plain `pickle`,
  which would send the lab's function by reference whatever cloudpickle was
  told, and the scheduler must read every graph with nothing but Python,
  `dask` and `distributed`;
- when the run ends, the driver unregisters the plugin: Dask removes it from
  the scheduler and every worker. Nothing of GIL Lab is ever imported there.
  Cancel on an existing cluster gives the driver a moment to do so (SIGTERM,
  then SIGKILL: lab.cluster.runner); a driver killed outright, or whose
  cluster vanished, leaves the plugin in the scheduler's and the workers'
  memory (never on disk) until the scheduler restarts.

Why a plugin and not the other two ways cloudpickle offers: the code in
every task's message (about 45 KB each) doubled Dask's cost per task, and the
code as one task's result made every task depend on the worker holding it,
where Dask then ran them all. The plugin costs one registration per run and
nothing per task (`benchmarks/cluster_overhead.py --travel`; the README gives
the figures beside Dask's own cost). The one condition: code objects are one
Python minor version's bytecode, so the cluster must run the driver's Python
(major.minor) and Dask. `version_mismatch` reads Dask's own version report
(`Client.get_versions`) and names the first node that differs, in one line,
before anything is sent.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import operator
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, cast

import cloudpickle
from dask.task_spec import Task
from distributed import Client, Future, get_worker

from lab.cluster.task import Carried

# The task (lab.cluster.task) and everything it calls; tests/cluster/test_travel.py checks that a Python
# without GIL Lab on its path runs the pickled task, so a module missing here fails there, not on a cluster.
TRAVELLING_MODULES = (
    "lab.cluster.task",
    "lab.engine.measure",
    "lab.engine.workloads",
    "lab.engine.spans",
    "lab.engine.classic_work",
    "lab.core.work",
    "lab.core.errors",
)


@contextlib.contextmanager
def tasks_by_value() -> Iterator[None]:
    """Pickle the task's modules by value while the block runs (what is sent then carries their code)."""
    modules = [importlib.import_module(name) for name in TRAVELLING_MODULES]
    registered = []
    try:
        for module in modules:
            if module.__name__ not in cloudpickle.list_registry_pickle_by_value():
                cloudpickle.register_pickle_by_value(module)
                registered.append(module)
        yield
    finally:
        for module in registered:
            cloudpickle.unregister_pickle_by_value(module)


class Travelling:
    """A function and its first arguments, for one run on a cluster that cannot import GIL Lab.

    `on(client)` registers it as a worker plugin under a name of its own, for
    the block; `Sent.submit` runs it in a task that finds it by that name.
    """

    def __init__(self, function: Callable[..., Any], *args: Any) -> None:
        self.plugin = Carried(functools.partial(function, *args))
        self.name = f"gil-lab-code-{uuid.uuid4().hex[:12]}"

    def packed(self) -> bytes:
        """What Dask sends each worker: the plugin pickled by value (tests and benchmarks read it)."""
        with tasks_by_value():
            return cast(bytes, cloudpickle.dumps(self.plugin))

    @contextlib.contextmanager
    def on(self, client: Client) -> Iterator[Sent]:
        """The function on every worker of `client`'s cluster for the block, unregistered from all after."""
        with tasks_by_value():  # Dask pickles a plugin of a by-value module with cloudpickle, by value
            client.register_plugin(self.plugin, name=self.name)
        try:
            yield Sent(client, self.name)
        finally:
            with contextlib.suppress(Exception):  # a cluster gone by now has nothing left to hold it
                client.unregister_worker_plugin(self.name)  # type: ignore[no-untyped-call]


@dataclass(frozen=True)
class Sent:
    """A function registered on a cluster as the worker plugin `name`."""

    client: Client
    name: str

    def submit(self, *args: Any, key: str) -> Future[Any]:
        """Call the function with `args` on a worker: one task, never cached, of stdlib and Dask calls only.

        The task is `operator.call(get_worker().plugins[name], *args)`, built
        of nested Dask tasks that run inline, in the task, on the worker.
        """
        plugins = Task(None, operator.attrgetter("plugins"), Task(None, get_worker))
        carried = Task(None, operator.getitem, plugins, self.name)
        return self.client.submit(operator.call, carried, *args, key=key, pure=False)


def python_minor(version: str) -> str:
    """'3.11.7.final.0' (Dask's form) -> '3.11': the part bytecode depends on."""
    return ".".join(version.split(".")[:2])


def stack(packages: dict[str, Any]) -> tuple[str, str, str]:
    """Python (full), dask and distributed versions from one node's `packages` entry."""
    python = str(packages.get("python") or "unknown")
    return python, str(packages.get("dask") or "missing"), str(packages.get("distributed") or "missing")


def describe_stack(python: str, dask: str, distributed: str) -> str:
    short = ".".join(python.split(".")[:3])
    dask_part = f"Dask {dask}" if dask == distributed else f"Dask {dask} (distributed {distributed})"
    return f"Python {short} and {dask_part}"


def version_mismatch(versions: dict[str, Any]) -> str | None:
    """One line naming the first node whose Python minor version or Dask differs from this driver's, or None.

    `versions` is `Client.get_versions()`'s answer: "client", "scheduler" and
    "workers" (address -> report), each report with a "packages" mapping. A
    node that did not answer is left to the run itself to report.
    """
    mine = stack(dict(versions["client"]["packages"]))
    nodes: list[tuple[str, dict[str, Any]]] = [("the scheduler", versions.get("scheduler") or {})]
    nodes += [(f"worker {address}", report or {}) for address, report in sorted(versions["workers"].items())]
    differing = []
    for name, report in nodes:
        if not isinstance(report, dict) or "packages" not in report:
            continue
        theirs = stack(dict(report["packages"]))
        if python_minor(theirs[0]) != python_minor(mine[0]) or theirs[1:] != mine[1:]:
            differing.append((name, theirs))
    if not differing:
        return None
    (name, theirs), others = differing[0], len(differing) - 1
    more = f" (and {others} more node{'s' if others > 1 else ''})" if others else ""
    return (
        f"{name} runs {describe_stack(*theirs)}{more}, this driver {describe_stack(*mine)}: "
        f"the lab's tasks travel as Python {python_minor(mine[0])} code through Dask {mine[1]}, "
        "so the cluster needs the same Python minor version and Dask"
    )
