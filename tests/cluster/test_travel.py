"""The lab's task travels by value: it runs where GIL Lab cannot be imported; versions are checked first."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import cloudpickle
import pytest

from lab.cluster.driver import DriverError, check_versions, task_spec
from lab.cluster.settings import ClusterSettings
from lab.cluster.task import run_task
from lab.cluster.travel import Travelling, version_mismatch
from lab.core.work import squares_closed_form

# A Python started from an empty folder in isolated mode (-I: no PYTHONPATH, no user site, no folder on the
# path) cannot import GIL Lab; it unpacks the task the way a worker does and runs it, with a stand-in for
# the Dask worker the task asks for its address.
UNPACK_AND_RUN = """
import importlib.util, json, pickle, sys, types
assert importlib.util.find_spec("lab") is None, "GIL Lab is importable here"
import distributed.worker
distributed.worker.get_worker = lambda: types.SimpleNamespace(address="tcp://fake:1")
from distributed.diagnostics.plugin import WorkerPlugin
plugin = pickle.loads(sys.stdin.buffer.read())
assert isinstance(plugin, WorkerPlugin)
report = plugin(3)
print(json.dumps({"report": report, "lab_modules": [m for m in sys.modules if m.split(".")[0] == "lab"]}))
"""


def test_the_task_runs_in_a_python_that_cannot_import_the_lab(tmp_path: Path) -> None:
    spec = task_spec(ClusterSettings.create("squares", tasks=4, size=20_000))
    travelling = Travelling(run_task, spec)
    out = subprocess.run(
        [sys.executable, "-I", "-c", UNPACK_AND_RUN],
        input=travelling.packed(),
        capture_output=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stderr.decode()[-800:]
    answer = json.loads(out.stdout)
    report = answer["report"]
    assert report["ok"] and report["error"] is None and report["index"] == 3
    assert report["value"] == str(squares_closed_form(20_000)) and report["address"] == "tcp://fake:1"
    assert answer["lab_modules"] == []  # rebuilt from the bytes, never imported: nothing stays behind


def test_packing_the_task_leaves_cloudpickle_as_it_found_it() -> None:
    before = cloudpickle.list_registry_pickle_by_value()
    Travelling(run_task, task_spec(ClusterSettings.create("sleep", tasks=1, size=10)))
    assert cloudpickle.list_registry_pickle_by_value() == before


def node(
    python: str = "3.11.7.final.0", dask: str = "2026.8.0", distributed: str = "2026.8.0"
) -> dict[str, Any]:
    """One node's answer in Client.get_versions()'s shape."""
    return {"host": {}, "packages": {"python": python, "dask": dask, "distributed": distributed}}


def versions(scheduler: dict[str, Any], **workers: dict[str, Any]) -> dict[str, Any]:
    return {
        "client": node(),
        "scheduler": scheduler,
        "workers": {f"tcp://10.0.0.{n}:4000": report for n, report in enumerate(workers.values(), 1)},
    }


def test_a_cluster_on_the_drivers_python_and_dask_passes_the_check() -> None:
    assert version_mismatch(versions(node(), a=node(), b=node())) is None


def test_another_patch_release_of_python_still_runs_the_same_bytecode() -> None:
    assert version_mismatch(versions(node(python="3.11.9.final.0"), a=node(python="3.11.2.final.0"))) is None


def test_a_worker_on_another_python_is_one_line_naming_both_versions() -> None:
    message = version_mismatch(versions(node(), a=node(), b=node(python="3.12.4.final.0")))
    assert message is not None and "\n" not in message
    assert message.startswith("worker tcp://10.0.0.2:4000 runs Python 3.12.4 and Dask 2026.8.0")
    assert "this driver Python 3.11.7 and Dask 2026.8.0" in message
    assert "the same Python minor version and Dask" in message


def test_a_worker_on_another_dask_is_named_with_both_dask_versions() -> None:
    message = version_mismatch(versions(node(), a=node(dask="2026.7.1", distributed="2026.7.1")))
    assert message is not None
    assert "worker tcp://10.0.0.1:4000 runs Python 3.11.7 and Dask 2026.7.1" in message
    assert "this driver Python 3.11.7 and Dask 2026.8.0" in message


def test_the_scheduler_is_checked_too_and_further_nodes_are_counted() -> None:
    old = node(python="3.10.14.final.0")
    message = version_mismatch(versions(old, a=old, b=old))
    assert message is not None
    assert message.startswith("the scheduler runs Python 3.10.14 and Dask 2026.8.0 (and 2 more nodes)")


def test_a_worker_that_did_not_answer_is_left_to_the_run() -> None:
    report = versions(node(), a=node())
    report["workers"]["tcp://10.0.0.9:4000"] = "OSError: timed out"  # get_versions(on_error="ignore")
    assert version_mismatch(report) is None


class FakeClient:
    """Answers get_versions() as a Client of a cluster with one worker on Python 3.13 would."""

    def get_versions(self) -> dict[str, Any]:
        return versions(node(), a=node(python="3.13.1.final.0"))


def test_the_driver_stops_before_sending_anything_with_that_one_line() -> None:
    with pytest.raises(DriverError) as error:
        check_versions(FakeClient(), "the cluster at tcp://10.0.0.0:8786")  # type: ignore[arg-type]
    assert str(error.value).startswith(
        "cannot run on the cluster at tcp://10.0.0.0:8786: worker tcp://10.0.0.1:4000 runs Python 3.13.1"
    )
