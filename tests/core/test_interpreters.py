"""Interpreter discovery: the real Pythons on this machine, and stub ones that misbehave."""

from __future__ import annotations

import json
import os
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from lab.core.errors import InvalidSettings
from lab.core.interpreters import (
    Interpreter,
    discover,
    gil_environment,
    named,
    probe,
    public_choices,
    resolve,
)

PYENV_VERSIONS = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
PYTHON_312 = PYENV_VERSIONS / "3.12.1" / "bin" / "python3.12"
PYTHON_27 = PYENV_VERSIONS / "2.7.18" / "bin" / "python2.7"
LAB_CACHE = Path(os.environ.get("GIL_LAB_CACHE") or Path.home() / ".cache" / "gil-lab")
FREE_THREADED_BUILD = LAB_CACHE / "python-3.13t" / "bin" / "python3.13t"
FAKE_PROBE_ANSWER = (
    'gil-lab-probe {"version": "3.8.18", "implementation": "CPython", '
    '"free_threaded": false, "gil_enabled_by_default": true}'
)
STUB_TIMEOUT_S = 1.0
HANG_S = 3000 + os.getpid() % 1000  # a number no other sleeping process has, to find leftovers by


def script(path: Path, body: str, mode: int = 0o755) -> Path:
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(mode)
    return path


def fake_env(tmp: Path, *path_folders: Path, **extra: str) -> dict[str, str]:
    """An environment with no pyenv, uv or lab build: only the given PATH (and the server's Python)."""
    return {
        "PATH": os.pathsep.join(str(folder) for folder in path_folders),
        "HOME": str(tmp / "home"),
        "PYENV_ROOT": str(tmp / "no-pyenv"),
        "GIL_LAB_CACHE": str(tmp / "no-cache"),
        **extra,
    }


def running_commands() -> list[str]:
    commands = []
    for entry in Path("/proc").iterdir():
        try:
            commands.append(" ".join((entry / "cmdline").read_bytes().decode(errors="replace").split("\0")))
        except OSError:
            continue
    return commands


def by_path(interpreters: list[Interpreter], path: Path) -> Interpreter:
    matches = [found for found in interpreters if found.path == str(path)]
    assert len(matches) == 1, [found.path for found in interpreters]
    return matches[0]


def made(
    folder: str, version: str, *, source: str = "pyenv", free_threaded: bool = False, **fields: Any
) -> Interpreter:
    """A probed interpreter as `discover` would see it, without running anything."""
    found = Interpreter(
        name="",
        path=f"/opt/{folder}/bin/python3",
        version=version,
        implementation="CPython",
        free_threaded=free_threaded,
        gil_enabled_by_default=not free_threaded,
        subinterpreters=None,
        start_method="fork",
        sources=(source,),
        usable=True,
        problem=None,
    )
    return replace(found, **fields)


@pytest.fixture(scope="module")
def machine() -> list[Interpreter]:
    """Real discovery on this machine, once for the module."""
    return discover()


@pytest.fixture(scope="module")
def stub_machine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list[Interpreter], float]]:
    """A fake PATH holding broken, lying, hanging, old and duplicate Pythons, discovered once."""
    tmp = tmp_path_factory.mktemp("stub-machine")
    first, second, shims = tmp / "bin", tmp / "bin2", tmp / "shims"
    for folder in (first, second, shims):
        folder.mkdir()
    script(first / "python3.20", 'echo "this is not python" >&2\nexit 3')
    script(first / "python3.21", "echo 'hello, world'")
    script(first / "python3.22", f"/bin/sleep {HANG_S}")
    script(first / "python3.23", f"echo '{FAKE_PROBE_ANSWER}'")
    script(first / "python3.24", "exit 0", mode=0o644)
    script(first / "python3.25", "exec /usr/bin/yes garbage")
    (first / "python3").symlink_to(PYTHON_27)
    (first / "python3.12").symlink_to(PYTHON_312)
    (second / "python3.12").symlink_to(PYTHON_312)
    os.link(first / "python3.21", second / "python3.21t")
    (first / "python3.12-config").symlink_to(PYTHON_312)
    script(shims / "python3.13", "echo 'a shim must never be probed' >&2\nexit 9")
    started = time.perf_counter()
    found = discover(fake_env(tmp, first, second, shims), timeout_s=STUB_TIMEOUT_S)
    yield tmp, found, time.perf_counter() - started


def test_discovery_finds_cpython_311_312_and_313_on_this_machine(machine: list[Interpreter]) -> None:
    usable = {found.name: found for found in machine if found.usable}
    assert {"3.11", "3.12", "3.13"} <= set(usable)
    assert usable["3.12"].version == "3.12.1"
    assert usable["3.13"].version == "3.13.0"
    assert not usable["3.13"].free_threaded and usable["3.13"].gil_enabled_by_default


def test_discovery_reports_which_module_gives_subinterpreters_their_own_gil(
    machine: list[Interpreter],
) -> None:
    usable = {found.name: found for found in machine if found.usable}
    assert usable["3.11"].subinterpreters is None
    assert usable["3.12"].subinterpreters == "_xxsubinterpreters"
    assert usable["3.13"].subinterpreters == "_interpreters"


def test_the_free_threaded_build_is_found_as_313t_with_the_gil_off_when_it_has_been_built(
    machine: list[Interpreter], monkeypatch: pytest.MonkeyPatch
) -> None:
    if not FREE_THREADED_BUILD.exists():
        assert "3.13t" not in {found.name for found in machine}
        return
    (built,) = [found for found in machine if found.name == "3.13t"]
    assert built.free_threaded and not built.gil_enabled_by_default
    assert built.subinterpreters == "_interpreters"
    assert built.sources == ("lab build",)
    assert os.path.samefile(built.path, FREE_THREADED_BUILD)
    # The probe reports the build's default, whatever PYTHON_GIL the server runs with.
    monkeypatch.setenv("PYTHON_GIL", "1")
    assert probe(str(FREE_THREADED_BUILD)).gil_enabled_by_default is False


def test_the_servers_own_interpreter_is_found_once_and_keeps_the_short_name(
    machine: list[Interpreter],
) -> None:
    own = [found for found in machine if "server" in found.sources]
    assert len(own) == 1
    assert own[0].path == sys.executable
    assert own[0].name == f"{sys.version_info.major}.{sys.version_info.minor}"
    assert own[0].sources[0] == "server"


def test_pythons_older_than_310_are_listed_after_the_usable_ones_as_too_old(
    machine: list[Interpreter],
) -> None:
    old = [found for found in machine if found.version.startswith(("3.6.", "3.7.", "3.8.", "3.9."))]
    assert old, "pyenv holds 3.6 to 3.9 on this machine"
    assert all(not found.usable and "too old" in (found.problem or "") for found in old)
    usable_flags = [found.usable for found in machine]
    assert usable_flags == sorted(usable_flags, reverse=True)


def test_no_pyenv_shim_is_probed_as_a_python_of_its_own(machine: list[Interpreter]) -> None:
    assert not [found.path for found in machine if "/shims/" in found.path]


def test_a_script_that_is_not_python_is_unusable_with_its_exit_status_and_message(
    stub_machine: tuple[Path, list[Interpreter], float],
) -> None:
    tmp, found, _ = stub_machine
    stub = by_path(found, tmp / "bin" / "python3.20")
    assert not stub.usable
    assert stub.problem == "exit status 3: this is not python"


def test_a_script_that_prints_garbage_is_unusable_and_its_output_is_quoted(
    stub_machine: tuple[Path, list[Interpreter], float],
) -> None:
    tmp, found, _ = stub_machine
    stub = by_path(found, tmp / "bin" / "python3.21")
    assert not stub.usable
    assert stub.problem == "is not a Python it seems: it printed 'hello, world'"


def test_a_script_that_hangs_times_out_quickly_and_leaves_no_process(
    stub_machine: tuple[Path, list[Interpreter], float],
) -> None:
    tmp, found, elapsed_s = stub_machine
    stub = by_path(found, tmp / "bin" / "python3.22")
    assert not stub.usable
    assert stub.problem == f"gave no answer within {STUB_TIMEOUT_S:g} s"
    # Probes run at once: the whole discovery waits for one timeout, not one per stub.
    assert elapsed_s < STUB_TIMEOUT_S + 3.0
    assert not [
        command for command in running_commands() if str(tmp) in command or f"sleep {HANG_S}" in command
    ]


def test_a_python_that_reports_38_is_listed_as_too_old(
    stub_machine: tuple[Path, list[Interpreter], float],
) -> None:
    tmp, found, _ = stub_machine
    stub = by_path(found, tmp / "bin" / "python3.23")
    assert (stub.version, stub.usable) == ("3.8.18", False)
    assert stub.problem == "Python 3.8.18 is too old: the lab needs 3.10 or newer"
    assert stub.name == "3.8"


def test_a_real_python_27_answers_the_probe_and_is_listed_as_too_old(
    stub_machine: tuple[Path, list[Interpreter], float],
) -> None:
    tmp, found, _ = stub_machine
    old = by_path(found, tmp / "bin" / "python3")
    assert old.version == "2.7.18"
    assert old.problem == "Python 2.7.18 is too old: the lab needs 3.10 or newer"


def test_a_file_that_is_not_executable_is_unusable(
    stub_machine: tuple[Path, list[Interpreter], float],
) -> None:
    tmp, found, _ = stub_machine
    stub = by_path(found, tmp / "bin" / "python3.24")
    assert stub.problem == "cannot be run: Permission denied"


def test_a_flood_of_output_is_cut_off_instead_of_filling_memory(
    stub_machine: tuple[Path, list[Interpreter], float],
) -> None:
    tmp, found, _ = stub_machine
    stub = by_path(found, tmp / "bin" / "python3.25")
    assert stub.problem == "printed more than 64 KiB instead of answering"


def test_links_to_one_python_in_two_folders_are_one_entry_named_by_the_first(
    stub_machine: tuple[Path, list[Interpreter], float],
) -> None:
    tmp, found, _ = stub_machine
    linked = [found_one for found_one in found if found_one.version == "3.12.1"]
    assert len(linked) == 1
    assert linked[0].path == str(tmp / "bin" / "python3.12")
    assert (linked[0].name, linked[0].usable, linked[0].sources) == ("3.12", True, ("PATH",))
    hard_linked = [found_one for found_one in found if Path(found_one.path).name.startswith("python3.21")]
    assert len(hard_linked) == 1


def test_config_scripts_and_shims_are_not_candidates(
    stub_machine: tuple[Path, list[Interpreter], float],
) -> None:
    _, found, _ = stub_machine
    paths = [found_one.path for found_one in found]
    assert not [path for path in paths if path.endswith("-config") or "/shims/" in path]


def test_every_problem_is_one_line(stub_machine: tuple[Path, list[Interpreter], float]) -> None:
    _, found, _ = stub_machine
    problems = [found_one.problem for found_one in found if not found_one.usable]
    assert len(problems) == 7
    assert all(problem and "\n" not in problem for problem in problems)


def test_the_hosts_list_adds_pythons_and_limits_public_choices_to_them(tmp_path: Path) -> None:
    listed = tmp_path / "listed-python"
    listed.symlink_to(PYTHON_312)
    env = fake_env(tmp_path, GIL_LAB_PYTHONS=f"{listed}{os.pathsep}{tmp_path / 'missing-python'}")
    found = discover(env, timeout_s=STUB_TIMEOUT_S)
    assert by_path(found, listed).sources == ("GIL_LAB_PYTHONS",)
    assert by_path(found, tmp_path / "missing-python").problem == "cannot be run: No such file or directory"
    assert [choice.path for choice in public_choices(found, env)] == [str(listed)]


def test_public_mode_offers_only_the_servers_own_python_when_the_host_lists_none(
    machine: list[Interpreter],
) -> None:
    choices = public_choices(machine, {})
    assert [choice.path for choice in choices] == [sys.executable]


def test_uv_is_asked_where_its_pythons_live(tmp_path: Path) -> None:
    tools, managed = tmp_path / "tools", tmp_path / "uv-pythons" / "cpython-3.12.1-linux" / "bin"
    tools.mkdir()
    managed.mkdir(parents=True)
    script(tools / "uv", f'[ "$1 $2" = "python dir" ] && echo {tmp_path / "uv-pythons"}')
    (managed / "python3.12").symlink_to(PYTHON_312)
    found = discover(fake_env(tmp_path, tools), timeout_s=STUB_TIMEOUT_S)
    assert by_path(found, managed / "python3.12").sources == ("uv",)


def test_the_server_keeps_the_short_name_and_others_sharing_it_get_their_full_version() -> None:
    server = made("venv", "3.11.7", source="server")
    system = made("system", "3.11.2", source="PATH")
    pyenv_twin = made("pyenv", "3.11.7", source="pyenv")
    newer = made("uv", "3.12.8", source="uv")
    listed = named([pyenv_twin, newer, system, server])
    assert [(found.name, found.path) for found in listed] == [
        ("3.11", server.path),
        ("3.11.2", system.path),
        ("3.11.7-2", pyenv_twin.path),
        ("3.12", newer.path),
    ]


def test_names_are_the_same_whatever_order_the_probes_finish_in() -> None:
    probed = [made(f"p{number}", f"3.{minor}.{number}") for number in range(3) for minor in (12, 13)]
    expected = [found.name for found in named(probed)]
    for seed in range(5):
        shuffled = probed[:]
        random.Random(seed).shuffle(shuffled)
        assert [found.name for found in named(shuffled)] == expected


def test_free_threaded_builds_end_in_t_and_other_implementations_get_a_prefix() -> None:
    listed = named(
        [
            made("ft", "3.13.5", free_threaded=True),
            made("gil", "3.13.0"),
            made("pypy", "3.10.14", implementation="PyPy"),
        ]
    )
    assert [found.name for found in listed] == ["3.13", "3.13t", "pypy3.10"]


def test_unknown_names_are_refused_with_the_known_ones_listed(machine: list[Interpreter]) -> None:
    with pytest.raises(
        InvalidSettings, match=r"^unknown interpreter '3\.99'; choose one of: 3\.10, 3\.11, "
    ) as raised:
        resolve("3.99", machine, allow_paths=True)
    assert "\n" not in str(raised.value)


def test_a_listed_name_resolves_to_its_interpreter(machine: list[Interpreter]) -> None:
    assert resolve("3.13", machine, allow_paths=False).version == "3.13.0"


def test_a_path_is_refused_where_paths_are_not_allowed(machine: list[Interpreter]) -> None:
    with pytest.raises(InvalidSettings, match=r"is a path; choose one of the listed interpreters: 3\.10, "):
        resolve(str(PYTHON_312), machine, allow_paths=False)


def test_a_path_to_a_listed_python_resolves_to_the_listed_entry(
    machine: list[Interpreter], tmp_path: Path
) -> None:
    link = tmp_path / "python"
    link.symlink_to(PYTHON_312)
    assert resolve(str(link), machine, allow_paths=True).name == "3.12"


def test_a_path_to_a_new_python_is_probed(machine: list[Interpreter]) -> None:
    given = resolve(
        str(PYTHON_312), [found for found in machine if found.version != "3.12.1"], allow_paths=True
    )
    assert (given.name, given.sources, given.usable) == ("3.12", ("given",), True)


def test_a_relative_path_is_probed_from_the_persons_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "python").symlink_to(PYTHON_312)
    monkeypatch.chdir(tmp_path)
    given = probe("./python")
    assert (given.path, given.version, given.usable) == (str(tmp_path / "python"), "3.12.1", True)


def test_a_path_that_is_not_python_or_too_old_is_refused(machine: list[Interpreter], tmp_path: Path) -> None:
    not_python = script(tmp_path / "python", "echo nope")
    with pytest.raises(
        InvalidSettings, match=r"cannot run the lab: is not a Python it seems: it printed 'nope'$"
    ):
        resolve(str(not_python), machine, allow_paths=True)
    with pytest.raises(InvalidSettings, match=r"cannot run the lab: Python 2\.7\.18 is too old"):
        resolve(str(PYTHON_27), machine, allow_paths=True)


def test_the_name_of_an_unusable_python_is_refused_with_its_problem(machine: list[Interpreter]) -> None:
    with pytest.raises(
        InvalidSettings, match=r"^3\.8 \(.*\) cannot run the lab: Python 3\.8\.\d+ is too old"
    ):
        resolve("3.8", machine, allow_paths=False)


def test_a_free_threaded_build_switches_its_gil_through_python_gil() -> None:
    built = made("ft", "3.13.5", free_threaded=True, name="3.13t")
    assert gil_environment(built, "on") == {"PYTHON_GIL": "1"}
    assert gil_environment(built, "off") == {"PYTHON_GIL": "0"}
    assert gil_environment(built, None) == {}


def test_a_gil_build_refuses_any_gil_switch() -> None:
    gil_build = made("gil", "3.11.7", name="3.11")
    assert gil_environment(gil_build, None) == {}
    for gil in ("on", "off"):
        with pytest.raises(
            InvalidSettings, match=r"^3\.11 is not a free-threaded build: it has no GIL switch; "
        ):
            gil_environment(gil_build, gil)


def test_a_gil_switch_other_than_on_or_off_is_refused() -> None:
    with pytest.raises(InvalidSettings, match="--gil must be on or off, not 'maybe'"):
        gil_environment(made("ft", "3.13.5", free_threaded=True), "maybe")


def test_an_interpreter_survives_a_round_trip_through_json(
    machine: list[Interpreter], stub_machine: tuple[Path, list[Interpreter], float]
) -> None:
    for found in [*machine, *stub_machine[1]]:
        assert Interpreter.from_dict(json.loads(json.dumps(found.to_dict()))) == found
