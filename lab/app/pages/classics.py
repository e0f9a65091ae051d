"""The Classics place: the shared flow of `lab.app.flow.render` over its `Lab`, then every source."""

from lab.app.flow import render
from lab.app.labs.classics import ClassicsLab, draw_catalogue

render(ClassicsLab())
draw_catalogue()
