"""The machine panel's core counts, including what a container's quota allows."""

from __future__ import annotations

from pathlib import Path

from lab.core.machine import Machine, cgroup_cpu_quota, current_machine, physical_core_count


def test_cgroup_v2_quota(tmp_path: Path) -> None:
    (tmp_path / "cpu.max").write_text("50000 100000\n")
    assert cgroup_cpu_quota(tmp_path) == 0.5
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert cgroup_cpu_quota(tmp_path) is None


def test_cgroup_v1_quota(tmp_path: Path) -> None:
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("150000\n")
    (tmp_path / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    assert cgroup_cpu_quota(tmp_path) == 1.5
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")
    assert cgroup_cpu_quota(tmp_path) is None


def test_no_cgroup_files_means_no_quota(tmp_path: Path) -> None:
    assert cgroup_cpu_quota(tmp_path) is None


def test_physical_cores_count_distinct_cores_not_hyperthreads(tmp_path: Path) -> None:
    blocks = []
    for cpu, (package, core) in enumerate([(0, 0), (0, 0), (0, 1), (0, 1), (1, 0), (1, 0)]):
        blocks.append(f"processor\t: {cpu}\nphysical id\t: {package}\ncore id\t\t: {core}\n")
    (tmp_path / "cpuinfo").write_text("\n".join(blocks))
    assert physical_core_count(tmp_path / "cpuinfo") == 3
    assert physical_core_count(tmp_path / "missing") is None


def test_usable_cores_never_exceed_logical_and_round_trip() -> None:
    machine = current_machine()
    assert 0 < machine.usable_cores <= machine.logical_cores
    assert machine.parallel_slots >= 1
    assert Machine.from_dict(machine.to_dict()) == machine
    assert "usable" in machine.describe()
