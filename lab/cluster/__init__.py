"""The Cluster lab: the same tasks on a Dask cluster, where each worker process has its own GIL.

A layout `WxT` is W Dask worker processes with T threads each, so worker
processes vs threads is the processes-vs-threads choice at cluster scale.
`settings` (layouts, a scheduler address, public mode's rules), `results`
(the figures, and the overhead's definition), `csvio`, `takeaway` and
`report` import no Dask; `runner` runs a `driver` child process, the only
code that imports `distributed` besides `task`, which runs inside the workers.
The driver's events are written down in `protocol`.
"""
