"""The issue's end-to-end check: a CLI run prints its id; `runs show` gives its JSON; `runs report`."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from lab.core.procs import REPO_ROOT, child_env

pytestmark = pytest.mark.slow  # real runs in child processes: the full tier, not `make check`

RUN = ["run", "squares", "--tasks", "2", "--size", "200000", "--modes", "batch,threads"]


def lab(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lab", *args],
        cwd=REPO_ROOT,
        env=child_env({"XDG_DATA_HOME": str(data)}),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_run_prints_its_id_and_runs_show_gives_the_same_json_and_an_offline_report(tmp_path: Path) -> None:
    ran = lab(tmp_path, *RUN, "--format", "json")
    assert ran.returncode == 0, ran.stderr
    found = re.search(r"stored as run ([A-Za-z0-9_-]{22}): .* on the page: \?run=\1$", ran.stderr, re.M)
    assert found, ran.stderr
    shown = lab(tmp_path, "runs", "show", found.group(1), "--format", "json")
    assert shown.returncode == 0 and json.loads(shown.stdout) == json.loads(ran.stdout)
    report = tmp_path / "report.html"
    made = lab(tmp_path, "runs", "report", found.group(1), "--output", str(report))
    assert made.returncode == 0, made.stderr
    assert 1_000_000 < report.stat().st_size < 5_000_000 and "<script src" not in report.read_text()
    assert (tmp_path / "gil-lab" / "runs.db").exists()


def test_no_save_stores_nothing_and_an_unusable_store_costs_one_line_not_the_run(tmp_path: Path) -> None:
    ran = lab(tmp_path, *RUN, "--no-save")
    assert ran.returncode == 0 and "stored as run" not in ran.stderr
    assert not (tmp_path / "gil-lab" / "runs.db").exists()
    blocked = tmp_path / "file"
    blocked.write_text("")  # the data folder's parent is a file: the store cannot be created
    ran = subprocess.run(
        [sys.executable, "-m", "lab", *RUN],
        cwd=REPO_ROOT,
        env=child_env({"XDG_DATA_HOME": str(blocked)}),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ran.returncode == 0 and "speedup" in ran.stdout
    notes = [line for line in ran.stderr.splitlines() if line.startswith("not stored: ")]
    assert len(notes) == 1, ran.stderr
