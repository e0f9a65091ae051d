"""The Compare interpreters view's page: the shared flow of `lab.app.flow.render` over its `Lab`."""

from lab.app.flow import render
from lab.app.labs.compare import CompareLab

render(CompareLab())
