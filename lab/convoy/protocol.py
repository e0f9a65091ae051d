"""The convoy lab's runner <-> children protocol, written down in one place.

For each point (K CPU threads x one switch interval), in turn:

    runner (lab.convoy.runner)   probe (python -m lab.convoy.probe)   client (python -m lab.convoy.client)
    ---------------------------------   -----------------------------------------   ------------------------
    start_child(probe ...), stdin a  -> set the switch interval, bind UDP on
      pipe the runner keeps             127.0.0.1:0, start the probe thread and
                                        K CPU threads
          READY {port, pid, probe_tid, cpu_tids, switch_interval_s, gil_enabled, machine}  <-
    start the X-ray sampler on the probe's process group; once it samples:
    start_child(client --port P ...) ------------------------------------------------->  pings, closed loop
                                                      STARTED {origin}                  <-
                                                      PROGRESS {pings, lost, elapsed}   <-  4 a second
                                                      FINISHED {origin, ended, at, latency_ms, lost}  <-
    close the probe's stdin          -> DONE {interpreter, cpu_chunks}, then exit
    the sampler sees the group empty and ends; keep its recording; end every process group

Each child writes its events on a pipe of its own (`lab.core.events`), never
stdout. EOF without READY, FINISHED or DONE means that child crashed or was
killed. Times (`origin`, `ended`, `at`) are `time.perf_counter()`, the
system-wide monotonic clock on Linux, so the X-ray's samples line up with the
client's window. Ping datagrams carry an 8-byte sequence number, big-endian;
the probe sends each one back unchanged.
"""

from __future__ import annotations

from typing import Final

# The probe's events.
READY: Final = "ready"
DONE: Final = "done"
# The client's events.
STARTED: Final = "started"
PROGRESS: Final = "progress"
FINISHED: Final = "finished"
# Either child, when it cannot go on (then it exits 1).
ERROR: Final = "error"
# Added by the runner, never sent by a child: a point is measured ({point: PointSummary.to_dict()}).
POINT_FINISHED: Final = "point_finished"

PING_BYTES: Final = 8
