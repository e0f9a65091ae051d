"""The web-server lab: FastAPI's `def` vs `async def` under many concurrent clients, measured.

A fresh uvicorn server per endpoint (`lab.web.serve`, app in `lab.web.app`)
and a load generator (`lab.web.load`) run as child processes of
`WebExperiment`; results are `WebResult`. Importing this package loads
neither FastAPI nor aiohttp: only those children do. Charts
(`lab.app.charts.web`) and CSV history (`lab.web.csvio`) load pandas and
Plotly, so the page imports them directly.
"""

from lab.web.results import EndpointRun, EndpointSummary, Probe, Samples, WebResult
from lab.web.runner import EndpointProgress, WebExperiment, run_web
from lab.web.settings import ENDPOINTS, Endpoint, WebSettings
from lab.web.takeaway import takeaway

__all__ = [
    "ENDPOINTS",
    "Endpoint",
    "EndpointProgress",
    "EndpointRun",
    "EndpointSummary",
    "Probe",
    "Samples",
    "WebExperiment",
    "WebResult",
    "WebSettings",
    "run_web",
    "takeaway",
]
