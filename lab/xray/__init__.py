"""The GIL X-ray: which thread is on a CPU, which waits for the GIL, which waits on I/O.

A separate sampler process reads each thread's state from /proc (no root, no
ptrace) at a fixed rate and streams run-length encoded state segments; the
caller folds them into a `Recording` and derives per-window figures and a
Perfetto trace from it. Standard library only, like `lab.core`: the sampler
must start under any interpreter the lab runs.

- `procfs`: reading a process group's processes, threads and per-thread files
- `states`: the seven states and how /proc evidence maps to them
- `sampler`: the sampler process (`python -m lab.xray.sampler`)
- `protocol`: its event stream, and folding it into a `Recording`
- `client`: `XraySampler`, the caller's side (start, poll, stop)
- `model`: `Recording` and its parts, lossless to JSON and back
- `figures`: `window_figures`, what one mode's task threads did in a window
- `trace`: `chrome_trace`, an export for ui.perfetto.dev and chrome://tracing
"""
