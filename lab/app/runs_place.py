"""The Runs place: the stored runs, newest first, filtered; open, compare two, export, report, pin, delete.

In public mode a visitor sees the runs their own session stored and the
runs the host pinned, and can neither delete nor pin (`lab.store.store`
enforces it; this page only hides the buttons). Opening a run goes to its
lab's place with `?run=ID`, where it is drawn read-only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import plotly.graph_objects as go
import streamlit as st

from lab.app import state, stored
from lab.app.charts import cluster as cluster_charts
from lab.app.charts import compare as compare_charts
from lab.app.charts import convoy as convoy_charts
from lab.app.charts import run as run_charts
from lab.app.charts import web as web_charts
from lab.app.charts.sweep import scaling_figure
from lab.app.places import RUN_PARAM
from lab.app.report import report_html
from lab.catalog import write_csv
from lab.core.errors import LabError
from lab.store import labs
from lab.store.store import StoredRun

PAGE_ROWS = 200
ALL = "every lab"

# The chart two runs of one lab share: its headline figure, built by the lab's own figure builder.
HEADLINE_CHARTS: dict[str, Callable[[Any], go.Figure]] = {
    "run": run_charts.speedup_chart,
    "compare": compare_charts.speedup_by_interpreter,
    "sweep": scaling_figure,
    "cluster": cluster_charts.speedup_chart,
    "web": web_charts.throughput_figure,
    "convoy": convoy_charts.latency_figure,
}


def label(row: StoredRun) -> str:
    figure = "" if row.headline is None else f", {row.headline:.2f} {row.headline_label}"
    return f"{row.created} · {row.lab} · {row.workload or '-'}{figure} · {row.id}"


def table(rows: list[StoredRun]) -> list[dict[str, Any]]:
    return [
        {
            "open": f"{page_url(row)}?{RUN_PARAM}={row.id}",
            "when": row.created,
            "lab": row.lab,
            "workload": row.workload,
            "interpreters": ", ".join(row.interpreters),
            "headline": row.headline,
            "of": row.headline_label,
            "cores": row.usable_cores,
            "CPU": row.cpu_model,
            "status": row.status,
            "pinned": row.pinned,
            "readable": row.problem or "yes",
        }
        for row in rows
    ]


def page_url(row: StoredRun) -> str:
    """The lab's place for a listed row (the CPU/I-O lab's runs on /cpu or /io, by their work)."""
    return "/" + stored.page_of(row)


def together(rows: list[StoredRun]) -> go.Figure:
    """Two runs of one lab on one chart: each run's traces, named by the run, on the first's axes."""
    first = HEADLINE_CHARTS[rows[0].lab](rows[0].record)
    merged = go.Figure(layout=first.layout)
    for number, row in enumerate(rows, start=1):
        figure = first if number == 1 else HEADLINE_CHARTS[row.lab](row.record)
        for trace in figure.data:
            name = f"run {number}" + (f": {trace.name}" if trace.name else "")
            merged.add_trace(trace.update(name=name, legendgroup=f"run {number}", showlegend=True))
    merged.update_layout(showlegend=True, barmode="group")
    return merged


def render() -> None:
    st.title("Runs")
    try:
        store = stored.shared_store()
    except LabError as exc:
        st.error(f"The run store cannot be opened: {exc}")
        return
    public = state.hosting().public
    st.caption(
        "Your session's runs and the runs the host pinned, newest first."
        if public
        else "Every stored run on this machine, newest first."
    )
    lab_col, workload_col, interpreter_col = st.columns(3)
    chosen_lab = lab_col.selectbox("Lab", [ALL, *labs.LAB_NAMES])
    workload = workload_col.text_input("Workload", max_chars=200).strip() or None
    interpreter = interpreter_col.text_input("Interpreter contains", max_chars=100).strip() or None
    try:
        rows = store.list(
            lab=None if chosen_lab == ALL else chosen_lab,
            workload=workload,
            interpreter=interpreter,
            viewer=stored.owner(),
            limit=PAGE_ROWS,
            check=True,
        )
    except LabError as exc:
        st.error(str(exc))
        return
    if not rows:
        st.info("No stored runs match. Every run you finish in a lab is stored here.")
        return
    st.dataframe(
        table(rows),
        hide_index=True,
        column_config={"open": st.column_config.LinkColumn("open", display_text="open")},
    )
    by_label = {label(row): row for row in rows}
    picked = st.multiselect(
        "Runs to act on (two runs of one lab are drawn on one chart)", list(by_label), max_selections=2
    )
    chosen = [by_label[name] for name in picked]
    if not chosen:
        return
    readable = [row for row in chosen if row.readable]
    for row in chosen:
        if not row.readable:
            st.warning(f"Run {row.id} is {row.problem}")
    if len(readable) == 2 and readable[0].lab == readable[1].lab:
        st.plotly_chart(together(readable))
    elif len(readable) == 2:
        st.info("Two runs are drawn together only when they are of one lab.")
    for row in readable:
        actions(row, public)


def actions(row: StoredRun, public: bool) -> None:
    st.subheader(label(row))
    open_col, csv_col, report_col, pin_col, delete_col = st.columns(5, vertical_alignment="bottom")
    open_col.page_link(stored.page_path(row), label="Open", query_params={RUN_PARAM: row.id})
    csv_col.download_button(
        "CSV",
        data=write_csv([row.record]),
        file_name=f"gil-lab-{row.lab}-{row.run_id}.csv",
        mime="text/csv",
        key=f"csv_{row.id}",
    )
    report_key = f"report_{row.id}"
    if report_key in st.session_state:
        report_col.download_button(
            "Save report",
            data=st.session_state[report_key],
            file_name=f"gil-lab-{row.lab}-{row.run_id}.html",
            mime="text/html",
            key=f"save_{row.id}",
            help="One HTML file with its charts that works offline (about 5 MB: plotly.js is inside).",
        )
    elif report_col.button("Offline report", key=f"make_{row.id}"):
        st.session_state[report_key] = report_html(row)
        st.rerun()
    if public:
        return
    if pin_col.button("Unpin" if row.pinned else "Pin", key=f"pin_{row.id}"):
        change(lambda: stored.shared_store().pin(row.id, on=not row.pinned))
    if delete_col.button("Delete", key=f"delete_{row.id}"):
        change(lambda: stored.shared_store().delete(row.id))


def change(action: Callable[[], None]) -> None:
    try:
        action()
    except LabError as exc:
        st.error(str(exc))
        return
    st.rerun()
