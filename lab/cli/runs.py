"""`python -m lab runs`: the stored runs (list, show, delete, pin, import a CSV, write an offline report).

The CLI is the host's hand on the store: it lists every run and may delete
and pin (public mode's visitors, on the page, may not). `runs show ID
--format json` prints the JSON the run printed when it ran; `runs report`
runs `python -m lab.app.report` in a child process, because only the page's
layer may import plotly.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lab.catalog import read_csv, write_csv
from lab.cli import run as run_cli
from lab.cli import sweep as sweep_cli
from lab.cli.common import EXIT_FAILED, EXIT_OK, Parser, check_output, say, write
from lab.cluster.report import to_table as cluster_table
from lab.compare.report import compare_table
from lab.convoy.report import to_table as convoy_table
from lab.core.errors import InvalidSettings, LabError, ResultsFormatError
from lab.core.procs import REPO_ROOT, child_env
from lab.hosting.admission import Hosting
from lab.store import labs
from lab.store.store import MAX_PAGE, RunStore, StoredRun, StoreLimits
from lab.web.report import to_table as web_table

HELP = "the stored runs: list, show, delete, pin, import a CSV, write an offline HTML report"
MAX_CSV_BYTES = 64 * 1024 * 1024
REPORT_TIMEOUT_S = 120


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    runs = commands.add_parser("runs", help=HELP)
    actions = runs.add_subparsers(dest="action", required=True, parser_class=Parser)
    listing = actions.add_parser("list", help="the stored runs, newest first")
    listing.add_argument("--lab", choices=labs.LAB_NAMES)
    listing.add_argument("--limit", metavar="N", type=page_size, default=20)
    listing.add_argument("--format", choices=("table", "json"), default="table")
    show = actions.add_parser("show", help="one stored run, as its lab's subcommand printed it")
    show.add_argument("id")
    show.add_argument("--format", choices=("table", "json", "csv"), default="table")
    show.add_argument("--output", metavar="PATH", type=Path)
    actions.add_parser("delete", help="delete a stored run").add_argument("id")
    pin = actions.add_parser("pin", help="pin a run: never evicted, and listed for every visitor")
    pin.add_argument("id")
    pin.add_argument("--off", action="store_true", help="unpin")
    imported = actions.add_parser("import", help="store the runs of a CSV of any lab")
    imported.add_argument("file", type=Path)
    report = actions.add_parser("report", help="one self-contained HTML file that works offline")
    report.add_argument("id")
    report.add_argument("--output", metavar="FILE.html", type=Path, required=True)


def page_size(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text[:40]!r}") from None
    if not 1 <= value <= MAX_PAGE:
        raise argparse.ArgumentTypeError(f"from 1 to {MAX_PAGE}")
    return value


def command(args: argparse.Namespace, hosting: Hosting) -> int:
    action: Callable[[argparse.Namespace, RunStore], int] = ACTIONS[args.action]
    if args.action == "report":
        return write_report(args)
    with RunStore.open(limits=StoreLimits.from_env(os.environ, hosting.public)) as store:
        return action(args, store)


def list_runs(args: argparse.Namespace, store: RunStore) -> int:
    rows = store.list(lab=args.lab, limit=args.limit, check=True)
    if args.format == "json":
        write(json.dumps([row.columns() for row in rows], indent=2) + "\n", None)
    else:
        write(runs_table(rows, store.count(lab=args.lab)), None)
    return EXIT_OK


def headline(row: StoredRun) -> str:
    if row.headline is None:
        return "-"
    figure = f"{row.headline:.2f}x" if row.headline_label == "speedup" else f"{row.headline:,.1f}"
    return figure if row.headline_label == "speedup" else f"{figure} {row.headline_label}"


def runs_table(rows: list[StoredRun], total: int) -> str:
    header = f"{'id':<22}  {'lab':<8} {'created':<25} {'status':<10} {'workload':<20} {'headline':<18} cores"
    lines = [header, "-" * len(header)]
    for row in rows:
        cores = "-" if row.usable_cores is None else f"{row.usable_cores:g}"
        flags = (" pinned" if row.pinned else "") + (f"  {row.problem}" if row.problem else "")
        lines.append(
            f"{row.id:<22}  {row.lab:<8} {row.created:<25} {row.status:<10} "
            f"{(row.workload or '-')[:20]:<20} {headline(row):<18} {cores}{flags}"
        )
    shown = f"{len(rows)} of {total} stored run(s), newest first"
    return "\n".join([*lines, shown]) + "\n"


def show_run(args: argparse.Namespace, store: RunStore) -> int:
    check_output(args.output)
    stored = store.get(args.id)
    if not stored.readable:
        raise ResultsFormatError(f"run {stored.id} cannot be shown: {stored.problem}")
    write(render(stored, args.format), args.output)
    return EXIT_OK


def render(stored: StoredRun, form: str) -> str:
    """A stored run as its lab's subcommand prints it (json: the JSON it printed when it ran)."""
    record, lab = stored.record, stored.lab
    if form == "csv":
        return write_csv([record])
    imported = stored.data is not None and labs.is_imported(stored.data)
    if form == "json":
        if lab == "run" and not imported:
            return run_cli.render(record, "json")
        return json.dumps(stored.data if imported else record.to_dict(), indent=2) + "\n"
    tables: dict[str, Callable[[Any], str]] = {
        "run": lambda r: run_cli.render(r, "table"),
        "compare": compare_table,
        "sweep": lambda r: sweep_cli.render(r, "table"),
        "web": web_table,
        "convoy": convoy_table,
        "cluster": cluster_table,
    }
    return tables[lab](record)


def delete_run(args: argparse.Namespace, store: RunStore) -> int:
    store.delete(args.id)
    say(f"deleted run {args.id}")
    return EXIT_OK


def pin_run(args: argparse.Namespace, store: RunStore) -> int:
    store.pin(args.id, on=not args.off)
    say(f"{'unpinned' if args.off else 'pinned'} run {args.id}")
    return EXIT_OK


def import_runs(args: argparse.Namespace, store: RunStore) -> int:
    """Every run of the CSV gets a store id; a run already stored keeps its own."""
    path: Path = args.file
    try:
        if path.stat().st_size > MAX_CSV_BYTES:
            raise InvalidSettings(f"{path} is larger than {MAX_CSV_BYTES // 2**20} MB")
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidSettings(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        records = read_csv(data)
    except ResultsFormatError as exc:
        raise InvalidSettings(f"{path}: {exc}") from None
    for record in records:
        stored = store.save(record, source="imported")
        say(f"stored {record.lab} run {record.run_id} as {stored}: ?run={stored}")
    say(f"{len(records)} run(s) from {path}")
    return EXIT_OK


def write_report(args: argparse.Namespace) -> int:
    """`python -m lab.app.report ID --output FILE` in a child (the page's layer draws the charts)."""
    check_output(args.output)
    output = str(args.output.resolve())
    command = [sys.executable, "-m", "lab.app.report", args.id, "--output", output]
    try:
        done = subprocess.run(
            command, cwd=REPO_ROOT, env=child_env(), capture_output=True, text=True, timeout=REPORT_TIMEOUT_S
        )
    except subprocess.TimeoutExpired:
        raise LabError(f"the report took longer than {REPORT_TIMEOUT_S} s") from None
    if done.stderr:
        sys.stderr.write(done.stderr)
    return done.returncode if done.returncode in (EXIT_OK, 2) else EXIT_FAILED


ACTIONS: dict[str, Callable[[argparse.Namespace, RunStore], int]] = {
    "list": list_runs,
    "show": show_run,
    "delete": delete_run,
    "pin": pin_run,
    "import": import_runs,
    "report": lambda args, store: write_report(args),
}
