"""The machine's columns in every lab's CSV: written one way, read back and checked one way.

Apart from `lab.core.records` so the experiment's worker, which needs run ids
and timestamps, never loads the CSV codec.
"""

from __future__ import annotations

from typing import Any

from lab.core.csvtable import Row, check
from lab.core.machine import Machine
from lab.core.records import MAX_COUNT

# Every CSV column with its type; "?" marks a column that may be empty (None).
# The machine's columns, the same in both labs' CSVs (see `machine_values`, `build_machine`).
MACHINE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("python_version", "text"),
    ("implementation", "text"),
    ("gil_enabled", "bool"),
    ("free_threaded_build", "bool"),
    ("logical_cores", "int"),
    ("physical_cores", "int?"),
    ("affinity_cores", "int"),
    ("cpu_quota", "float?"),
    ("usable_cores", "float"),
    ("os", "text"),
    ("machine", "text"),
    ("machine_start_method", "text"),
    ("cpu_model", "text?"),  # added with Machine.cpu_model; older files read with it empty (LATER_COLUMNS)
)


def machine_values(machine: Machine) -> dict[str, Any]:
    """The machine's columns, shared by both labs' CSVs (and read back by `build_machine`)."""
    return {
        "python_version": machine.python_version,
        "implementation": machine.implementation,
        "gil_enabled": machine.gil_enabled,
        "free_threaded_build": machine.free_threaded_build,
        "logical_cores": machine.logical_cores,
        "physical_cores": machine.physical_cores,
        "affinity_cores": machine.affinity_cores,
        "cpu_quota": machine.cpu_quota,
        "usable_cores": machine.usable_cores,
        "os": machine.os,
        "machine": machine.machine,
        "machine_start_method": machine.start_method,
        "cpu_model": machine.cpu_model,
    }


def build_machine(row: Row) -> Machine:
    values = row.values
    for name in ("logical_cores", "affinity_cores", "physical_cores"):
        number = values[name]
        check(row.line, number is None or 1 <= number <= MAX_COUNT, f"{name} must be at least 1")
    check(row.line, values["usable_cores"] > 0, "usable_cores must be above 0")
    check(row.line, values["cpu_quota"] is None or values["cpu_quota"] > 0, "cpu_quota must be above 0")
    return Machine(
        python_version=values["python_version"],
        implementation=values["implementation"],
        gil_enabled=values["gil_enabled"],
        free_threaded_build=values["free_threaded_build"],
        logical_cores=values["logical_cores"],
        physical_cores=values["physical_cores"],
        affinity_cores=values["affinity_cores"],
        cpu_quota=values["cpu_quota"],
        usable_cores=values["usable_cores"],
        os=values["os"],
        machine=values["machine"],
        start_method=values["machine_start_method"],
        cpu_model=values["cpu_model"],
    )
