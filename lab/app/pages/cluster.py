"""The Cluster lab's page: the shared flow of `lab.app.flow.render` over its `Lab`."""

from lab.app.flow import render
from lab.app.labs.cluster import ClusterLab

render(ClusterLab())
