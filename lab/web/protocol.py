"""The web lab's runner <-> children protocol, written down in one place.

For each endpoint, in turn:

    runner (WebExperiment)                 server (python -m lab.web.serve)      load (python -m lab.web.load)
    ----------------------                 --------------------------------      -----------------------------
    bind + listen on 127.0.0.1:0
    start_child(serve --fd N ...)  ---->   uvicorn on that socket; each worker
                                           touches READY_DIR/<pid> once started
    start_child(load --events-fd M ...) ------------------------------------->  wait for READY_DIR and a ping
                                                    ENDPOINT_STARTED {endpoint, clients, window_s}  <----
                                                    PROGRESS {endpoint, requests, elapsed} ...       <----
                                                    ENDPOINT_FINISHED {endpoint, result}             <----
                                                    ERROR {endpoint, message}   (then it exits 1)    <----
    end both process groups; next endpoint, or DONE

STARTED {settings, machine} and DONE {status, message} are added by the
runner itself, so a caller sees one stream for the whole run. The events
travel through `lab.core.events`.
"""

from __future__ import annotations

from typing import Final

STARTED: Final = "started"
ENDPOINT_STARTED: Final = "endpoint_started"
PROGRESS: Final = "progress"
ENDPOINT_FINISHED: Final = "endpoint_finished"
ERROR: Final = "error"
DONE: Final = "done"
