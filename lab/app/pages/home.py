"""GIL Lab's front page: what each place answers, one click to each.

The labs each have a path of their own (`/cpu`, `/io`, ...), so this page is
only the way in; share links that carry a lab's settings or an older lab name
are sent on to their place by the router before this page draws.
"""

import streamlit as st

from lab.app import state, stored
from lab.app.places import PLACES, RUN_PARAM

permalink = stored.requested()
found = stored.open_requested(permalink) if permalink is not None else None
if found is not None:  # ?run=ID on the front page: the run opens in its lab's place
    st.switch_page(stored.page_path(found), query_params={RUN_PARAM: found.id})

st.title("GIL Lab")
st.markdown(
    "See what the Python GIL does, measured on this machine: the same work one task at a time, in "
    "threads, in processes, in subinterpreters and with asyncio, under any Python here. Every result "
    "is checked, timed, explained in plain words and exportable."
)
state.show_flash()
columns = st.columns(2)
for index, place in enumerate(PLACES):
    with columns[index % 2].container(border=True):
        st.page_link(place.page, label=place.title, icon=place.icon)
        st.caption(place.question)
st.caption(state.hosting().describe())
