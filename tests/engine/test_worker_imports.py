"""The worker's import path is the standard library: it runs under bare interpreters and starts fast.

import-linter checks the static graph (pyproject.toml); this checks what really
loads, in a fresh process, including what the modes and workloads import when
they run (the http workload's clients are the one, lazy, exception).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from lab.core.interpreters import discover

NEW_MODULES = """
import json, sys
before = set(sys.modules)
import {modules}
added = {{name.split(".")[0] for name in set(sys.modules) - before}}
third_party = added - set(sys.stdlib_module_names) - {{"lab"}}
print(json.dumps(sorted(name for name in third_party if not name.startswith("__"))))
"""


def third_party_imports(python: str, *modules: str) -> list[str]:
    code = NEW_MODULES.format(modules=", ".join(modules))
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True)
    found: list[str] = json.loads(out.stdout)
    return found


@pytest.mark.parametrize(
    "modules",
    [
        ("lab.engine.worker",),
        ("lab.engine.worker", "lab.engine.modes", "lab.engine.measure", "lab.engine.subinterpreters"),
        ("lab.xray.sampler",),
    ],
)
def test_the_worker_and_the_sampler_load_only_the_standard_library(modules: tuple[str, ...]) -> None:
    assert third_party_imports(sys.executable, *modules) == []


def test_a_run_of_every_builtin_cpu_workload_loads_nothing_else() -> None:
    code = (
        "from lab.engine.workloads import TaskSpec, perform\n"
        "perform(TaskSpec('squares', 1000), 0); perform(TaskSpec('sha256', 1000), 0)\n"
        "perform(TaskSpec('sleep', 1), 0)"
    )
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import sys; before = set(sys.modules)\n{code}\n"
            "import json; added = {n.split('.')[0] for n in set(sys.modules) - before};"
            "print(json.dumps(sorted(added - set(sys.stdlib_module_names) - {'lab'})))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(out.stdout) == []


def test_the_worker_imports_under_the_oldest_supported_python() -> None:
    oldest = min(
        (found for found in discover() if found.usable and found.implementation == "CPython"),
        key=lambda found: tuple(int(part) for part in found.version.split(".")[:2]),
    )
    assert third_party_imports(oldest.path, "lab.engine.worker", "lab.engine.modes") == []
