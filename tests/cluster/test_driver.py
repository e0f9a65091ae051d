"""The driver's pieces that need no cluster, and Dask staying out of everything but the driver."""

from __future__ import annotations

import subprocess
import sys

from lab.cluster.driver import RowLabels, dask_error
from lab.core.procs import REPO_ROOT


def test_row_labels_number_workers_by_address_and_threads_as_they_appear() -> None:
    labels = RowLabels()
    labels.know(["tcp://127.0.0.1:10", "tcp://127.0.0.1:9"])
    assert labels.label("tcp://127.0.0.1:10", 7) == "worker 2 · thread 1"
    assert labels.label("tcp://127.0.0.1:9", 5) == "worker 1 · thread 1"
    assert labels.label("tcp://127.0.0.1:10", 3) == "worker 2 · thread 2"
    assert labels.label("tcp://127.0.0.1:77", 1) == "worker 3 · thread 1"  # a worker that joined later
    assert labels.label("tcp://127.0.0.1:10", 7) == "worker 2 · thread 1"


def test_an_error_dask_could_not_send_whole_reads_like_the_original() -> None:
    wrapped = Exception("ModuleNotFoundError(\"No module named 'lab'\")")
    assert dask_error(wrapped) == "ModuleNotFoundError: No module named 'lab'"


def test_a_message_of_several_lines_ends_at_a_full_sentence() -> None:
    error = RuntimeError("Error during deserialization of the task graph. This frequently\noccurs if ...")
    assert dask_error(error) == "RuntimeError: Error during deserialization of the task graph."


def test_other_errors_read_as_the_lab_describes_any_failed_task() -> None:
    assert dask_error(ZeroDivisionError("division by zero")) == "ZeroDivisionError: division by zero"
    assert dask_error(Exception("plain words")) == "Exception: plain words"


def test_the_cli_the_runner_and_the_results_load_no_dask() -> None:
    code = (
        "import sys, lab.cli.cluster, lab.cluster.runner, lab.cluster.csvio, lab.cluster.report; "
        "print(sorted(name for name in sys.modules if name.split('.')[0] in ('dask', 'distributed')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, check=True
    )
    assert out.stdout.strip() == "[]"
