"""GIL Lab's engine: workloads, execution modes, measurement and results.

Kept free of streamlit, pandas and plotly, and light to import: the
experiment's worker process imports this package before it measures anything.
"""

from lab.errors import InvalidSettings, LabError, RefusedURL, ResultsFormatError, RunFailed
from lab.results import ModeRun, ModeSummary, RunResult, TaskSpan
from lab.settings import MODES, RunSettings
from lab.workloads import WORKLOADS

__all__ = [
    "MODES",
    "WORKLOADS",
    "InvalidSettings",
    "LabError",
    "ModeRun",
    "ModeSummary",
    "RefusedURL",
    "ResultsFormatError",
    "RunFailed",
    "RunResult",
    "RunSettings",
    "TaskSpan",
]
