"""The Web server lab: FastAPI's `def` vs `async def` under many concurrent clients."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

from lab.app import state
from lab.app.charts import web as web_charts
from lab.app.flow import Bar, Lab, Progress
from lab.app.form import WebControls, WebForm
from lab.app.history import web_history_table
from lab.app.links import read_web_link, web_link_params
from lab.engine.workloads import WORKLOADS
from lab.web import csvio
from lab.web.csvio import ImportedWebRun, WebRun
from lab.web.results import WebResult
from lab.web.runner import WebExperiment
from lab.web.settings import ENDPOINTS, WebSettings
from lab.web.takeaway import takeaway

INTRO = (
    "A FastAPI app under uvicorn, loaded by many concurrent clients: a plain def runs in a thread pool, "
    "an async def on the event loop, and a blocking call in async def stalls every request."
)


class WebLab(Lab[WebForm, WebSettings, WebExperiment, WebRun]):
    key = "web"
    title = "Web server"
    intro = INTRO
    explainer = "web"
    csv_name = "gil-lab-web-history.csv"
    running_label = "Running the web-server lab…"

    @property
    def widget_key(self) -> str:
        return "endpoints"

    def read_link(self, params: Mapping[str, Any]) -> tuple[WebForm, list[str]]:
        return read_web_link(params, WebControls())

    def apply(self, form: WebForm) -> None:
        st.session_state.endpoints = list(form.endpoints)
        st.session_state.clients = form.clients
        st.session_state.web_requests = form.requests
        st.session_state.duration = form.duration
        st.session_state.web_latency_ms = form.latency_ms
        st.session_state.web_size = form.size
        st.session_state.threadpool = form.threadpool
        st.session_state.server_workers = form.server_workers

    def sidebar(self) -> WebForm:
        """Which endpoints, how many clients, how long, how big the pool."""
        ranges = WebControls()
        st.header(self.title)
        endpoints = st.multiselect(
            "Endpoints",
            list(ENDPOINTS),
            key="endpoints",
            help="\n".join(f"- **{name}**: {endpoint.summary}" for name, endpoint in ENDPOINTS.items()),
        )
        clients = st.slider("Clients", ranges.clients.low, ranges.clients.high, key="clients")
        requests = st.slider(
            "Requests",
            ranges.requests.low,
            ranges.requests.high,
            key="web_requests",
            help="Requests per endpoint; 0 runs each endpoint for the duration instead.",
        )
        duration = st.slider(
            "Duration (s)", ranges.duration.low, ranges.duration.high, key="duration", disabled=requests > 0
        )
        latency = st.slider(
            "Latency (ms)", ranges.latency_ms.low, ranges.latency_ms.high, key="web_latency_ms"
        )
        size = st.select_slider(
            "Workload size",
            options=WORKLOADS["squares"].size_choices,
            key="web_size",
            format_func=lambda value: f"{value:,}",
            help="Loop iterations of the CPU endpoints (def_cpu, async_cpu).",
        )
        threadpool = st.slider(
            "Thread pool",
            ranges.threadpool.low,
            ranges.threadpool.high,
            key="threadpool",
            help="Threads for plain def endpoints (AnyIO's default is 40).",
        )
        workers = st.slider(
            "Server processes", ranges.server_workers.low, ranges.server_workers.high, key="server_workers"
        )
        return WebForm(
            endpoints=tuple(endpoints),
            clients=clients,
            requests=requests,
            duration=duration,
            latency_ms=latency,
            size=size,
            threadpool=threadpool,
            server_workers=workers,
        )

    def link(self, form: WebForm) -> tuple[dict[str, str], list[str]]:
        return web_link_params(form), []

    def settings(self, form: WebForm) -> WebSettings:
        admitted: WebSettings = state.hosting().admit(form.web_settings())
        return admitted

    def estimate(self, settings: WebSettings) -> str | None:
        return f"{settings.describe_load()}: about {settings.cost(state.machine().usable_cores):.0f} s"

    def experiment(self, settings: WebSettings, form: WebForm) -> WebExperiment:
        return WebExperiment(settings)

    def progress(self, settings: WebSettings) -> Progress[WebExperiment]:
        return EndpointBars(settings)

    def finish(self, experiment: WebExperiment) -> WebRun | None:
        result = experiment.result()
        return result if result.endpoints else None

    def owns(self, run: object) -> bool:
        return isinstance(run, WebResult | ImportedWebRun)

    def draw(self, result: WebRun) -> None:
        st.subheader("Results")
        summaries = result.summaries()
        for column, summary in zip(st.columns(len(summaries)), summaries, strict=True):
            ceiling = f"{summary.share_of_ceiling:.0%} of {summary.ceiling:,.0f}" if summary.ceiling else None
            column.metric(summary.endpoint, f"{summary.throughput:,.0f} req/s", ceiling, delta_color="off")
            if summary.p50_ms is not None:
                column.caption(f"p50 {summary.p50_ms:,.0f} ms · p99 {summary.p99_ms or 0:,.0f} ms")
            if summary.failed:
                column.error(f"{summary.failed} request(s) failed: {summary.failures or summary.error}")
        st.markdown("\n".join(f"- {sentence}" for sentence in takeaway(result)))
        left, right = st.columns(2)
        left.plotly_chart(web_charts.throughput_figure(result))
        right.plotly_chart(web_charts.latency_figure(result))
        if isinstance(result, WebResult):
            ping = web_charts.ping_figure(result)
            left, right = st.columns(2)
            if ping is not None:
                left.plotly_chart(ping)
            right.plotly_chart(web_charts.latency_over_time_figure(result))

    def history_view(self, runs: list[WebRun]) -> None:
        st.dataframe(web_history_table(runs), width="stretch", hide_index=True)

    def to_csv(self, runs: list[WebRun]) -> str:
        return csvio.to_csv(runs)

    def run_label(self, number: int, run: WebRun) -> str:
        return f"#{number} web server"


class EndpointBars(Progress[WebExperiment]):
    def __init__(self, settings: WebSettings) -> None:
        self.bars = {name: Bar(0.0, f"{name}: waiting") for name in settings.endpoints}

    def update(self, experiment: WebExperiment) -> None:
        for row in experiment.progress():
            finished = row.state == "finished"
            share = 1.0 if finished else min(1.0, row.elapsed / max(row.window_s, 1e-9))
            label = f"{row.endpoint}: {row.requests:,} requests · {row.elapsed:.1f} s · {row.state}"
            self.bars[row.endpoint].show(share, label)
