"""The page's places: each lab's path, title and question, and where older links lead.

One table, so the router, the front page and the links that move people
between places name a place the same way. A place's path is its lab's one
name (`lab.catalog`), except the CPU/I-O lab's two places, `/cpu` and `/io`,
one per kind of work.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from lab.catalog import lab_named
from lab.engine.workloads import WORKLOADS

RUN_PARAM = "run"  # ?run=ID: a stored run, read-only (lab.app.stored)


@dataclass(frozen=True)
class Place:
    """One place in the sidebar: its URL path, the file that draws it, its title and its question."""

    path: str
    page: str
    title: str
    icon: str
    question: str
    section: str = "Labs"


PLACES: tuple[Place, ...] = (
    Place(
        "cpu",
        "lab/app/pages/cpu.py",
        "CPU-bound",
        ":material/memory:",
        "Will threads speed up pure Python, C that releases the GIL, or your own function? Processes? "
        "Subinterpreters?",
    ),
    Place(
        "io",
        "lab/app/pages/io.py",
        "I/O-bound",
        ":material/hourglass_empty:",
        "How do threads, processes and asyncio overlap downloads and plain waiting?",
    ),
    Place(
        "web",
        "lab/app/pages/web.py",
        "Web server",
        ":material/language:",
        "FastAPI's def against async def under many clients, beside the ceiling each implies.",
    ),
    Place(
        "convoy",
        "lab/app/pages/convoy.py",
        "Convoy",
        ":material/traffic:",
        "How long does a thread that only waits for I/O queue for the GIL behind CPU-bound threads?",
    ),
    Place(
        "cluster",
        "lab/app/pages/cluster.py",
        "Cluster",
        ":material/hub:",
        "The same tasks on a Dask cluster: worker processes × threads per worker.",
    ),
    Place(
        "compare",
        "lab/app/pages/compare.py",
        "Compare interpreters",
        ":material/compare_arrows:",
        "The same run under several Pythons side by side: what would my threads do on 3.13t?",
        "Views",
    ),
    Place(
        "sweep",
        "lab/app/pages/sweep.py",
        "Scaling",
        ":material/trending_up:",
        "Speedup against the worker count, with the ideal line and a fitted Amdahl model.",
        "Views",
    ),
    Place(
        "classics",
        "lab/app/pages/classics.py",
        "Classics",
        ":material/history_edu:",
        "The famous GIL experiments run here, beside their published figures.",
        "Views",
    ),
    Place(
        "runs",
        "lab/app/pages/runs.py",
        "Runs",
        ":material/history:",
        "Every stored run: open one read-only, compare two, export it, download its report.",
        "Views",
    ),
)
PLACE_NAMES: tuple[str, ...] = tuple(place.path for place in PLACES)


def destination(path: str, params: Mapping[str, str]) -> str | None:
    """The place a link means, or None when it means the page it opened.

    `path` is the place the link opened: "" for the front page. A link to the
    front page with a lab's settings is an older share link (the CPU-bound lab
    once lived there): `lab=` names its lab (by any name it ever had), a
    workload says which of the CPU/I-O places, and other settings mean the
    CPU-bound lab. A path a lab had before its one name (`/scaling`) leads to it.
    """
    if path:
        spec = lab_named(path)
        return spec.name if spec is not None and spec.name != path and spec.name in PLACE_NAMES else None
    if not params or RUN_PARAM in params:  # a permalink: the front page opens it in its lab's place
        return None
    named = lab_named(params.get("lab"))
    if named is not None and named.name in PLACE_NAMES:
        return named.name
    workload = params.get("workload")
    if workload in WORKLOADS and WORKLOADS[workload].kind == "io":
        return "io"
    return "cpu"
