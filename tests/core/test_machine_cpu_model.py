"""The machine's CPU model: read from /proc/cpuinfo, optional in records and CSV files written before it."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from store_samples import sample

from lab.core.machine import Machine, cpu_model_name
from lab.run.csvio import from_csv, to_csv


def test_the_cpu_model_is_cpuinfos_first_model_name_or_none(tmp_path: Path) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nmodel name\t: AMD  EPYC 7B13\nprocessor\t: 1\nmodel name\t: other\n")
    assert cpu_model_name(info) == "AMD EPYC 7B13"
    info.write_text("processor\t: 0\nBogoMIPS\t: 50.00\n")
    assert cpu_model_name(info) is None
    assert cpu_model_name(tmp_path / "missing") is None


def test_a_record_written_before_the_cpu_model_reads_with_none() -> None:
    data = sample("run").machine.to_dict()
    del data["cpu_model"]
    assert Machine.from_dict(data).cpu_model is None


def test_a_csv_written_before_the_cpu_model_column_still_imports() -> None:
    record = sample("run")
    rows = list(csv.DictReader(io.StringIO(to_csv([record]))))
    assert rows[0]["cpu_model"] == record.machine.cpu_model
    out = io.StringIO()
    writer = csv.DictWriter(out, [name for name in rows[0] if name != "cpu_model"], extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    [old] = from_csv(out.getvalue())
    assert old.machine.cpu_model is None and old.run_id == record.run_id
