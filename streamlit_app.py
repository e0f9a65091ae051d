"""GIL Lab's entry point: a router over the labs, each a page of its own (`lab/app/pages/`).

Every lab follows one flow (`lab.app.lab.render`): controls -> settings ->
admit -> run in the engine's own processes with polling -> draw. This file
only names the pages, keeps share links working, and says which mode the host
is in. Links from before the labs had pages of their own (`/?workload=sleep`,
`/?lab=web&clients=...`) open the lab they meant.
"""

from __future__ import annotations

import streamlit as st

from lab.engine.workloads import WORKLOADS

st.set_page_config(page_title="GIL Lab", page_icon="🔒", layout="wide")

PAGES = {
    "cpu": st.Page(
        "lab/app/pages/cpu.py", title="CPU-bound", icon=":material/memory:", url_path="cpu", default=True
    ),
    "io": st.Page("lab/app/pages/io.py", title="I/O-bound", icon=":material/hourglass_empty:", url_path="io"),
    "web": st.Page("lab/app/pages/web.py", title="Web server", icon=":material/language:", url_path="web"),
    "convoy": st.Page(
        "lab/app/pages/convoy.py", title="Convoy", icon=":material/traffic:", url_path="convoy"
    ),
    "cluster": st.Page(
        "lab/app/pages/cluster.py", title="Cluster", icon=":material/hub:", url_path="cluster"
    ),
    "compare": st.Page(
        "lab/app/pages/compare.py",
        title="Compare interpreters",
        icon=":material/compare_arrows:",
        url_path="compare",
    ),
    "scaling": st.Page(
        "lab/app/pages/scaling.py", title="Scaling", icon=":material/trending_up:", url_path="scaling"
    ),
    "runs": st.Page("lab/app/pages/runs.py", title="Runs", icon=":material/history:", url_path="runs"),
}
SECTIONS = {
    "Labs": [PAGES["cpu"], PAGES["io"], PAGES["web"], PAGES["convoy"], PAGES["cluster"]],
    "Views": [PAGES["compare"], PAGES["scaling"], PAGES["runs"]],
}


def legacy_destination(params: dict[str, str]) -> str | None:
    """The page an old, single-page share link meant, or None when it is already there."""
    if params.get("lab") == "web":
        return "web"
    workload = params.get("workload")
    if workload in WORKLOADS and WORKLOADS[workload].kind == "io":
        return "io"
    return None


page = st.navigation(SECTIONS)
if "routed" not in st.session_state:  # a link is read once, when the session opens it
    st.session_state.routed = True
    params = st.query_params.to_dict()
    destination = legacy_destination(params) if page.url_path == PAGES["cpu"].url_path else None
    if destination is not None:
        params.pop("lab", None)
        st.switch_page(PAGES[destination], query_params=params)
page.run()
