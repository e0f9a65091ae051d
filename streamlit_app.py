"""GIL Lab's entry point: a router over the places (`lab.app.places`), each a page of its own.

Every lab follows one flow (`lab.app.flow.render`): controls -> settings ->
admit -> run in the engine's own processes with polling -> draw. This file
only names the pages, sends older share links on to the place they meant
(`lab.app.places.destination`), and lets the front page introduce the rest.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from lab.app.places import PLACES, destination
from lab.catalog import ALIASES

st.set_page_config(page_title="GIL Lab", page_icon="🔒", layout="wide")

HOME = st.Page("lab/app/pages/home.py", title="GIL Lab", icon=":material/home:", default=True)
PAGES = {
    place.path: st.Page(place.page, title=place.title, icon=place.icon, url_path=place.path)
    for place in PLACES
}


def forward(name: str) -> Callable[[], None]:
    """A page that only sends the visitor on to `name`'s place, with the link's settings."""

    def page() -> None:
        st.switch_page(PAGES[name], query_params=st.query_params.to_dict())

    page.__name__ = f"to_{name}"
    return page


# Paths a lab had before its one name (`/scaling`): hidden pages that send the visitor on.
OLD_PATHS = {
    alias: st.Page(forward(name), title=alias, url_path=alias, visibility="hidden")
    for alias, name in ALIASES.items()
    if name in PAGES and alias not in PAGES
}
SECTIONS: dict[str, list[st.Page]] = {"": [HOME]}
for place in PLACES:
    SECTIONS.setdefault(place.section, []).append(PAGES[place.path])
SECTIONS[""].extend(OLD_PATHS.values())

page = st.navigation(SECTIONS)
if "routed" not in st.session_state:  # a link is read once, when the session opens it
    st.session_state.routed = True
    params = st.query_params.to_dict()
    where = destination(page.url_path, params)
    if where is not None:
        params.pop("lab", None)
        st.switch_page(PAGES[where], query_params=params)
page.run()
