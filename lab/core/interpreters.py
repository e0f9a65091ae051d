"""The Pythons on this machine, what each one is, and which of them may run the worker.

The lab runs its worker under any Python a person picks: GIL builds, and
free-threaded builds with the GIL on or off. A file name says little (a
`python3` may be 2.7, a shim, a venv's link to another Python), so each
candidate is asked in its own short-lived process, with a timeout, what it
really is; see `interpreter_probe`. Candidates come from PATH, pyenv, uv, the
lab's own builds, the server's own interpreter and a list the host sets in
`GIL_LAB_PYTHONS`; one file reached by several paths is probed once.

Standard library only: this runs before any worker, under the server's Python.
"""

from __future__ import annotations

import functools
import json
import os
import re
import selectors
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from lab.core import config
from lab.core.errors import InvalidSettings
from lab.core.interpreter_probe import ANSWER_PREFIX
from lab.core.procs import child_env, describe_exit, end_process_group, start_child

MAX_PYTHONS = 8  # interpreters one comparison or sweep may name
GIL_SETTINGS: tuple[str, ...] = ("on", "off")  # a free-threaded build's GIL switch, as asked
MIN_VERSION = (3, 10)
PROBE_TIMEOUT_S = 5.0  # a healthy probe takes ~0.1 s; ten at once on two busy cores stay well under this
PROBE_OUTPUT_LIMIT = 64 * 1024  # a healthy answer is ~300 bytes; a flood of garbage must not fill memory
PROBE_SOURCE = Path(__file__).with_name("interpreter_probe.py").read_text()
# -E: no PYTHON* variable (PYTHONPATH, PYTHON_GIL...) may change the answer; -s, -S: no site
# packages or .pth code either. -I would do it too, but Python 2.7 refuses it, and 2.7 must be
# reported as too old, not as broken.
PROBE_FLAGS = ("-E", "-s", "-S")
PYTHON_FILE_NAME = re.compile(r"python3(\.\d+t?)?")
# Where a duplicate came from decides which of its paths is kept: the order people trust most.
SOURCES = ("server", "GIL_LAB_PYTHONS", "PATH", "pyenv", "uv", "lab build", "given")
GIL_SWITCH = {"on": "1", "off": "0"}
ANSWER_TYPES: dict[str, type | tuple[type, ...]] = {
    "version": str,
    "implementation": str,
    "free_threaded": bool,
    "gil_enabled_by_default": bool,
    "subinterpreters": (str, type(None)),
    "start_method": str,
}


@dataclass(frozen=True)
class Interpreter:
    """One Python on this machine, as its own probe described it.

    `name` is what people type (`3.12`, `3.13t`, `pypy3.10`); `sources` says
    where discovery found it, the first being where `path` came from. An
    unusable one keeps what could be learnt and says why in `problem`.
    """

    name: str
    path: str
    version: str
    implementation: str
    free_threaded: bool
    gil_enabled_by_default: bool
    subinterpreters: str | None  # module giving subinterpreters their own GIL, or None
    start_method: str
    sources: tuple[str, ...]
    usable: bool
    problem: str | None

    @property
    def short_name(self) -> str:
        """`3.13`, `3.13t`, `pypy3.10`: the name people type, before any disambiguation."""
        major_minor = ".".join(str(part) for part in version_key(self.version)[:2])
        if not major_minor:
            return Path(self.path).name
        return self._prefix + major_minor + ("t" if self.free_threaded else "")

    @property
    def full_name(self) -> str:
        """`3.11.7`, `3.13.5t`: the name that tells two builds of one minor version apart."""
        return self._prefix + self.version + ("t" if self.free_threaded else "")

    @property
    def label(self) -> str:
        """How a chooser shows it: `3.13t — CPython 3.13.5, free-threaded`."""
        build = ", free-threaded" if self.free_threaded else ""
        return f"{self.name} — {self.implementation} {self.version}{build}"

    @property
    def _prefix(self) -> str:
        return "" if self.implementation in ("CPython", "") else self.implementation.lower()

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["sources"] = list(self.sources)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Interpreter:
        fields = {name: data[name] for name in cls.__dataclass_fields__}
        fields["sources"] = tuple(fields["sources"])
        return cls(**fields)


def version_key(version: str) -> tuple[int, ...]:
    """`3.14.0rc1` -> (3, 14, 0): the numeric release, for sorting and the minimum check."""
    match = re.match(r"\d+(\.\d+)*", version)
    return tuple(int(part) for part in match.group().split(".")) if match else ()


def discover(
    env: Mapping[str, str] | None = None,
    timeout_s: float = PROBE_TIMEOUT_S,
    *,
    server: str | None = sys.executable,
) -> list[Interpreter]:
    """Every Python found on this machine, probed at once: usable ones first, then unusable ones.

    `server` is the Python the app runs on (None: none); tests pass a fake one
    to see discovery whole without depending on the Python that runs them.
    """
    env = os.environ if env is None else env
    candidates = candidate_paths(env, server=server)
    with ThreadPoolExecutor(max_workers=max(1, len(candidates))) as pool:
        probed = list(pool.map(lambda found: _probe(found[0], found[1], timeout_s, env), candidates))
    return named(probed)


@functools.cache
def current_interpreter() -> Interpreter:
    """The Python this process runs on, probed once: what a run uses when it names no interpreter."""
    return replace(probe(sys.executable), sources=("server",))


def probe(path: str, *, timeout_s: float = PROBE_TIMEOUT_S) -> Interpreter:
    """One Python a person named by its path (CLI), probed like a discovered one."""
    # Absolute: the probe runs in the repo's folder, a person's relative path in theirs.
    found = _probe(os.path.abspath(Path(path).expanduser()), ("given",), timeout_s, os.environ)
    return replace(found, name=found.short_name)


def resolve(spec: str, interpreters: Sequence[Interpreter], *, allow_paths: bool) -> Interpreter:
    """The interpreter `spec` names: a discovered name or, where paths are allowed, a path.

    Public mode passes `allow_paths=False` and the `public_choices`, so a visitor
    can pick among the host's Pythons but never run an arbitrary file.
    """
    usable = [found for found in interpreters if found.usable]
    known = ", ".join(found.name for found in usable) or "(none found)"
    for found in usable:
        if found.name == spec:
            return found
    if _looks_like_path(spec):
        if not allow_paths:
            raise InvalidSettings(f"{spec} is a path; choose one of the listed interpreters: {known}")
        identity = file_identity(str(Path(spec).expanduser()))
        for found in usable:
            if file_identity(found.path) == identity:
                return found
        given = probe(spec)
        if not given.usable:
            raise InvalidSettings(f"{spec} cannot run the lab: {given.problem}")
        return given
    for found in interpreters:
        if found.name == spec:
            raise InvalidSettings(f"{spec} ({found.path}) cannot run the lab: {found.problem}")
    raise InvalidSettings(f"unknown interpreter {spec!r}; choose one of: {known}")


def gil_environment(interpreter: Interpreter, gil: str | None) -> dict[str, str]:
    """The environment that switches the GIL of a free-threaded build on or off.

    The switch travels as PYTHON_GIL in the environment of the worker, and so of
    every process it starts: `-X gil=1` is not inherited by a child started as
    `python -m ...` (measured on 3.13t: the parent has the GIL, the child not).
    None keeps the build's default. A GIL build has no switch at all.
    """
    if gil is None:
        return {}
    if gil not in GIL_SWITCH:
        raise InvalidSettings(f"--gil must be on or off, not {gil!r}")
    if not interpreter.free_threaded:
        raise InvalidSettings(
            f"{interpreter.name} is not a free-threaded build: it has no GIL switch; "
            "--gil works with free-threaded builds, the names ending in t (such as 3.13t)"
        )
    return {"PYTHON_GIL": GIL_SWITCH[gil]}


def public_choices(
    interpreters: Sequence[Interpreter], env: Mapping[str, str] | None = None
) -> list[Interpreter]:
    """The interpreters a visitor may choose in public mode: only those the host lists.

    The host lists paths in GIL_LAB_PYTHONS (`:`-separated); without it only the
    server's own interpreter may run, the one the host installed and tested.
    """
    env = os.environ if env is None else env
    listed = [str(path) for path in config.paths(env, config.PYTHONS)] or [sys.executable]
    allowed = {file_identity(str(Path(path).expanduser())) for path in listed}
    return [found for found in interpreters if found.usable and file_identity(found.path) in allowed]


def candidate_paths(
    env: Mapping[str, str], *, server: str | None = sys.executable
) -> list[tuple[str, tuple[str, ...]]]:
    """Each distinct Python file once, as (path, sources), the path from the most trusted source.

    Duplicates are the rule (a venv's link, `python3` -> `python3.12`, hard
    links in a build), so files are compared by identity, not by name.
    """
    home = Path(env.get("HOME") or Path.home())
    found: list[tuple[str, str]] = []
    if server:
        found.append((server, "server"))
    for listed in map(str, config.paths(env, config.PYTHONS)):
        if listed:
            found.append((os.path.abspath(Path(listed).expanduser()), "GIL_LAB_PYTHONS"))
    for path_folder in env.get("PATH", "").split(os.pathsep):
        # pyenv's (and similar tools') shims are scripts that pick a Python by the current folder:
        # the versions they point to are probed from their own folders.
        if path_folder and Path(path_folder).name != "shims":
            found += [(path, "PATH") for path in pythons_in(Path(path_folder).absolute())]
    pyenv_root = Path(env.get("PYENV_ROOT") or home / ".pyenv")
    for folder in sorted((pyenv_root / "versions").glob("*/bin")):
        found += [(path, "pyenv") for path in pythons_in(folder)]
    for folder in sorted(uv_python_folder(env, home).glob("*/bin")):
        found += [(path, "uv") for path in pythons_in(folder)]
    cache = config.cache_dir(env, home)
    for folder in sorted(cache.glob("python-*/bin")):
        found += [(path, "lab build") for path in pythons_in(folder)]

    by_identity: dict[object, tuple[str, list[str]]] = {}
    for path, source in found:
        _, sources = by_identity.setdefault(file_identity(path), (path, []))
        if source not in sources:
            sources.append(source)
    return [(path, tuple(sources)) for path, sources in by_identity.values()]


def pythons_in(folder: Path) -> list[str]:
    """`python3`, `python3.X` and `python3.Xt` in one folder (not `-config` or `-gdb.py`).

    The most specific name comes first, so of two links to one file (`python3`
    and `python3.13t`) the one that says what it is names the file.
    """
    try:
        entries = sorted(folder.iterdir(), key=lambda entry: (-len(entry.name), entry.name))
    except OSError:
        return []
    return [str(entry) for entry in entries if PYTHON_FILE_NAME.fullmatch(entry.name) and entry.is_file()]


def uv_python_folder(env: Mapping[str, str], home: Path) -> Path:
    """Where uv keeps the Pythons it manages: uv says so itself, else its documented default."""
    uv = shutil.which("uv", path=env.get("PATH"))
    if uv:
        try:
            answer = subprocess.run(
                [uv, "python", "dir"], capture_output=True, text=True, timeout=PROBE_TIMEOUT_S, env=dict(env)
            )
        except (OSError, subprocess.TimeoutExpired):
            answer = None
        if answer is not None and answer.returncode == 0 and answer.stdout.strip():
            return Path(answer.stdout.strip())
    data_home = Path(env.get("XDG_DATA_HOME") or home / ".local" / "share")
    return Path(env.get("UV_PYTHON_INSTALL_DIR") or data_home / "uv" / "python")


def file_identity(path: str) -> object:
    """The file itself (device, inode) behind symlinks and hard links; a missing file's real path."""
    try:
        status = os.stat(path)
    except OSError:
        return os.path.realpath(path)
    return (status.st_dev, status.st_ino)


def named(probed: Sequence[Interpreter]) -> list[Interpreter]:
    """Usable interpreters sorted and given unique names, then the unusable ones by path.

    Two usable interpreters that share a short name (a venv's 3.11.7 and the
    system's 3.11.2) are told apart: the first among equals (the server's own,
    then by source and path) keeps the short name, each other one gets its full
    version, numbered from -2 when that full version repeats (3.11.7-2).
    """
    usable = sorted((found for found in probed if found.usable), key=_order)
    unusable = sorted((found for found in probed if not found.usable), key=lambda found: found.path)
    names: list[str] = []
    first_of_short_name: dict[str, Interpreter] = {}
    seen_full_names: dict[str, int] = {}
    for found in usable:
        first = first_of_short_name.setdefault(found.short_name, found)
        seen = seen_full_names[found.full_name] = seen_full_names.get(found.full_name, 0) + 1
        if first is found:
            names.append(found.short_name)
        else:
            names.append(found.full_name if seen == 1 else f"{found.full_name}-{seen}")
    return [replace(found, name=name) for found, name in zip(usable, names, strict=True)] + [
        replace(found, name=found.short_name) for found in unusable
    ]


def _order(found: Interpreter) -> tuple[Any, ...]:
    """The listing order: CPython first, by minor version, a GIL build before a free-threaded one.

    Among equals (one short name) the server's own comes first, then by
    source, newest release and path: that one keeps the short name.
    """
    return (
        found.implementation != "CPython",
        found.implementation,
        version_key(found.version)[:2],
        found.free_threaded,
        SOURCES.index(found.sources[0]),
        tuple(-part for part in version_key(found.version)),
        found.path,
    )


def _looks_like_path(spec: str) -> bool:
    return os.sep in spec or bool(os.altsep and os.altsep in spec) or spec.startswith("~")


def _probe(path: str, sources: tuple[str, ...], timeout_s: float, env: Mapping[str, str]) -> Interpreter:
    """Ask the Python at `path` what it is; never raises: what goes wrong becomes its `problem`."""
    answer, problem = _run_probe(path, timeout_s, env)
    unknown = Interpreter("", path, "", "", False, False, None, "", sources, False, problem)
    if "version" not in answer:
        return unknown
    # The last two lines may be missing when the probe crashed after the first one.
    answer = {"subinterpreters": None, "start_method": "", **answer}
    wrong = [name for name, kinds in ANSWER_TYPES.items() if not isinstance(answer.get(name), kinds)]
    if wrong:
        return replace(unknown, problem=f"answered like no Python does (bad {', '.join(wrong)})")
    described = Interpreter(
        name="",
        path=path,
        version=answer["version"],
        implementation=answer["implementation"],
        free_threaded=answer["free_threaded"],
        gil_enabled_by_default=answer["gil_enabled_by_default"],
        subinterpreters=answer["subinterpreters"],
        start_method=answer["start_method"],
        sources=sources,
        usable=False,
        problem=problem,
    )
    if problem is not None:
        return described
    if version_key(described.version) < MIN_VERSION:
        minimum = ".".join(map(str, MIN_VERSION))
        return replace(
            described, problem=f"Python {described.version} is too old: the lab needs {minimum} or newer"
        )
    return replace(described, usable=True)


def _run_probe(path: str, timeout_s: float, env: Mapping[str, str]) -> tuple[dict[str, Any], str | None]:
    """Run the probe under `path`: its answer's fields, and a one-line problem or None.

    The probe runs in its own process group, so a hanging candidate (a script
    that waits, or forks a child that does) is killed whole at the timeout.
    """
    probe_env = {name: value for name, value in env.items() if not name.startswith("PYTHON")}
    try:
        proc = start_child(
            [path, *PROBE_FLAGS, "-c", PROBE_SOURCE],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=probe_env,
        )
    except OSError as exc:
        return {}, f"cannot be run: {exc.strerror or exc}"
    try:
        output, finished = _read_until_exit(proc, timeout_s)
    finally:
        code = end_process_group(proc)
    answer: dict[str, Any] = {}
    other_lines: list[str] = []
    for line in output.decode(errors="replace").splitlines():
        if line.startswith(ANSWER_PREFIX):
            try:
                fields = json.loads(line[len(ANSWER_PREFIX) :])
            except ValueError:
                fields = None
            if isinstance(fields, dict):
                answer.update(fields)
                continue
        if line.strip():
            other_lines.append(line.strip())
    if not finished:
        if len(output) >= PROBE_OUTPUT_LIMIT:
            return answer, f"printed more than {PROBE_OUTPUT_LIMIT // 1024} KiB instead of answering"
        return answer, f"gave no answer within {timeout_s:g} s"
    if "version" in answer:
        return answer, None
    if code != 0:
        return answer, describe_exit(code) + (f": {other_lines[-1][:120]}" if other_lines else "")
    if other_lines:
        return answer, f"is not a Python it seems: it printed {other_lines[0][:80]!r}"
    return answer, "is not a Python it seems: it printed nothing"


def _read_until_exit(proc: subprocess.Popen[bytes], timeout_s: float) -> tuple[bytes, bool]:
    """The child's output until it closes it and exits; False if it ran out of time or space."""
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout_s
    chunks: list[bytes] = []
    size = 0
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        while True:
            remaining = deadline - time.monotonic()
            if size >= PROBE_OUTPUT_LIMIT or remaining <= 0:
                return b"".join(chunks), False
            if not selector.select(remaining):
                continue
            chunk = os.read(proc.stdout.fileno(), PROBE_OUTPUT_LIMIT - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    try:
        proc.wait(timeout=max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        return b"".join(chunks), False
    return b"".join(chunks), True


MISSING_MODULES_SOURCE = (
    "import importlib.util, sys\n"
    "print(','.join(name for name in sys.argv[1:] if importlib.util.find_spec(name) is None))"
)


def missing_modules(
    interpreter: Interpreter, modules: Sequence[str], timeout_s: float = PROBE_TIMEOUT_S
) -> list[str]:
    """Which of `modules` the interpreter cannot import, asked in a short-lived process with the worker's
    environment (so what it finds is what a worker would find)."""
    if not modules:
        return []
    try:
        done = subprocess.run(
            [interpreter.path, "-c", MISSING_MODULES_SOURCE, *modules],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            env=child_env(),
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return list(modules)
    answer = done.stdout.strip()
    return [name for name in answer.split(",") if name] if done.returncode == 0 else list(modules)


@dataclass(frozen=True)
class RunInterpreter:
    """The Python that ran an experiment, as its worker found itself at the end of the run.

    `gil_enabled` is the state in effect at the end: on a free-threaded build
    left to its default, importing a C extension not marked free-threading-safe
    turns the GIL back on mid-run; `gil_setting` ("on", "off" or None) says
    what was asked.
    """

    name: str
    version: str
    implementation: str
    free_threaded: bool
    gil_enabled: bool
    path: str
    gil_setting: str | None = None

    @property
    def gil_reenabled(self) -> bool:
        """A free-threaded build left to its default (no GIL), yet the GIL was on at the end.

        CPython turns the GIL back on when it imports a C extension that does
        not declare itself free-threading-safe, unless PYTHON_GIL=0 forbids it
        (then it only warns): so this can happen with the build's default only.
        """
        return self.free_threaded and self.gil_setting is None and self.gil_enabled

    def describe(self) -> str:
        gil = "GIL on" if self.gil_enabled else "GIL off"
        return f"{self.name} ({self.implementation} {self.version}, {gil})"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunInterpreter:
        return cls(
            name=str(data["name"]),
            version=str(data["version"]),
            implementation=str(data["implementation"]),
            free_threaded=bool(data["free_threaded"]),
            gil_enabled=bool(data["gil_enabled"]),
            path=str(data["path"]),
            gil_setting=data.get("gil_setting"),
        )


@dataclass(frozen=True)
class PythonChoice:
    """An interpreter by name, with the GIL switch of a free-threaded build ("on", "off" or None)."""

    name: str
    gil: str | None = None

    @property
    def label(self) -> str:
        return f"{self.name}:gil={self.gil}" if self.gil else self.name

    @classmethod
    def parse(cls, text: str) -> PythonChoice:
        """'3.13t:gil=off' -> PythonChoice('3.13t', 'off'); a plain name has the build's default."""
        name, _, option = text.strip().partition(":gil=")
        if not name:
            raise InvalidSettings(f"{text!r} names no interpreter; write NAME or NAME:gil=on|off")
        if option and option not in GIL_SETTINGS:
            raise InvalidSettings(f"{text!r}: the GIL switch is gil=on or gil=off")
        return cls(name, option or None)
