"""Interpreter discovery, seen through fake Pythons the tests make, and one test of the real ones.

Discovery asks every candidate file what it is by running the probe under it.
The fakes are shell scripts that answer the probe as a real Python would, laid
out where discovery looks (PATH, a pyenv root with its shims, uv's folder, the
lab's build, GIL_LAB_PYTHONS), beside stubs that misbehave (not Python, garbage,
hanging, flooding, lying). So every test here holds on any machine; only the
test marked `pythons` probes the Pythons this machine really holds, and it skips,
saying why, where there are none. No test names a version this machine has:
the fakes' versions are made up, and what concerns the Python running the tests
comes from `sys.version_info`.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import platform
import random
import sys
import sysconfig
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from lab.core.errors import InvalidSettings
from lab.core.interpreter_probe import ANSWER_PREFIX
from lab.core.interpreters import (
    MIN_VERSION,
    Interpreter,
    discover,
    gil_environment,
    named,
    probe,
    public_choices,
    resolve,
    version_key,
)

STUB_TIMEOUT_S = 1.0
HANG_S = 3000 + os.getpid() % 1000  # a number no other sleeping process has, to find leftovers by
OWN_GIL_MODULES = {(3, 12): "_xxsubinterpreters", (3, 13): "_interpreters"}


def script(path: Path, body: str, mode: int = 0o755) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(mode)
    return path


def probe_line(**fields: Any) -> str:
    """One line of the probe's answer, quoted for the shell."""
    return "echo '" + ANSWER_PREFIX + json.dumps(fields) + "'"


def fake_python(
    path: Path,
    version: str,
    *,
    implementation: str = "CPython",
    free_threaded: bool = False,
    subinterpreters: str | None = None,
    start_method: str = "fork",
) -> Path:
    """A script that answers the probe as that Python would, and refuses any other command line.

    A free-threaded fake says its GIL is on when PYTHON_GIL=1 reaches it (as a
    real build run without -E would): discovery must not let it reach it.
    """
    facts = {"version": version, "implementation": implementation, "free_threaded": free_threaded}
    first = probe_line(**facts, gil_enabled_by_default=not free_threaded)
    if free_threaded:
        gil_on = probe_line(**facts, gil_enabled_by_default=True)
        first = f'if [ "${{PYTHON_GIL:-}}" = 1 ]; then {gil_on}; else {first}; fi'
    return script(
        path,
        f"# a fake {implementation} {version}{'t' if free_threaded else ''}\n"
        '[ "$1 $2 $3 $4" = "-E -s -S -c" ] || { echo "unexpected arguments: $*" >&2; exit 2; }\n'
        f'case "$5" in *"{ANSWER_PREFIX}"*) ;; *) echo "not the probe" >&2; exit 2;; esac\n'
        f"{first}\n{probe_line(start_method=start_method)}\n{probe_line(subinterpreters=subinterpreters)}",
    )


def fake_env(tmp: Path, *path_folders: Path, **extra: str) -> dict[str, str]:
    """An environment with no pyenv, uv or lab build: only the given PATH."""
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


def by_name(interpreters: list[Interpreter], name: str) -> Interpreter:
    matches = [found for found in interpreters if found.name == name]
    assert len(matches) == 1, [found.name for found in interpreters]
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


@dataclass(frozen=True)
class FakeMachine:
    """A made-up machine: where its fake Pythons lie, and what discovery found there."""

    root: Path
    env: dict[str, str]
    found: list[Interpreter]

    def at(self, relative: str) -> Path:
        return self.root / relative


@pytest.fixture(scope="module")
def fake_machine(tmp_path_factory: pytest.TempPathFactory) -> FakeMachine:
    """Fake Pythons everywhere discovery looks, discovered once with a fake server Python.

    server/python3.11 (3.11.4) runs the app; PATH holds another 3.11 (3.11.1),
    a link to pyenv's 3.13 and pyenv's shims; pyenv holds 3.12.3 (with its
    `python3` and `-config` links), 3.13.2 and two that are too old; uv holds a
    PyPy; the lab's build is a free-threaded 3.13.3t; the host lists a link to
    pyenv's 3.12. The environment carries PYTHON_GIL=1, which no probe may see.
    """
    root = tmp_path_factory.mktemp("fake-machine")
    server = fake_python(root / "server" / "python3.11", "3.11.4")
    fake_python(root / "bin" / "python3.11", "3.11.1")
    (root / "bin" / "python3").symlink_to(root / "bin" / "python3.11")
    versions = root / "pyenv" / "versions"
    pyenv_312 = fake_python(
        versions / "3.12.3" / "bin" / "python3.12", "3.12.3", subinterpreters="_xxsubinterpreters"
    )
    (pyenv_312.parent / "python3").symlink_to(pyenv_312)
    (pyenv_312.parent / "python3.12-config").symlink_to(pyenv_312)
    pyenv_313 = fake_python(
        versions / "3.13.2" / "bin" / "python3.13", "3.13.2", subinterpreters="_interpreters"
    )
    (root / "bin" / "python3.13").symlink_to(pyenv_313)
    fake_python(versions / "3.9.6" / "bin" / "python3.9", "3.9.6")
    fake_python(versions / "3.7.9" / "bin" / "python3.7", "3.7.9")
    script(root / "pyenv" / "shims" / "python3.12", "echo 'a shim must never be probed' >&2\nexit 9")
    uv_python = root / "home" / ".local" / "share" / "uv" / "python" / "pypy-3.10.14-linux" / "bin"
    fake_python(uv_python / "python3.10", "3.10.14", implementation="PyPy")
    fake_python(
        root / "cache" / "python-3.13t" / "bin" / "python3.13t",
        "3.13.3",
        free_threaded=True,
        subinterpreters="_interpreters",
    )
    (root / "listed").mkdir()
    (root / "listed" / "python-for-visitors").symlink_to(pyenv_312)
    env = {
        "PATH": os.pathsep.join([str(root / "bin"), str(root / "pyenv" / "shims")]),
        "HOME": str(root / "home"),
        "PYENV_ROOT": str(root / "pyenv"),
        "GIL_LAB_CACHE": str(root / "cache"),
        "GIL_LAB_PYTHONS": str(root / "listed" / "python-for-visitors"),
        "PYTHON_GIL": "1",
    }
    return FakeMachine(root, env, discover(env, timeout_s=STUB_TIMEOUT_S, server=str(server)))


@pytest.fixture(scope="module")
def stub_machine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list[Interpreter], float]]:
    """A fake PATH holding broken, lying, hanging, old and duplicate Pythons, discovered once."""
    tmp = tmp_path_factory.mktemp("stub-machine")
    first, second, shims, elsewhere = tmp / "bin", tmp / "bin2", tmp / "shims", tmp / "elsewhere"
    for folder in (first, second, shims, elsewhere):
        folder.mkdir()
    old_answer = probe_line(
        version="3.8.10", implementation="CPython", free_threaded=False, gil_enabled_by_default=True
    )
    script(first / "python3.20", 'echo "this is not python" >&2\nexit 3')
    script(first / "python3.21", "echo 'hello, world'")
    script(first / "python3.22", f"/bin/sleep {HANG_S}")
    script(first / "python3.23", old_answer)
    script(first / "python3.24", "exit 0", mode=0o644)
    script(first / "python3.25", "exec /usr/bin/yes garbage")
    script(
        first / "python3.26",
        probe_line(
            version="3.14.1", implementation="CPython", free_threaded=False, gil_enabled_by_default=True
        )
        + f"\n/bin/sleep {HANG_S}",
    )
    script(
        first / "python3.27",
        probe_line(
            version="3.15.2", implementation="CPython", free_threaded=False, gil_enabled_by_default=True
        )
        + "\nexit 134",
    )
    script(
        first / "python3.28",
        probe_line(version=3.12, implementation="CPython", free_threaded="no", gil_enabled_by_default=True),
    )
    fake_python(first / "python3", "2.7.5")
    python_312 = fake_python(elsewhere / "python3.12", "3.12.3")
    (first / "python3.12").symlink_to(python_312)
    (second / "python3.12").symlink_to(python_312)
    os.link(first / "python3.21", second / "python3.21t")
    (first / "python3.12-config").symlink_to(python_312)
    script(shims / "python3.13", "echo 'a shim must never be probed' >&2\nexit 9")
    started = time.perf_counter()
    found = discover(fake_env(tmp, first, second, shims), timeout_s=STUB_TIMEOUT_S, server=None)
    yield tmp, found, time.perf_counter() - started


def test_discovery_names_each_python_by_minor_version_with_t_for_free_threaded_builds(
    fake_machine: FakeMachine,
) -> None:
    usable = {found.name: found.version for found in fake_machine.found if found.usable}
    assert usable == {
        "3.11": "3.11.4",
        "3.11.1": "3.11.1",
        "3.12": "3.12.3",
        "3.13": "3.13.2",
        "3.13t": "3.13.3",
        "pypy3.10": "3.10.14",
    }
    assert [found.name for found in fake_machine.found if found.usable] == list(usable)
    gil_build = by_name(fake_machine.found, "3.13")
    assert not gil_build.free_threaded and gil_build.gil_enabled_by_default
    assert by_name(fake_machine.found, "3.13t").label == "3.13t — CPython 3.13.3, free-threaded"


def test_discovery_reports_which_module_gives_subinterpreters_their_own_gil(
    fake_machine: FakeMachine,
) -> None:
    found = fake_machine.found
    assert by_name(found, "3.11").subinterpreters is None
    assert by_name(found, "3.12").subinterpreters == "_xxsubinterpreters"
    assert by_name(found, "3.13").subinterpreters == "_interpreters"


def test_the_labs_free_threaded_build_is_found_as_313t_with_the_gil_off_whatever_python_gil_says(
    fake_machine: FakeMachine,
) -> None:
    built = by_name(fake_machine.found, "3.13t")
    assert built.free_threaded and not built.gil_enabled_by_default
    assert built.subinterpreters == "_interpreters"
    assert built.sources == ("lab build",)
    assert built.path == str(fake_machine.at("cache/python-3.13t/bin/python3.13t"))
    # The server's PYTHON_GIL=1 never reaches a probe: the answer is the build's default.
    assert fake_machine.env["PYTHON_GIL"] == "1"


def test_a_given_path_is_probed_without_the_servers_python_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = fake_python(tmp_path / "python3.13t", "3.13.3", free_threaded=True)
    monkeypatch.setenv("PYTHON_GIL", "1")
    assert probe(str(built)).gil_enabled_by_default is False


def test_the_servers_own_interpreter_is_found_once_keeps_the_short_name_and_describes_itself(
    tmp_path: Path,
) -> None:
    found = discover(fake_env(tmp_path), timeout_s=30.0)
    (own,) = [python for python in found if "server" in python.sources]
    assert own.path == sys.executable
    assert own.sources == ("server",)
    assert own.name == f"{sys.version_info.major}.{sys.version_info.minor}"
    assert own.version == platform.python_version()
    assert own.implementation == platform.python_implementation()
    assert own.free_threaded == bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    assert own.start_method in multiprocessing.get_all_start_methods()
    assert own.usable and own.problem is None


def test_a_fake_server_keeps_the_short_name_it_shares_with_a_python_on_path(
    fake_machine: FakeMachine,
) -> None:
    server = by_name(fake_machine.found, "3.11")
    assert (server.path, server.sources) == (str(fake_machine.at("server/python3.11")), ("server",))
    other = by_name(fake_machine.found, "3.11.1")
    assert (other.path, other.sources) == (str(fake_machine.at("bin/python3.11")), ("PATH",))


def test_pythons_older_than_310_are_listed_after_the_usable_ones_as_too_old(
    fake_machine: FakeMachine,
) -> None:
    old = [found for found in fake_machine.found if not found.usable]
    assert [(found.name, found.problem) for found in old] == [
        ("3.7", "Python 3.7.9 is too old: the lab needs 3.10 or newer"),
        ("3.9", "Python 3.9.6 is too old: the lab needs 3.10 or newer"),
    ]
    assert all(found.sources == ("pyenv",) for found in old)
    usable_flags = [found.usable for found in fake_machine.found]
    assert usable_flags == sorted(usable_flags, reverse=True)


def test_no_pyenv_shim_is_probed_as_a_python_of_its_own(fake_machine: FakeMachine) -> None:
    assert not [found.path for found in fake_machine.found if "/shims/" in found.path]
    assert not [found.path for found in fake_machine.found if found.path.endswith("-config")]


def test_one_python_reached_from_path_and_pyenv_is_one_entry_found_in_both(fake_machine: FakeMachine) -> None:
    found = by_name(fake_machine.found, "3.13")
    assert found.path == str(fake_machine.at("bin/python3.13"))
    assert found.sources == ("PATH", "pyenv")
    assert len([python for python in fake_machine.found if python.version == "3.13.2"]) == 1


def test_the_hosts_list_outranks_pyenv_for_the_path_of_a_python_both_hold(fake_machine: FakeMachine) -> None:
    found = by_name(fake_machine.found, "3.12")
    assert found.path == str(fake_machine.at("listed/python-for-visitors"))
    assert found.sources == ("GIL_LAB_PYTHONS", "pyenv")
    assert len([python for python in fake_machine.found if python.version == "3.12.3"]) == 1


def test_uvs_documented_folder_is_searched_when_uv_itself_is_not_on_path(fake_machine: FakeMachine) -> None:
    pypy = by_name(fake_machine.found, "pypy3.10")
    assert pypy.sources == ("uv",)
    assert pypy.implementation == "PyPy"


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


def test_a_python_that_says_what_it_is_then_hangs_is_unusable_and_keeps_its_version(
    stub_machine: tuple[Path, list[Interpreter], float],
) -> None:
    tmp, found, _ = stub_machine
    stub = by_path(found, tmp / "bin" / "python3.26")
    assert (stub.version, stub.name, stub.usable) == ("3.14.1", "3.14", False)
    assert stub.problem == f"gave no answer within {STUB_TIMEOUT_S:g} s"


def test_a_python_that_crashes_after_saying_what_it_is_is_usable_without_subinterpreters(
    stub_machine: tuple[Path, list[Interpreter], float],
) -> None:
    tmp, found, _ = stub_machine
    stub = by_path(found, tmp / "bin" / "python3.27")
    assert (stub.version, stub.usable, stub.problem) == ("3.15.2", True, None)
    assert (stub.subinterpreters, stub.start_method) == (None, "")


def test_an_answer_with_fields_of_the_wrong_type_is_unusable_and_names_them(
    stub_machine: tuple[Path, list[Interpreter], float],
) -> None:
    tmp, found, _ = stub_machine
    stub = by_path(found, tmp / "bin" / "python3.28")
    assert not stub.usable
    assert stub.problem == "answered like no Python does (bad version, free_threaded)"


def test_a_python_that_reports_38_is_listed_as_too_old(
    stub_machine: tuple[Path, list[Interpreter], float],
) -> None:
    tmp, found, _ = stub_machine
    stub = by_path(found, tmp / "bin" / "python3.23")
    assert (stub.version, stub.usable) == ("3.8.10", False)
    assert stub.problem == "Python 3.8.10 is too old: the lab needs 3.10 or newer"
    assert stub.name == "3.8"


def test_a_python_27_that_answers_the_probe_is_listed_as_too_old(
    stub_machine: tuple[Path, list[Interpreter], float],
) -> None:
    tmp, found, _ = stub_machine
    old = by_path(found, tmp / "bin" / "python3")
    assert old.version == "2.7.5"
    assert old.problem == "Python 2.7.5 is too old: the lab needs 3.10 or newer"


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
    linked = [found_one for found_one in found if found_one.version == "3.12.3"]
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
    assert len(problems) == 9
    assert all(problem and "\n" not in problem for problem in problems)


def test_the_hosts_list_adds_pythons_and_limits_public_choices_to_them(tmp_path: Path) -> None:
    listed = fake_python(tmp_path / "listed-python", "3.12.3")
    env = fake_env(tmp_path, GIL_LAB_PYTHONS=f"{listed}{os.pathsep}{tmp_path / 'missing-python'}")
    found = discover(env, timeout_s=STUB_TIMEOUT_S, server=None)
    assert by_path(found, listed).sources == ("GIL_LAB_PYTHONS",)
    assert by_path(found, tmp_path / "missing-python").problem == "cannot be run: No such file or directory"
    assert [choice.path for choice in public_choices(found, env)] == [str(listed)]


def test_public_mode_offers_only_the_servers_own_python_when_the_host_lists_none(tmp_path: Path) -> None:
    found = discover(fake_env(tmp_path), timeout_s=30.0)
    choices = public_choices(found, {})
    assert [choice.path for choice in choices] == [sys.executable]


def test_uv_is_asked_where_its_pythons_live(tmp_path: Path) -> None:
    tools, managed = tmp_path / "tools", tmp_path / "uv-pythons" / "cpython-3.12.3-linux" / "bin"
    tools.mkdir()
    script(tools / "uv", f'[ "$1 $2" = "python dir" ] && echo {tmp_path / "uv-pythons"}')
    fake_python(managed / "python3.12", "3.12.3")
    found = discover(fake_env(tmp_path, tools), timeout_s=STUB_TIMEOUT_S, server=None)
    assert by_path(found, managed / "python3.12").sources == ("uv",)


def test_the_server_keeps_the_short_name_and_others_sharing_it_get_their_full_version() -> None:
    server = made("venv", "3.11.4", source="server")
    system = made("system", "3.11.1", source="PATH")
    pyenv_twin = made("pyenv", "3.11.4", source="pyenv")
    newer = made("uv", "3.12.3", source="uv")
    listed = named([pyenv_twin, newer, system, server])
    assert [(found.name, found.path) for found in listed] == [
        ("3.11", server.path),
        ("3.11.1", system.path),
        ("3.11.4-2", pyenv_twin.path),
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
            made("ft", "3.13.3", free_threaded=True),
            made("gil", "3.13.2"),
            made("pypy", "3.10.14", implementation="PyPy"),
        ]
    )
    assert [found.name for found in listed] == ["3.13", "3.13t", "pypy3.10"]


def test_unknown_names_are_refused_with_the_known_ones_listed(fake_machine: FakeMachine) -> None:
    with pytest.raises(
        InvalidSettings,
        match=r"^unknown interpreter '3\.99'; choose one of: "
        r"3\.11, 3\.11\.1, 3\.12, 3\.13, 3\.13t, pypy3\.10$",
    ) as raised:
        resolve("3.99", fake_machine.found, allow_paths=True)
    assert "\n" not in str(raised.value)


def test_a_listed_name_resolves_to_its_interpreter(fake_machine: FakeMachine) -> None:
    assert resolve("3.13", fake_machine.found, allow_paths=False).version == "3.13.2"
    assert resolve("3.13t", fake_machine.found, allow_paths=False).free_threaded


def test_a_path_is_refused_where_paths_are_not_allowed(fake_machine: FakeMachine) -> None:
    path = fake_machine.at("pyenv/versions/3.12.3/bin/python3.12")
    with pytest.raises(InvalidSettings, match=r"is a path; choose one of the listed interpreters: 3\.11, "):
        resolve(str(path), fake_machine.found, allow_paths=False)


def test_a_path_to_a_listed_python_resolves_to_the_listed_entry(
    fake_machine: FakeMachine, tmp_path: Path
) -> None:
    link = tmp_path / "python"
    link.symlink_to(fake_machine.at("pyenv/versions/3.12.3/bin/python3.12"))
    assert resolve(str(link), fake_machine.found, allow_paths=True).name == "3.12"


def test_a_path_to_a_new_python_is_probed(fake_machine: FakeMachine) -> None:
    path = fake_machine.at("pyenv/versions/3.12.3/bin/python3.12")
    others = [found for found in fake_machine.found if found.version != "3.12.3"]
    given = resolve(str(path), others, allow_paths=True)
    assert (given.name, given.sources, given.usable, given.path) == ("3.12", ("given",), True, str(path))


def test_a_relative_path_is_probed_from_the_persons_folder(
    fake_machine: FakeMachine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "python").symlink_to(fake_machine.at("pyenv/versions/3.12.3/bin/python3.12"))
    monkeypatch.chdir(tmp_path)
    given = probe("./python")
    assert (given.path, given.version, given.usable) == (str(tmp_path / "python"), "3.12.3", True)


def test_a_path_that_is_not_python_or_too_old_is_refused(fake_machine: FakeMachine, tmp_path: Path) -> None:
    not_python = script(tmp_path / "python", "echo nope")
    with pytest.raises(
        InvalidSettings, match=r"cannot run the lab: is not a Python it seems: it printed 'nope'$"
    ):
        resolve(str(not_python), fake_machine.found, allow_paths=True)
    too_old = fake_python(tmp_path / "python2.7", "2.7.5")
    with pytest.raises(InvalidSettings, match=r"cannot run the lab: Python 2\.7\.5 is too old"):
        resolve(str(too_old), fake_machine.found, allow_paths=True)


def test_the_name_of_an_unusable_python_is_refused_with_its_problem(fake_machine: FakeMachine) -> None:
    with pytest.raises(
        InvalidSettings, match=r"^3\.9 \(.*/python3\.9\) cannot run the lab: Python 3\.9\.6 is too old"
    ):
        resolve("3.9", fake_machine.found, allow_paths=False)


def test_a_free_threaded_build_switches_its_gil_through_python_gil() -> None:
    built = made("ft", "3.13.3", free_threaded=True, name="3.13t")
    assert gil_environment(built, "on") == {"PYTHON_GIL": "1"}
    assert gil_environment(built, "off") == {"PYTHON_GIL": "0"}
    assert gil_environment(built, None) == {}


def test_a_gil_build_refuses_any_gil_switch() -> None:
    gil_build = made("gil", "3.11.4", name="3.11")
    assert gil_environment(gil_build, None) == {}
    for gil in ("on", "off"):
        with pytest.raises(
            InvalidSettings, match=r"^3\.11 is not a free-threaded build: it has no GIL switch; "
        ):
            gil_environment(gil_build, gil)


def test_a_gil_switch_other_than_on_or_off_is_refused() -> None:
    with pytest.raises(InvalidSettings, match="--gil must be on or off, not 'maybe'"):
        gil_environment(made("ft", "3.13.3", free_threaded=True), "maybe")


def test_an_interpreter_survives_a_round_trip_through_json(
    fake_machine: FakeMachine, stub_machine: tuple[Path, list[Interpreter], float]
) -> None:
    for found in [*fake_machine.found, *stub_machine[1]]:
        assert Interpreter.from_dict(json.loads(json.dumps(found.to_dict()))) == found


@pytest.mark.pythons
def test_every_real_python_on_this_machine_answers_the_probe_for_what_it_is() -> None:
    """The one test of the Pythons this machine really holds (PATH, pyenv, uv, the lab's build).

    The fakes above answer as the tests say; this proves the probe's own text
    runs and tells the truth under real interpreters: old ones (down to 2.7)
    answer and are refused as too old, the others are usable, subinterpreters
    with their own GIL exist from CPython 3.12 on, and a free-threaded build
    reports its GIL off even when the server runs with PYTHON_GIL=1.
    """
    found = [
        python for python in discover({**os.environ, "PYTHON_GIL": "1"}) if python.sources != ("server",)
    ]
    if not found:
        pytest.skip("no Python on PATH, in pyenv, uv or the lab's build besides the one running the tests")
    for python in found:
        seen = f"{python.path} ({', '.join(python.sources)}): {python.problem}"
        assert "/shims/" not in python.path
        assert python.version, seen
        release = version_key(python.version)
        if release < MIN_VERSION:
            assert not python.usable and (python.problem or "").endswith("or newer"), seen
            continue
        assert python.usable, seen
        if python.implementation != "CPython" or release < (3, 12):
            assert python.subinterpreters is None, seen
        else:
            expected = OWN_GIL_MODULES.get(release[:2], "concurrent.interpreters")
            assert python.subinterpreters == expected, seen
        if python.free_threaded:
            assert not python.gil_enabled_by_default, seen
