"""The runner <-> worker protocol of the CPU- and I/O-bound labs, written down in one place.

    runner (caller's process)                         worker (python -m lab.engine.worker)
    -------------------------                         ------------------------------------
    Experiment.start()
      argv: --settings JSON --pipe FD --parent-pid PID [--target-url URL] [--download-dir DIR]
      env:  PYTHON_GIL (the run's GIL setting), GIL_LAB_PUBLIC, GIL_LAB_URL_ALLOW
                                               ---->  tie to parent, set switch interval, preload
                         STARTED {machine, settings, target_url}  <----
      for each repeat, for each mode:
                   MODE_STARTED {mode, repeat, origin}  <----   origin: perf_counter() at the mode's start
                   TASK {mode, repeat, span} ...        <----   one per finished task, from any thread
                   MODE_FINISHED {mode, repeat, origin, run, calibration_ms} <----  run: ModeRun.to_dict()
                   ERROR {message}                      <----   the run cannot go on (then the worker exits 1)
                   DONE {interpreter, steadiness}       <----   interpreter: the state at the END of the run
    Experiment.poll() reads them (lab.core.events); EOF without DONE = the worker crashed or was killed.

`origin` and every span's start/end are on the system-wide monotonic clock
(`perf_counter`), so a sampler in another process (the X-ray) can line its
own timestamps up with each mode. Spans in TASK and MODE_FINISHED are relative
to the mode's origin. `interpreter` in DONE says whether the GIL was still
disabled at the end: on a free-threaded build, importing a C extension that
is not marked free-threading-safe turns it back on.

`calibration_ms` lists the steadiness meter's calibrations taken since the
previous MODE_FINISHED (the first also holds the one taken before the first
mode, after STARTED so start-up is not slowed), so a run that crashes still
has its speed figures; `steadiness` in DONE is the
whole run's verdict (lab.core.steadiness: the worker's own CPU is left out of
"others' share", its reaped pool processes included).
"""

from __future__ import annotations

from typing import Final

# The worker's event names (the `event` field of each JSON line). Plain strings, not an enum:
# the worker runs under Python 3.10 too.
STARTED: Final = "started"
MODE_STARTED: Final = "mode_started"
TASK: Final = "task"
MODE_FINISHED: Final = "mode_finished"
ERROR: Final = "error"
DONE: Final = "done"
# Added by the caller's side, never sent by the worker: waiting in the host's line.
QUEUED: Final = "queued"
DEQUEUED: Final = "dequeued"
