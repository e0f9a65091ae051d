"""What machine a run was measured on, including the cores it may really use.

`os.cpu_count()` counts the host's CPUs, not the ones this process may run on:
a container limited by a cgroup CPU quota, or a process pinned by CPU
affinity, gets fewer. Ideal-speedup lines and default worker counts use
`usable_cores`, so a hosted demo on half a core does not promise 4x.
Standard library only: the experiment's worker process imports this.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import platform
import sys
import sysconfig
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

CGROUP_ROOT = Path("/sys/fs/cgroup")


@dataclass(frozen=True)
class Machine:
    python_version: str
    implementation: str
    gil_enabled: bool
    free_threaded_build: bool
    logical_cores: int
    physical_cores: int | None
    affinity_cores: int
    cpu_quota: float | None
    usable_cores: float
    os: str
    machine: str
    start_method: str
    cpu_model: str | None = None  # "model name" in /proc/cpuinfo, where the system says it

    @property
    def parallel_slots(self) -> int:
        """Whole processes worth starting for CPU work: a fractional core still helps."""
        return max(1, math.ceil(self.usable_cores - 1e-9))

    @property
    def python_label(self) -> str:
        """The Python that measured, as a list of runs names it: "CPython 3.11.7 (GIL on)"."""
        return f"{self.implementation} {self.python_version} ({'GIL on' if self.gil_enabled else 'GIL off'})"

    def describe(self) -> str:
        gil = "GIL enabled" if self.gil_enabled else "GIL disabled"
        quota = f", quota {self.cpu_quota:g}" if self.cpu_quota is not None else ""
        return (
            f"{self.implementation} {self.python_version} ({gil}) on {self.os}, "
            f"{self.logical_cores} logical / {self.physical_cores or '?'} physical cores, "
            f"{self.usable_cores:g} usable{quota}, start method {self.start_method}"
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Machine:
        """Read back; records written before the CPU model was kept have none."""
        values = {name: data[name] for name in cls.__dataclass_fields__ if name != "cpu_model"}
        model = data.get("cpu_model")
        return cls(**values, cpu_model=None if model is None else str(model))


def cgroup_cpu_quota(root: Path = CGROUP_ROOT) -> float | None:
    """CPU cores allowed by the cgroup quota (v2 `cpu.max` or v1 CFS), or None if unlimited."""
    try:
        quota, period = (root / "cpu.max").read_text().split()[:2]
        if quota != "max" and int(period) > 0:
            return int(quota) / int(period)
        return None
    except (OSError, ValueError):
        pass
    try:
        quota_us = int((root / "cpu" / "cpu.cfs_quota_us").read_text())
        period_us = int((root / "cpu" / "cpu.cfs_period_us").read_text())
        if quota_us > 0 and period_us > 0:
            return quota_us / period_us
    except (OSError, ValueError):
        pass
    return None


def physical_core_count(cpuinfo: Path = Path("/proc/cpuinfo")) -> int | None:
    """Distinct (package, core) pairs on Linux; None where the OS does not say."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return None
    cores: set[tuple[str, str]] = set()
    package = core = ""
    for line in [*text.splitlines(), ""]:
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "physical id":
            package = value.strip()
        elif key == "core id":
            core = value.strip()
        elif not line.strip() and core:
            cores.add((package, core))
            package = core = ""
    return len(cores) or None


def cpu_model_name(cpuinfo: Path = Path("/proc/cpuinfo")) -> str | None:
    """The first "model name" in /proc/cpuinfo (Linux on x86; ARM boards often have none), else None."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return None
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name" and value.strip():
            return " ".join(value.split())[:200]
    return None


def affinity_core_count() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def gil_enabled() -> bool:
    check = getattr(sys, "_is_gil_enabled", None)
    return bool(check()) if check else True


def current_machine(start_method: str | None = None) -> Machine:
    logical = os.cpu_count() or 1
    affinity = affinity_core_count()
    quota = cgroup_cpu_quota()
    usable = float(min(affinity, quota)) if quota is not None else float(affinity)
    return Machine(
        python_version=platform.python_version(),
        implementation=platform.python_implementation(),
        gil_enabled=gil_enabled(),
        free_threaded_build=bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
        logical_cores=logical,
        physical_cores=physical_core_count(),
        affinity_cores=affinity,
        cpu_quota=quota,
        usable_cores=round(usable, 3),
        os=f"{platform.system()} {platform.release()}",
        machine=platform.machine(),
        start_method=start_method or multiprocessing.get_context().get_start_method(),
        cpu_model=cpu_model_name(),
    )


def machine_lines(machine: Machine) -> list[str]:
    quota = "none" if machine.cpu_quota is None else f"{machine.cpu_quota:g} cores"
    return [
        f"Python      {machine.implementation} {machine.python_version}, GIL "
        + ("enabled" if machine.gil_enabled else "disabled"),
        f"Cores       {machine.logical_cores} logical, {machine.physical_cores or '?'} physical, "
        f"{machine.affinity_cores} in this process's affinity, cgroup quota {quota}",
        f"Usable      {machine.usable_cores:g} cores (the ideal for CPU-bound speedup)",
        f"System      {machine.os} ({machine.machine}), start method {machine.start_method}",
        *([f"CPU         {machine.cpu_model}"] if machine.cpu_model else []),
    ]


def default_executor_size() -> int:
    """What asyncio's default executor uses (ThreadPoolExecutor's own default)."""
    return min(32, (os.cpu_count() or 1) + 4)
