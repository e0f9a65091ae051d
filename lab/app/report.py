"""One stored run as one self-contained HTML file that works offline: its charts, takeaway, machine, settings.

The page's charts load Plotly's JavaScript from a CDN when exported, so
without the internet they show nothing. This report inlines plotly.js once
(about 4.6 MB, which is most of the file) and draws every chart with it, so
the file opens from a USB stick on a plane. Everything else is escaped text
from the stored record; nothing is fetched.

`python -m lab.app.report ID --output FILE.html` is what `python -m lab runs
report` runs in a child process (only this layer may import plotly); the
page can call `report_html(stored)` for its download button.
"""

from __future__ import annotations

import argparse
import html
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from lab.app.charts import cluster as cluster_charts
from lab.app.charts import compare as compare_charts
from lab.app.charts import convoy as convoy_charts
from lab.app.charts import run as run_charts
from lab.app.charts import web as web_charts
from lab.app.charts.sweep import scaling_figure
from lab.cluster.results import ClusterResult
from lab.cluster.takeaway import takeaway as cluster_takeaway
from lab.compare.takeaway import compare_takeaway
from lab.convoy.report import takeaway as convoy_takeaway
from lab.core.errors import InvalidSettings, LabError
from lab.engine.results import RunResult
from lab.run.takeaway import takeaway as run_takeaway
from lab.store.store import RunStore, StoredRun
from lab.sweep.report import sweep_takeaway
from lab.web.results import WebResult
from lab.web.takeaway import takeaway as web_takeaway

PROG = "python -m lab runs report"
CHART_CONFIG = {"displaylogo": False, "responsive": True}
STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
.measured { background: #f3f6fa; border-left: 4px solid #4c78a8; padding: .6em 1em; }
.chart { margin: 1.5em 0; }
table { border-collapse: collapse; } td { padding: .15em .8em; border-bottom: 1px solid #eee; }
footer { color: #777; font-size: .85em; margin-top: 3em; }
"""


def figures(record: Any, lab: str) -> list[go.Figure]:
    """The run's charts, built by the same figure builders the page uses."""
    made: list[go.Figure | None] = []
    if lab == "run":
        made = [run_charts.time_chart(record), run_charts.speedup_chart(record)]
        made.append(run_charts.cores_chart(record))
        if isinstance(record, RunResult):
            made.append(run_charts.timeline_chart(record))
    elif lab == "compare":
        made = [
            compare_charts.speedup_by_interpreter(record),
            compare_charts.cores_by_interpreter(record),
            compare_charts.batch_cost(record),
        ]
    elif lab == "sweep":
        made = [scaling_figure(record)]
    elif lab == "web":
        made = [web_charts.throughput_figure(record), web_charts.latency_figure(record)]
        if isinstance(record, WebResult):
            made += [web_charts.ping_figure(record), web_charts.latency_over_time_figure(record)]
    elif lab == "convoy":
        made = [convoy_charts.latency_figure(record)]
    elif lab == "cluster":
        made = [
            cluster_charts.speedup_chart(record),
            cluster_charts.cores_chart(record),
            cluster_charts.overhead_chart(record),
        ]
        if isinstance(record, ClusterResult):
            made.append(cluster_charts.task_stream_chart(record))
    return [figure for figure in made if figure is not None]


TAKEAWAYS: dict[str, Callable[[Any], list[str]]] = {
    "run": run_takeaway,
    "compare": compare_takeaway,
    "sweep": sweep_takeaway,
    "web": web_takeaway,
    "convoy": convoy_takeaway,
    "cluster": cluster_takeaway,
}


def measured_on(stored: StoredRun) -> str:
    """ "Measured on: CPU model, usable cores, Python, GIL, when", from the record itself."""
    record = stored.record
    runs = getattr(record, "runs", ())
    first = runs[0] if stored.lab == "compare" and runs else record
    machine = first.machine
    interpreter = getattr(first, "interpreter", None)
    if interpreter is not None:
        python = f"{interpreter.implementation} {interpreter.version} ({interpreter.name})"
        gil = "GIL on" if interpreter.gil_enabled else "GIL off"
    else:
        python = f"{machine.implementation} {machine.python_version}"
        gil = "GIL on" if machine.gil_enabled else "GIL off"
    if stored.lab == "compare":
        python, gil = ", ".join(stored.interpreters), "GIL as listed"
    cpu = machine.cpu_model or "a CPU that did not say its model"
    return f"Measured on: {cpu}, {machine.usable_cores:g} usable cores, {python}, {gil}, {record.created}"


def settings_of(stored: StoredRun) -> dict[str, Any]:
    record = stored.record
    settings = getattr(record, "settings", None)
    if stored.lab == "compare":
        return {**record.settings.base.to_dict(), "pythons": [p.label for p in record.settings.pythons]}
    to_dict = getattr(settings, "to_dict", None)
    return dict(to_dict()) if callable(to_dict) else {}


def chart_html(fig: go.Figure) -> str:
    """One chart's div and script, drawn by the plotly.js the report's head carries (so it is there once)."""
    return str(fig.to_html(full_html=False, include_plotlyjs=False, config=CHART_CONFIG))


def report_html(stored: StoredRun) -> str:
    """The whole report as one HTML document (plotly.js inlined once, every chart drawn from it)."""
    if not stored.readable:
        raise LabError(f"run {stored.id} cannot be reported: {stored.problem}")
    record = stored.record
    charts = [f'<div class="chart">{chart_html(fig)}</div>' for fig in figures(record, stored.lab)]
    sentences = "".join(f"<li>{html.escape(line)}</li>" for line in TAKEAWAYS[stored.lab](record))
    settings = "".join(
        f"<tr><td>{html.escape(str(name))}</td><td>{html.escape(json.dumps(value))}</td></tr>"
        for name, value in settings_of(stored).items()
    )
    machine = "".join(
        f"<tr><td>{html.escape(str(name))}</td><td>{html.escape(str(value))}</td></tr>"
        for name, value in measured_machine(stored).items()
    )
    title = f"GIL Lab: {stored.lab} run {stored.run_id}"
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>{html.escape(title)}</title><style>{STYLE}</style>",
            f'<script type="text/javascript">{get_plotlyjs()}</script>',
            "</head><body>",
            f"<h1>{html.escape(title)}</h1>",
            f'<p class="measured">{html.escape(measured_on(stored))}</p>',
            f"<p>Status: {html.escape(stored.status)}"
            + (f" ({html.escape(record.message)})" if getattr(record, "message", None) else "")
            + "</p>",
            f"<h2>Takeaway</h2><ul>{sentences}</ul>",
            *charts,
            f"<h2>Settings</h2><table>{settings}</table>",
            f"<h2>Machine</h2><table>{machine}</table>",
            f"<footer>Stored run {html.escape(stored.id)}; this file needs no network.</footer>",
            "</body></html>",
        ]
    )


def measured_machine(stored: StoredRun) -> dict[str, Any]:
    record = stored.record
    runs = getattr(record, "runs", ())
    first = runs[0] if stored.lab == "compare" and runs else record
    return dict(first.machine.to_dict())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.app.report", description=__doc__.split("\n")[0])
    parser.add_argument("id")
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        with RunStore.open() as store:
            stored = store.get(args.id)
        text = report_html(stored)
        args.output.write_text(text, encoding="utf-8")
    except InvalidSettings as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except LabError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"{PROG}: error: cannot write {args.output}: {exc.strerror}", file=sys.stderr)
        return 2
    print(f"wrote {args.output} ({len(text.encode()) / 1e6:.1f} MB)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
