"""The one look every chart of the page shares: template, font, colours, reference lines, empty states.

Every chart colours a mode the same way (`MODE_COLOURS`), so "threads" is the
same blue in the time, speedup, cores, timeline and scaling charts; figures
carry their own titles, axis units and reference lines, so a screenshot
explains itself.
"""

from __future__ import annotations

import re

import plotly.graph_objects as go

MODE_COLOURS: dict[str, str] = {
    "batch": "#6E6E6E",
    "threads": "#0072B2",
    "processes": "#009E73",
    "interpreters": "#D55E00",
    "asyncio": "#E69F00",
    "asyncio_to_thread": "#CC79A7",
    "asyncio_blocking": "#8C564B",
}


OTHER_COLOUR = "#444444"


FAILED_COLOUR = "#D62728"


REFERENCE_COLOUR = "#555555"


IDEAL_COLOUR = "#1B7F3B"


TEMPLATE = "plotly_white"


FONT = {"family": "Inter, Helvetica, Arial, sans-serif", "size": 14}


RIGHT_MARGIN_PX = 30


def mode_colour(mode: str) -> str:
    return MODE_COLOURS.get(mode, OTHER_COLOUR)


def rgba(colour: str, alpha: float) -> str:
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red},{green},{blue},{alpha})"


def plural(count: float, word: str) -> str:
    return f"{count:g} {word}{'' if count == 1 else 's'}"


def natural_key(name: str) -> tuple[tuple[int, int | str], ...]:
    """Sort 'worker-2' before 'worker-10'."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", name) if part)


def styled(fig: go.Figure, title: str, height: int = 440) -> go.Figure:
    fig.update_layout(
        template=TEMPLATE,
        title={"text": title, "x": 0.01, "xanchor": "left"},
        font=FONT,
        height=height,
        margin={"l": 70, "r": RIGHT_MARGIN_PX, "t": 80, "b": 60},
        showlegend=False,
        hoverlabel={"font_size": 13},
    )
    return fig


def empty_figure(title: str, message: str) -> go.Figure:
    """A titled figure with a centred note, so the page never shows a blank chart."""
    fig = styled(go.Figure(), title, height=260)
    fig.add_annotation(text=message, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def reference_line(fig: go.Figure, y: float, label: str, colour: str, dash: str) -> None:
    """A horizontal line across the plot, labelled above its right end, so a narrow column still fits."""
    fig.add_hline(
        y=y,
        line={"color": colour, "dash": dash, "width": 1.5},
        annotation_text=label,
        annotation_position="top right",
        annotation_font={"color": colour, "size": 13},
        annotation_bgcolor="rgba(255, 255, 255, 0.85)",
    )


def note_below(fig: go.Figure, text: str) -> None:
    """A small note under the plot's left corner (what the shading means), below the x-axis title."""
    fig.add_annotation(
        text=text,
        x=0,
        y=0,
        xref="paper",
        yref="paper",
        xanchor="left",
        yanchor="top",
        yshift=-60,
        showarrow=False,
        align="left",
        font={"size": 12},
    )
