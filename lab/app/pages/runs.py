"""The Runs place: every stored run (in public mode: this session's and the pinned ones)."""

from lab.app.runs_place import render

render()
