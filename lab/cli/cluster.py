"""`python -m lab cluster`: the lab's tasks on a Dask cluster, layout by layout (W workers x T threads).

Each layout runs on an embedded LocalCluster started for it and closed after
it; the first layout is the baseline of the speedups. `--scheduler` runs on
an existing cluster as it is instead (its layout is read from the scheduler),
so giving `--layouts` too is refused. Exit status: 0 every task succeeded; 1
some failed, or the run could not start (an unreachable scheduler: one line,
no traceback); 2 invalid arguments (a malformed address too); 130 after
Ctrl-C, once the driver and its cluster are gone. Light to import: Dask loads
only in the driver process.
"""

from __future__ import annotations

import argparse

from lab.cli.common import EXIT_FAILED, EXIT_OK, add_output, check_output, follow, keep, say, write
from lab.cluster import protocol
from lab.cluster.csvio import to_csv
from lab.cluster.report import to_table
from lab.cluster.results import ClusterResult
from lab.cluster.runner import ClusterExperiment
from lab.cluster.settings import CLUSTER_WORKLOADS, DEFAULT_LAYOUTS, ClusterSettings
from lab.core.errors import RunFailed
from lab.core.events import Event
from lab.hosting.admission import Hosting

PROG = "python -m lab cluster"
HELP = "run a workload on a Dask cluster: worker processes x threads, layout by layout"


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("cluster", help=HELP)
    parser.add_argument("workload", help=f"one of: {', '.join(CLUSTER_WORKLOADS)}")
    parser.add_argument(
        "--layouts",
        metavar="WxT,...",
        help=f"W worker processes of T threads each, a LocalCluster per layout (default {DEFAULT_LAYOUTS})",
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="tcp://HOST:PORT of an existing Dask scheduler: run on its cluster as it is (no --layouts)",
    )
    parser.add_argument("--tasks", metavar="N", help="tasks per layout (default 8)")
    parser.add_argument("--size", metavar="N", help="the work of one task, in the workload's unit")
    parser.add_argument("--repeats", metavar="N", help="runs of each layout on the same cluster (default 1)")
    add_output(parser)


def settings_from(args: argparse.Namespace) -> ClusterSettings:
    return ClusterSettings.create(
        args.workload,
        tasks=args.tasks,
        size=args.size,
        layouts=args.layouts,
        repeats=args.repeats,
        scheduler=args.scheduler,
    )


def progress_line(event: Event) -> str | None:
    kind = event.get("event")
    if kind == protocol.LAYOUT_STARTING and event.get("layout") is not None:
        return f"  starting a LocalCluster of {event['layout']['layout']}"
    if kind == protocol.LAYOUT_STARTED and event["repeat"] == 0:
        return f"  {event['layout']['layout']}: {len(event['workers'])} worker(s) ready, submitting tasks"
    if kind != protocol.LAYOUT_FINISHED:
        return None
    run = event["run"]
    failed = sum(1 for task in run["tasks"] if not task["ok"])
    note = f", {failed} failed" if failed else ""
    return f"  {run['layout']:<10} repeat {run['repeat'] + 1}: {run['seconds']:.3f} s{note}"


def render(result: ClusterResult, form: str) -> str:
    if form == "json":
        return result.to_json(indent=2) + "\n"
    if form == "csv":
        return to_csv([result])
    return to_table(result)


def command(args: argparse.Namespace, hosting: Hosting) -> int:
    check_output(args.output)
    settings: ClusterSettings = hosting.admit(settings_from(args))
    experiment = ClusterExperiment(settings, deadline_s=hosting.deadline_s)
    follow(hosting.line(experiment), progress_line)
    result = experiment.result()
    if result.status == "crashed" and not result.runs:
        raise RunFailed(result.message or "the cluster driver failed")
    write(render(result, args.format), args.output)
    keep(result, args, hosting)
    if result.status != "complete":
        say(f"{PROG}: the run {result.status}: {result.message}")
    return EXIT_OK if result.all_ok else EXIT_FAILED
