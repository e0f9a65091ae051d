"""The CPU-bound and I/O-bound labs: workloads, modes, the worker that measures them and its runner."""
