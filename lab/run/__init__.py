"""The CPU- and I/O-bound lab (`run`): one run of the engine's modes as a table, a takeaway, a CSV.

The engine (`lab.engine`) measures and is shared by every lab that runs tasks;
this package is the lab that presents one run of it: `report` (the CLI's
table), `takeaway`, `verdict` (your function's GIL share), `csvio`, `trace`.
"""
