"""`python -m lab classics`: argument errors are one line and exit status 2, before anything runs."""

from __future__ import annotations

import pytest

from lab.cli.main import main


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["beazley", "--python", "3.11"], "unknown classic 'beazley'"),
        (["countdown", "--python", "3.11", "--scale", "100"], "scale"),
        (["countdown", "--python", "3.11", "--scale", "fast"], "scale"),
        (["countdown", "--format", "xml"], "invalid choice: 'xml'"),
        (["countdown", "--python", "3.11", "--output", "/no/such/folder/out.json"], "no such folder"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        code = main(["classics", *argv])
    except SystemExit as exc:  # argparse's own refusals
        code = int(exc.code or 0)
    err = capsys.readouterr().err.strip()
    assert code == 2 and says in err and len(err.splitlines()) == 1, err


def test_an_interpreter_that_is_not_here_is_refused_before_anything_runs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["classics", "countdown", "--python", "/no/such/python3.99"]) == 2
    assert "python3.99" in capsys.readouterr().err
