"""The Scaling view's page: the shared flow of `lab.app.lab.render` over its `Lab`."""

from lab.app.lab import render
from lab.app.labs.scaling import ScalingLab

render(ScalingLab())
