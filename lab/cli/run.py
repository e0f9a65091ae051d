"""`python -m lab run`: one workload (or a function of yours) in several execution modes."""

from __future__ import annotations

import argparse
import json

from lab.cli.common import EXIT_FAILED, EXIT_OK, add_output, check_output, follow, keep, write
from lab.core.events import Event
from lab.core.interpreters import GIL_SETTINGS
from lab.engine import protocol
from lab.engine.results import RunResult
from lab.engine.runner import Experiment
from lab.engine.settings import START_METHODS, RunSettings
from lab.engine.workloads import BUILTIN_WORKLOADS
from lab.hosting.admission import Hosting
from lab.run.csvio import to_csv
from lab.run.report import to_table
from lab.run.verdict import verdict

HELP = "run one workload, or MODULE:FUNCTION, in several execution modes"


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """The options of a run, shared by `run`, `compare` and `sweep`."""
    for name in ("tasks", "size", "threads", "latency-ms", "bytes", "repeats"):
        parser.add_argument(f"--{name}", metavar="N")
    parser.add_argument("--url", metavar="URL")
    parser.add_argument("--start-method", choices=START_METHODS)
    parser.add_argument("--timeout", metavar="SECONDS", help="per-request timeout for http (default 10)")
    parser.add_argument(
        "--args", metavar="JSON", help="a JSON array: the arguments of every call of FUNCTION"
    )
    parser.add_argument(
        "--no-check", action="store_true", help="do not compare FUNCTION's results (they legitimately vary)"
    )
    parser.add_argument("--switch-interval-ms", metavar="MS", help="sys.setswitchinterval in every process")
    parser.add_argument("--xray", action="store_true", help="sample every thread's state (Linux /proc)")
    parser.add_argument("--xray-hz", metavar="N", help="X-ray sampling rate")


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = commands.add_parser("run", help=HELP)
    run.add_argument(
        "workload", help=f"one of: {', '.join(BUILTIN_WORKLOADS)}; or MODULE:FUNCTION / PATH.py:FUNCTION"
    )
    run.add_argument("--modes", metavar="m1,m2,...")
    run.add_argument("--workers", metavar="N")
    add_run_options(run)
    run.add_argument("--python", metavar="SPEC", help="an interpreter's name (python -m lab pythons) or path")
    run.add_argument(
        "--gil", choices=GIL_SETTINGS, help="on a free-threaded build: run with the GIL on or off"
    )
    run.add_argument("--trace", metavar="PATH", help="write the spans (and X-ray) as a Perfetto trace")
    add_output(run)


def settings_from(args: argparse.Namespace, **overrides: object) -> RunSettings:
    values: dict[str, object] = {
        "tasks": args.tasks,
        "size": args.size,
        "modes": getattr(args, "modes", None),
        "workers": getattr(args, "workers", None),
        "threads": args.threads,
        "url": args.url,
        "latency_ms": args.latency_ms,
        "bytes": args.bytes,
        "repeats": args.repeats,
        "start_method": args.start_method,
        "timeout_s": args.timeout,
        "args": args.args,
        "check": not args.no_check,
        "python": getattr(args, "python", None),
        "gil": getattr(args, "gil", None),
        "switch_interval_ms": args.switch_interval_ms,
        "xray": args.xray,
        "xray_hz": args.xray_hz,
    }
    values.update(overrides)
    return RunSettings.create(args.workload, **values)


def progress_line(event: Event) -> str | None:
    if event.get("event") != protocol.MODE_FINISHED:
        return None
    run = event["run"]
    failed = sum(1 for span in run["spans"] if not span["ok"])
    note = f", {failed} failed" if failed else ""
    return f"  {run['mode']:<18} repeat {run['repeat'] + 1}: {run['seconds']:.3f} s{note}"


def render(result: RunResult, form: str) -> str:
    if form == "json":
        data = result.to_dict()
        if result.settings.info.releases_gil is None:
            data["verdict"] = verdict(result).to_dict()
        return json.dumps(data, indent=2) + "\n"
    if form == "csv":
        return to_csv([result])
    return to_table(result)


def command(args: argparse.Namespace, hosting: Hosting) -> int:
    check_output(args.output)
    settings = hosting.admit(settings_from(args))
    interpreter = hosting.interpreter(settings, allow_paths=True)
    hosting.check_runnable(settings, interpreter)
    experiment = Experiment(
        settings, interpreter=interpreter, deadline_s=hosting.deadline_s, public=hosting.public
    )
    follow(hosting.line(experiment), progress_line)
    result = experiment.result()
    write(render(result, args.format), args.output)
    keep(result, args, hosting)
    if args.trace:
        from lab.run.trace import write_trace

        write_trace(result, args.trace)
    return EXIT_OK if result.all_ok else EXIT_FAILED
