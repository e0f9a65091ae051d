"""The scaling sweep's report: a fit that cannot give a number says why instead."""

from __future__ import annotations

from sweep.sweep_factories import TASK_S, fake_sweep, run_to_end, sweep_settings

from lab.sweep.report import sweep_table, sweep_takeaway


def test_a_poor_fit_prints_its_reason_instead_of_a_number() -> None:
    def falling(mode: str, workers: int, tasks: int, round_: int) -> float:
        return tasks * TASK_S * workers  # every added worker makes it slower: no model fits

    result = run_to_end(fake_sweep(sweep_settings(), timing=falling)[0])
    table = sweep_table(result)
    assert "no serial fraction: speedup falls as workers are added" in table
    assert "serial fraction of" not in " ".join(sweep_takeaway(result))
