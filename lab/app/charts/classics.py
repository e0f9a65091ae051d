"""The Classics figures, as pure functions: one classic's record in, a DataFrame or a Plotly figure out.

Each comparison is already a ratio (threads ÷ sequential, RPS against
1 ÷ interval, a speedup per core), so published and measured share one axis:
a pair of bars per row, the published one grey, the measured one coloured by
whether it agrees. The axis is logarithmic, so 2× slower and 2× faster sit
the same distance from 1.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from lab.app.charts.style import FAILED_COLOUR, IDEAL_COLOUR, REFERENCE_COLOUR, empty_figure, styled
from lab.classics.results import ClassicRecord

PUBLISHED_COLOUR = "#9E9E9E"
UNCOMPARED_COLOUR = "#0072B2"


def agreement_text(value: bool | None) -> str:
    return "—" if value is None else "agrees" if value else "differs"


def compare_frame(record: ClassicRecord) -> pd.DataFrame:
    """The table under a classic's chart: each ratio, published and measured, and whether they agree."""
    rows = [
        {
            "what": row.what,
            "published": row.published,
            "measured here": row.measured,
            "agreement": agreement_text(row.agrees),
            "expected here": row.expected,
        }
        for row in record.compare
    ]
    return pd.DataFrame(rows, columns=["what", "published", "measured here", "agreement", "expected here"])


def ratios_figure(record: ClassicRecord, title: str) -> go.Figure:
    """Published beside measured, one pair of bars per comparison, on a log axis."""
    rows = [row for row in record.compare if row.published is not None and row.published > 0]
    if not rows:
        return empty_figure(title, record.missing or "Nothing to compare.")
    labels = [row.what for row in rows]
    fig = go.Figure()
    fig.add_bar(
        name="published",
        x=labels,
        y=[row.published for row in rows],
        marker_color=PUBLISHED_COLOUR,
        hovertemplate="%{x}<br>published %{y:.3g}<extra></extra>",
    )
    measured = [row.measured if row.measured is not None and row.measured > 0 else None for row in rows]
    colours = [
        UNCOMPARED_COLOUR if row.agrees is None else IDEAL_COLOUR if row.agrees else FAILED_COLOUR
        for row in rows
    ]
    fig.add_bar(
        name="measured here",
        x=labels,
        y=measured,
        marker_color=colours,
        text=[agreement_text(row.agrees) for row in rows],
        textposition="outside",
        hovertemplate="%{x}<br>measured %{y:.3g}<extra></extra>",
    )
    fig.add_hline(y=1.0, line={"color": REFERENCE_COLOUR, "dash": "dot", "width": 1})
    fig.update_layout(barmode="group", legend={"orientation": "h", "y": -0.35})
    fig.update_yaxes(type="log", title="ratio (log scale)")
    fig.update_xaxes(tickangle=0, automargin=True)
    return styled(fig, title, height=420)


def runs_frame(summaries: list[dict[str, object]]) -> pd.DataFrame:
    return pd.DataFrame(summaries)
