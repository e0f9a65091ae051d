"""The scaling sweep's figure: speedup and efficiency against workers, with the ideal, the fits and the cores.

One line per mode × interpreter (solid, with markers, whiskers from the
slowest to the fastest round), the fitted model dashed in the same colour,
the ideal min(n, cores) and a shaded band where n is past the usable cores,
where no mode can go any faster. Pure functions from a `SweepResult` to a
Plotly figure (and the figure to a standalone HTML file), so the page, the
tests and an export all draw the same thing. The worker axis is logarithmic:
sweeps double their counts, and equal steps then look equal.
"""

from __future__ import annotations

import html
import math

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lab.app.charts.style import IDEAL_COLOUR, REFERENCE_COLOUR, mode_colour, rgba, styled
from lab.sweep.fit import Fit, curve
from lab.sweep.results import SweepPoint, SweepResult

SYMBOLS = ("circle", "square", "diamond", "triangle-up", "x", "star", "pentagon", "hexagon")
DASHES = ("dash", "dashdot", "longdash", "longdashdot")
BAND_COLOUR = "#888888"
CURVE_STEPS = 80
X_PAD = 1.12  # room either side of the outermost counts on the log axis
HEIGHT_PX = 820
PNG_CONFIG = {
    "toImageButtonOptions": {"format": "png", "filename": "gil-lab-sweep", "scale": 2},
    "displaylogo": False,
}
SPEEDUP_TITLES = {
    "strong": "Speedup vs one worker, same total work (higher is better)",
    "weak": "Scaled speedup n·T₁/Tₙ, same work per worker (higher is better)",
}
EFFICIENCY_TITLE = "Efficiency: speedup ÷ workers (1 = every worker fully used)"


def curve_workers(counts: tuple[int, ...], cores: float) -> list[float]:
    """Worker counts to draw smooth curves at: a geometric grid, the counts themselves and the core count."""
    top = counts[-1]
    grid = {math.exp(math.log(top) * step / CURVE_STEPS) for step in range(CURVE_STEPS + 1)}
    grid |= {float(count) for count in counts}
    if 1 < cores < top:
        grid.add(cores)
    return sorted(grid)


def line_name(result: SweepResult, mode: str, interpreter: str) -> str:
    return f"{mode} · {interpreter}" if len(result.interpreters) > 1 else mode


def fit_name(name: str, fit: Fit) -> str:
    if fit.serial_fraction is None:
        return f"{name} fit"
    if fit.quality == "poor":
        return f"{name} fit (poor: not a model of these points)"
    return f"{name} fit: s = {fit.serial_fraction:.2f} ± {fit.serial_fraction_err or 0:.2f}"


def measured_traces(
    result: SweepResult, mode: str, interpreter: str, symbol: str
) -> tuple[go.Scatter, go.Scatter] | None:
    """The line's clean points as speedup and efficiency, whiskers spanning its rounds."""
    points = [point for point in result.line_points(mode, interpreter) if result.speedup(point) is not None]
    if not points:
        return None
    name = line_name(result, mode, interpreter)
    colour = mode_colour(mode)
    ranges = [result.speedup_range(point) or (0.0, 0.0) for point in points]
    speedups = [result.speedup(point) or 0.0 for point in points]
    workers = [point.workers for point in points]
    hover = [hover_text(result, point) for point in points]
    common = {
        "x": workers,
        "mode": "lines+markers",
        "line": {"color": colour, "width": 2.5},
        # a point taken on an unsteady machine is drawn hollow (and weighs less in the fit)
        "marker": {"size": 10, "symbol": [marker_symbol(symbol, point) for point in points], "color": colour},
        "legendgroup": name,
        "hovertext": hover,
        "hoverinfo": "text",
    }
    speedup = go.Scatter(
        name=name,
        y=speedups,
        error_y=whiskers(
            [s - low for s, (low, _) in zip(speedups, ranges, strict=True)],
            [high - s for s, (_, high) in zip(speedups, ranges, strict=True)],
            colour,
        ),
        **common,
    )
    efficiency_values = [s / n for s, n in zip(speedups, workers, strict=True)]
    efficiency = go.Scatter(
        name=name,
        y=efficiency_values,
        showlegend=False,
        error_y=whiskers(
            [e - low / n for e, (low, _), n in zip(efficiency_values, ranges, workers, strict=True)],
            [high / n - e for e, (_, high), n in zip(efficiency_values, ranges, workers, strict=True)],
            colour,
        ),
        **common,
    )
    return speedup, efficiency


def whiskers(below: list[float], above: list[float], colour: str) -> dict[str, object]:
    return {
        "type": "data",
        "symmetric": False,
        "array": [max(0.0, value) for value in above],
        "arrayminus": [max(0.0, value) for value in below],
        "color": colour,
        "thickness": 1.5,
        "width": 5,
    }


def marker_symbol(symbol: str, point: SweepPoint) -> str:
    """The line's symbol, hollow for a point taken while the machine was not steady."""
    return f"{symbol}-open" if point.steady is False else symbol


def hover_text(result: SweepResult, point: SweepPoint) -> str:
    span = result.speedup_range(point)
    spread = f" ({span[0]:.2f}–{span[1]:.2f})" if span and point.repeats > 1 else ""
    return (
        f"<b>{html.escape(line_name(result, point.mode, point.interpreter))}</b><br>"
        f"{point.workers} worker{'s' if point.workers != 1 else ''}, {point.tasks} tasks<br>"
        f"speedup {result.speedup(point) or 0:.2f}×{spread}<br>"
        f"efficiency {result.efficiency(point) or 0:.0%}<br>"
        f"median {point.seconds:.3f} s of {point.repeats} round(s) · {point.cores_busy:.2f} cores busy"
        + ("<br>machine not steady: weighted down in the fit" if point.steady is False else "")
    )


def fit_traces(
    result: SweepResult, mode: str, interpreter: str, dash: str, grid: list[float]
) -> tuple[go.Scatter, go.Scatter] | None:
    """The fitted model, dashed; dotted and thin when the fit is poor (drawn to show why it fails)."""
    fit = result.fit(mode, interpreter)
    if fit.serial_fraction is None:
        return None
    name = line_name(result, mode, interpreter)
    poor = fit.quality == "poor"
    line = {"color": mode_colour(mode), "width": 1.2 if poor else 2, "dash": "dot" if poor else dash}
    values = curve(fit, grid)
    common = {"x": grid, "mode": "lines", "line": line, "legendgroup": name, "hoverinfo": "skip"}
    speedup = go.Scatter(name=fit_name(name, fit), y=values, **common)
    efficiency = go.Scatter(
        name=fit_name(name, fit),
        y=[v / n for v, n in zip(values, grid, strict=True)],
        showlegend=False,
        **common,
    )
    return speedup, efficiency


def band_trace(x0: float, x1: float, top: float, cores: float, legend: bool) -> go.Scatter:
    """The part of the chart past the usable cores, as a filled shape in data coordinates."""
    return go.Scatter(
        x=[x0, x1, x1, x0, x0],
        y=[0, 0, top, top, 0],
        fill="toself",
        fillcolor=rgba(BAND_COLOUR, 0.14),
        line={"width": 0},
        mode="lines",
        name=f"n > {cores:g} usable cores: no further speedup is possible",
        legendgroup="band",
        showlegend=legend,
        hoverinfo="skip",
    )


def scaling_figure(result: SweepResult) -> go.Figure:
    """Speedup (top) and efficiency (bottom) against workers for every line, with ideal, fits and band."""
    cores = result.cores
    counts = result.settings.workers
    grid = curve_workers(counts, cores)
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        row_heights=[0.62, 0.38],
        vertical_spacing=0.08,
        subplot_titles=[SPEEDUP_TITLES[result.scale], EFFICIENCY_TITLE],
    )
    traces: list[tuple[go.Scatter, go.Scatter]] = []
    for mode, interpreter in result.lines():
        index = result.interpreters.index(interpreter)
        measured = measured_traces(result, mode, interpreter, SYMBOLS[index % len(SYMBOLS)])
        fitted = fit_traces(result, mode, interpreter, DASHES[index % len(DASHES)], grid)
        traces += [pair for pair in (measured, fitted) if pair is not None]
    ideal = [result.ideal(n) for n in grid]
    ideal_name = f"ideal: min(n, {cores:g} cores)"
    ideal_line = {"color": rgba(IDEAL_COLOUR, 0.45), "width": 6}  # wide and pale: a limit, not a measurement
    traces.append(
        (
            go.Scatter(x=grid, y=ideal, mode="lines", name=ideal_name, line=ideal_line, legendgroup="ideal"),
            go.Scatter(
                x=grid,
                y=[value / n for value, n in zip(ideal, grid, strict=True)],
                mode="lines",
                name=ideal_name,
                line=ideal_line,
                legendgroup="ideal",
                showlegend=False,
            ),
        )
    )
    speedup_top = 1.15 * max([*ideal, *(highest(trace) for trace, _ in traces)])
    efficiency_top = 1.1 * max([1.0, *(highest(trace) for _, trace in traces)])
    x_low, x_high = 1 / X_PAD, counts[-1] * X_PAD
    if counts[-1] > cores:
        band_start = max(cores, 1.0)
        fig.add_trace(band_trace(band_start, x_high, speedup_top, cores, True), row=1, col=1)
        fig.add_trace(band_trace(band_start, x_high, efficiency_top, cores, False), row=2, col=1)
    for speedup, efficiency in traces:
        fig.add_trace(speedup, row=1, col=1)
        fig.add_trace(efficiency, row=2, col=1)
    axis = {
        "type": "log",
        "tickvals": list(counts),
        "ticktext": [str(count) for count in counts],
        "range": [math.log10(x_low), math.log10(x_high)],
    }
    fig.update_xaxes(**axis)
    fig.update_xaxes(title_text="workers (threads, processes or subinterpreters)", row=2, col=1)
    fig.update_yaxes(title_text=speedup_label(result), range=[0, speedup_top], row=1, col=1)
    fig.update_yaxes(title_text="efficiency", range=[0, efficiency_top], tickformat=".0%", row=2, col=1)
    title = (
        f"How {html.escape(result.settings.base.describe_work)} scales: {result.scale} scaling on "
        f"{cores:g} usable cores"
    )
    styled(fig, title, height=HEIGHT_PX)
    fig.update_layout(
        showlegend=True,
        legend={"orientation": "h", "x": 0, "y": -0.1, "yanchor": "top", "font": {"size": 12}},
        margin={"t": 100, "b": 170},
    )
    fig.add_hline(y=1.0, line={"color": REFERENCE_COLOUR, "dash": "dot", "width": 1}, row=1, col=1)
    return fig


def highest(trace: go.Scatter) -> float:
    """The top of a trace, whiskers included."""
    values = [float(value) for value in (trace.y or ()) if value is not None]
    above = trace.error_y.array if trace.error_y is not None and trace.error_y.array is not None else ()
    tops = [value + float(extra) for value, extra in zip(values, above, strict=False)] if above else values
    return max(tops, default=1.0)


def speedup_label(result: SweepResult) -> str:
    return "scaled speedup (× one worker's work)" if result.scale == "weak" else "speedup (× one worker)"


def figure_html(fig: go.Figure) -> str:
    """The figure as a standalone HTML page (Plotly's script from its CDN), for the page's download."""
    return str(fig.to_html(include_plotlyjs="cdn", full_html=True, config=PNG_CONFIG))
