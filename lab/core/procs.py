"""Starting and ending child processes: the one kill-and-reap path every run uses.

Each child starts in its own session, so its process group holds everything
it starts (pool workers, resource trackers, forkservers). Ending the group and
reaping the child is the only way a run ends: done, error, cancel, rerun,
Ctrl-C or a closed browser tab all come through `end_process_group`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The caller's environment, with this checkout importable and output unbuffered.

    The caller's working folder comes after the checkout on the path, as it
    would for `python -m` run there: a person's `mymod:work` in the folder
    they ran the lab from imports in every child the same way.
    """
    env = dict(os.environ)
    folders = [str(REPO_ROOT)]
    with contextlib.suppress(OSError):
        if os.getcwd() != str(REPO_ROOT):
            folders.append(os.getcwd())
    if env.get("PYTHONPATH"):
        folders.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(folders)
    env["PYTHONUNBUFFERED"] = "1"
    if extra:
        env.update(extra)
    return env


def start_child(
    args: Sequence[str],
    *,
    pass_fds: Sequence[int] = (),
    stdin: int | None = subprocess.DEVNULL,
    stdout: int | None = subprocess.DEVNULL,
    stderr: int | None = subprocess.PIPE,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """Start `args` as the leader of a new process group, with this repo on its path."""
    return subprocess.Popen(
        list(args),
        cwd=REPO_ROOT,
        env=env or child_env(),
        stdin=stdin,
        stdout=stdout,
        stderr=stderr,
        pass_fds=tuple(pass_fds),
        start_new_session=True,
    )


def python_module_args(module: str, *args: str, python: str | None = None) -> list[str]:
    return [python or sys.executable, "-m", module, *args]


def end_process_group(proc: subprocess.Popen[bytes], grace_s: float = 0.0) -> int | None:
    """Kill the child's whole process group and reap the child. Never raises; idempotent.

    With `grace_s` > 0 the group first gets SIGTERM and that long to exit.
    Returns the child's exit code (negative for a signal), or None if unknown.
    """
    pgid = proc.pid  # the child leads its own group (start_new_session=True)
    if grace_s > 0 and proc.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=grace_s)
    # Grandchildren may outlive the leader, so the group is signalled even if it exited.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
    try:
        code: int | None = proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        code = None
    wait_for_group_exit(pgid)
    for stream in (proc.stdout, proc.stderr, proc.stdin):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()
    return code


def wait_for_group_exit(pgid: int, timeout_s: float = 2.0) -> bool:
    """SIGKILL is delivered asynchronously: wait until no member of the group is still running."""
    deadline = time.monotonic() + timeout_s
    while group_members(pgid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def group_members(pgid: int) -> list[int]:
    """Pids still alive in a process group (Linux /proc); for tests and diagnostics."""
    members: list[int] = []
    if not Path("/proc").is_dir():
        return members
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        state, group = fields[0], int(fields[2])
        if group == pgid and state != "Z":
            members.append(int(entry.name))
    return members


def set_parent_death_signal() -> None:
    """Ask Linux to SIGKILL this process when its parent dies, so no orphan keeps running."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_pdeathsig = 1
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)


def tie_to_parent(parent_pid: int) -> None:
    """Die with `parent_pid`, the process that started this one; exit at once if it is already gone.

    The death signal alone has a gap: a parent that dies before the child asks
    for it never sends it, and the child would run on as an orphan.
    """
    set_parent_death_signal()
    if os.getppid() != parent_pid:
        os._exit(1)


def describe_exit(code: int | None) -> str:
    """How a child ended, for a person: "exit status 1" or "killed by SIGKILL"."""
    if code is None:
        return "exit status unknown"
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-code).name}"
        return f"killed by signal {-code}"
    return f"exit status {code}"


def stderr_tail(path: Path, max_bytes: int = 4000) -> str:
    """The last line a child wrote to its stderr file: usually the exception that ended it."""
    try:
        data = path.read_bytes()[-max_bytes:]
    except OSError:
        return ""
    lines = [line.strip() for line in data.decode(errors="replace").splitlines() if line.strip()]
    return lines[-1] if lines else ""


def raise_open_file_limit() -> int | None:
    """Lift the soft open-file limit to the hard one: each connection costs a descriptor."""
    try:
        import resource
    except ImportError:
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            return soft
        return hard
    return soft
