"""The I/O-bound lab's page: the shared flow of `lab.app.lab.render` over its `Lab`."""

from lab.app.lab import render
from lab.app.labs.runs import io_bound

render(io_bound())
