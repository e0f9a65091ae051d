"""The Scaling view: speedup against worker count per mode and interpreter, with a fitted model.

A sweep runs the CPU-bound lab's experiments at several worker counts,
interleaved, and fits Amdahl's law (strong scaling) or Gustafson's (weak
scaling) with the machine's cores folded in (`fit`).
"""
