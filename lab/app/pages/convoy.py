"""The Convoy lab's page: the shared flow of `lab.app.lab.render` over its `Lab`."""

from lab.app.lab import render
from lab.app.labs.convoy import ConvoyLab

render(ConvoyLab())
