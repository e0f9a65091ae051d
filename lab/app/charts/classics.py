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


def agreement_text(value: bool | None, as_expected: bool | None = None) -> str:
    if value is None:
        return "—"
    if value:
        return "agrees"
    return "differs, as expected here" if as_expected else "differs"


def agreement_colour(value: bool | None, as_expected: bool | None) -> str:
    """Green agrees, red differs, blue differs the way the lab expects today's Python to (or not compared)."""
    if value is None or (not value and as_expected):
        return UNCOMPARED_COLOUR
    return IDEAL_COLOUR if value else FAILED_COLOUR


def compare_frame(record: ClassicRecord) -> pd.DataFrame:
    """The table under a classic's chart: each ratio, published and measured, and whether they agree."""
    rows = [
        {
            "what": row.what,
            "published": row.published,
            "measured here": row.measured,
            "agreement": agreement_text(row.agrees, row.as_expected),
            "expected here": row.expected,
        }
        for row in record.compare
    ]
    return pd.DataFrame(rows, columns=["what", "published", "measured here", "agreement", "expected here"])


def ratios_figure(record: ClassicRecord, title: str) -> go.Figure:
    """Published beside measured, one row per comparison: a grey diamond and a coloured dot on a log axis.

    Dots, not bars: on a log axis a bar's length depends on where the axis
    starts, a dot's position does not.
    """
    rows = [row for row in record.compare if row.published is not None and row.published > 0]
    if not rows:
        return empty_figure(title, record.missing or "Nothing to compare.")
    labels = [row.what for row in rows]
    fig = go.Figure()
    fig.add_scatter(
        name="published",
        x=[row.published for row in rows],
        y=labels,
        mode="markers",
        marker={"symbol": "diamond", "size": 13, "color": PUBLISHED_COLOUR},
        hovertemplate="%{y}<br>published %{x:.3g}<extra></extra>",
    )
    measured = [row for row in rows if row.measured is not None and row.measured > 0]
    fig.add_scatter(
        name="measured here",
        x=[row.measured for row in measured],
        y=[row.what for row in measured],
        mode="markers+text",
        marker={
            "size": 13,
            "color": [agreement_colour(row.agrees, row.as_expected) for row in measured],
        },
        text=[agreement_text(row.agrees, row.as_expected) for row in measured],
        textposition="middle right",
        cliponaxis=False,
        hovertemplate="%{y}<br>measured %{x:.3g}<extra></extra>",
    )
    fig.add_vline(x=1.0, line={"color": REFERENCE_COLOUR, "dash": "dot", "width": 1})
    fig.update_layout(legend={"orientation": "h", "y": -0.12 - 0.3 / len(rows)})
    fig.update_xaxes(type="log", title="ratio (log scale; 1 = the same)")
    fig.update_yaxes(autorange="reversed", automargin=True)
    return styled(fig, title, height=160 + 42 * len(rows))


def runs_frame(summaries: list[dict[str, object]]) -> pd.DataFrame:
    return pd.DataFrame(summaries)
