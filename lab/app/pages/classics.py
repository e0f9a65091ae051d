"""The Classics place: the shared flow of `lab.app.lab.render` over its `Lab`, then every source."""

from lab.app.lab import render
from lab.app.labs.classics import ClassicsLab, draw_catalogue

render(ClassicsLab())
draw_catalogue()
