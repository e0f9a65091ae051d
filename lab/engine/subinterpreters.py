"""A pool of subinterpreters, each with its own GIL, driven by one OS thread each.

Since CPython 3.12 an isolated subinterpreter has its own GIL, so pure-Python
work in two of them runs on two cores inside one process: the middle ground
between threads (one GIL) and processes (one interpreter per process). The
module that creates them is private and differs by version:

- 3.12 `_xxsubinterpreters`: `create(isolated=True)`, `run_string(id, code, shared)`
  raises `RunFailedError` on an uncaught exception.
- 3.13 `_interpreters`: `create("isolated")`, `exec(id, code, shared)` returns
  an exception snapshot (or None) instead of raising.
- 3.14+ `concurrent.interpreters` (public): `create()`, `prepare_main(**shared)`,
  `exec(code)` raises `ExecutionFailed`, `close()`.

Only strings, bytes and ints cross between interpreters here. Arguments go in
as JSON text; each result comes back through a per-worker unnamed temporary
file the subinterpreter writes with `os.pwrite`, read by the driving thread once
the call returns (a pipe would block a large result with no reader running).

What works inside (measured on 3.12.1, 3.13.0 and 3.13.5t): pure Python,
`time` (perf_counter, thread_time, sleep), `hashlib`, `json`, sockets, `ssl`,
`subprocess`, non-daemon threads. What does not: `os.fork` and so
multiprocessing ("fork not supported for isolated subinterpreters"), daemon
threads, extension modules without multi-phase init (`readline`, `curses`,
`_tkinter`; on 3.12 also `_ctypes`, `_decimal`, `_datetime`, `pyexpat`), and on
3.12.1 `asyncio.run`, which corrupts the heap (the process aborts at exit).

Standard library only: the experiment's worker imports this module, and every
subinterpreter imports it again to serve its calls (see `CallServer`).
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import queue
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

from lab.core.errors import InvalidSettings, LabError

RESULT = b"R"
ERROR = b"E"
# The module each Python uses, newest first; each needs CPython 3.12 or newer.
BACKEND_MODULES = ("concurrent.interpreters", "_interpreters", "_xxsubinterpreters")
# Run once in each new subinterpreter: make the lab importable and load the function.
SETUP_CODE = f"""
import json, sys
sys.path[:] = json.loads(sys_path_json)
from {__name__} import CallServer
call_server = CallServer(module_name, function_name, result_fd)
"""
CALL_CODE = "call_server.call(args_json)"


def available() -> str | None:
    """None if this Python can run the pool, else one line saying which Pythons can."""
    return None if _backend_module() is not None else _unavailable_reason()


def _unavailable_reason() -> str:
    python = f"{platform.python_implementation()} {platform.python_version()}"
    return (
        f"{python} cannot run tasks in subinterpreters with their own GIL: that needs CPython 3.12 "
        "or newer (GIL builds, or free-threaded builds such as 3.13t)"
    )


def run_calls(
    workers: int,
    module: str,
    function: str,
    calls: Sequence[Sequence[object]],
    on_result: Callable[[int, str], None],
    *,
    on_error: Callable[[int, str], None],
) -> int:
    """Call `module.function(*args)` for every args in `calls`, in `workers` subinterpreters.

    Each subinterpreter has its own GIL and its own driving OS thread; the
    threads take call indexes from one shared queue. The function must return a
    string (the lab's measuring function returns its span as JSON). For each
    call either `on_result(index, text)` or `on_error(index, one_line)` runs,
    in the driving thread (the caller locks whatever they share). A call that
    raises, or a subinterpreter that cannot import the function, is an error of
    those calls only. Returns the number of workers used. A running call
    cannot be interrupted: ending the worker's process is what stops one.

    Raises InvalidSettings if this Python has no such subinterpreters, LabError
    if a subinterpreter cannot be created or run at all, and whatever a callback
    raises; calls not yet run then report nothing. Every subinterpreter is
    destroyed on every path.
    """
    backend_module = _backend_module()
    if backend_module is None:
        raise InvalidSettings(_unavailable_reason())
    backend = _Backend(backend_module)
    if workers < 1:
        raise InvalidSettings(f"subinterpreter workers must be at least 1, not {workers}")
    args_json = [json.dumps(list(args)) for args in calls]  # not JSON-able: a TypeError before any start
    _preload(module)
    pending: queue.SimpleQueue[int] = queue.SimpleQueue()
    for index in range(len(calls)):
        pending.put(index)
    used = min(workers, len(calls))
    failures: list[BaseException] = []
    stop = threading.Event()

    def drive() -> None:
        try:
            _drive_one(backend, module, function, args_json, pending, stop, on_result, on_error)
        except BaseException as exc:  # raised in the caller's thread below, after every join
            failures.append(exc)
            stop.set()

    threads = [threading.Thread(target=drive, name=f"subinterpreter-{number}") for number in range(used)]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            thread.join()
    finally:
        # Ctrl-C while joining: no new call starts, and each thread destroys its interpreter.
        stop.set()
        for thread in threads:
            thread.join()
    if failures:
        raise failures[0]
    return used


class CallServer:
    """The side of the pool that lives inside a subinterpreter: loads the function, serves calls.

    It is built once per subinterpreter by SETUP_CODE and called by CALL_CODE;
    whatever happens, each call writes exactly one answer to `result_fd`.
    """

    def __init__(self, module_name: str, function_name: str, result_fd: int) -> None:
        self.result_fd = result_fd
        self.function: Callable[..., object] | None = None
        self.load_error: str | None = None
        try:
            self.function = getattr(importlib.import_module(module_name), function_name)
        except BaseException as exc:  # reported for every call this subinterpreter takes
            self.load_error = (
                f"cannot load {module_name}.{function_name} in a subinterpreter: {_describe(exc)}"
            )

    def call(self, args_json: str) -> None:
        kind, text = ERROR, self.load_error or ""
        if self.function is not None:
            try:
                value = self.function(*json.loads(args_json))
                if isinstance(value, str):
                    kind, text = RESULT, value
                else:
                    text = f"the function returned {type(value).__name__}, not a JSON string"
            except BaseException as exc:  # an error of this call, not of the pool
                text = _describe(exc)
        data = kind + text.encode("utf-8", "backslashreplace")
        os.ftruncate(self.result_fd, 0)
        written = 0
        while written < len(data):
            written += os.pwrite(self.result_fd, data[written:], written)


def _drive_one(
    backend: _Backend,
    module: str,
    function: str,
    args_json: list[str],
    pending: queue.SimpleQueue[int],
    stop: threading.Event,
    on_result: Callable[[int, str], None],
    on_error: Callable[[int, str], None],
) -> None:
    """One worker: create a subinterpreter, serve calls from `pending` until empty, destroy it."""
    with tempfile.TemporaryFile() as result_file:
        handle = backend.create()
        try:
            setup = {
                "sys_path_json": json.dumps([str(folder) for folder in sys.path]),
                "module_name": module,
                "function_name": function,
                "result_fd": result_file.fileno(),
            }
            backend.run(handle, SETUP_CODE, setup)
            while not stop.is_set():
                try:
                    index = pending.get_nowait()
                except queue.Empty:
                    return
                backend.run(handle, CALL_CODE, {"args_json": args_json[index]})
                answer = _read_all(result_file.fileno())
                text = answer[1:].decode("utf-8", "replace")
                if answer[:1] == RESULT:
                    on_result(index, text)
                else:
                    on_error(index, text)
        finally:
            backend.destroy(handle)


class _Backend:
    """Create, run in and destroy a subinterpreter with its own GIL, whatever the version's API."""

    def __init__(self, module: ModuleType) -> None:
        self.module = module
        self.name = module.__name__

    def create(self) -> Any:
        if self.name == "concurrent.interpreters":
            return self.module.create()  # isolated, with its own GIL, by default
        if self.name == "_interpreters":
            return self.module.create("isolated")  # the config with gil="own"
        return self.module.create(isolated=True)

    def run(self, handle: Any, code: str, shared: dict[str, object]) -> None:
        """Run `code` in the subinterpreter's __main__, with `shared` bound there first.

        CallServer catches every exception of a call, so one escaping here is the
        pool's own failure (say, the lab not importable): a LabError.
        """
        if self.name == "concurrent.interpreters":
            handle.prepare_main(shared)
            try:
                handle.exec(code)
            except self.module.ExecutionFailed as exc:  # str(): "ValueError: ...", then a traceback
                raise LabError(f"a subinterpreter failed: {_first_line(str(exc))}") from None
        elif self.name == "_interpreters":
            failure = self.module.exec(handle, code, shared)
            if failure is not None:
                raise LabError(f"a subinterpreter failed: {_first_line(failure.formatted)}")
        else:
            try:
                self.module.run_string(handle, code, shared)
            except self.module.RunFailedError as exc:  # str(): "<class 'ValueError'>: ..."
                raise LabError(f"a subinterpreter failed: {_first_line(str(exc))}") from None

    def destroy(self, handle: Any) -> None:
        if self.name == "concurrent.interpreters":
            handle.close()
        else:
            self.module.destroy(handle)


def _backend_module() -> ModuleType | None:
    """The module that makes subinterpreters with their own GIL here, or None before 3.12."""
    if sys.implementation.name != "cpython" or sys.version_info < (3, 12):
        return None  # 3.8-3.11 ship _xxsubinterpreters too, but all their interpreters share one GIL
    for name in BACKEND_MODULES:
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    return None


def _preload(module: str) -> None:
    """Import `module` in the main interpreter before any subinterpreter does.

    On 3.12.1 a module that a subinterpreter with its own GIL imports first
    (`hashlib`, `_asyncio`, ...) corrupts the heap, and the process aborts at
    exit ("free(): invalid pointer") although every call succeeded. Imported
    by the main interpreter first, the same modules are safe. If the import
    fails here, each subinterpreter fails the same way and reports it per call.
    """
    try:
        importlib.import_module(module)
    except Exception:
        return


def _read_all(fd: int) -> bytes:
    size = os.fstat(fd).st_size
    chunks: list[bytes] = []
    offset = 0
    while offset < size:
        chunk = os.pread(fd, size - offset, offset)
        if not chunk:
            break
        chunks.append(chunk)
        offset += len(chunk)
    return b"".join(chunks)


def _describe(exc: BaseException) -> str:
    """`ValueError: message`: errors travel as one line a person reads."""
    message = _first_line(str(exc))
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def _first_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[0].strip() if lines else ""
